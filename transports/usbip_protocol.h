// The USB/IP wire format (Linux Documentation/usb/usbip_protocol.rst): the
// operation messages exchanged before import (OP_REQ/REP_DEVLIST,
// OP_REQ/REP_IMPORT) and the 48-byte URB headers exchanged after it
// (CMD/RET_SUBMIT, CMD/RET_UNLINK). Every integer is big-endian; only the
// 8-byte SETUP packet inside CMD_SUBMIT keeps USB's little-endian layout.
//
// Parsing is separate from the session logic so that it can be fuzzed alone:
// the parsers look at the front of a byte stream and say "need more", "here is
// one message of N bytes", or "malformed" — and they bound every length field,
// so a hostile peer can never make the caller buffer more than
// kUrbHeaderSize + kMaxTransferLength bytes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "vauth/base/bytes.h"

namespace vauth::transport::usbip {

constexpr uint16_t kVersion = 0x0111;
// Operation codes.
constexpr uint16_t kOpReqDevlist = 0x8005, kOpRepDevlist = 0x0005;
constexpr uint16_t kOpReqImport = 0x8003, kOpRepImport = 0x0003;
constexpr uint32_t kStatusOk = 0, kStatusError = 1;
// URB commands.
constexpr uint32_t kCmdSubmit = 1, kCmdUnlink = 2, kRetSubmit = 3, kRetUnlink = 4;
constexpr uint32_t kDirOut = 0, kDirIn = 1;
// Linux usb_device_speed.
constexpr uint32_t kSpeedFull = 2;
// Negative errno values carried in RET_SUBMIT / RET_UNLINK status.
constexpr int32_t kEpipe = -32;        // STALL
constexpr int32_t kEnomem = -12;       // too many URBs queued
constexpr int32_t kEconnreset = -104;  // unlinked before completion

constexpr size_t kOpHeaderSize = 8;
constexpr size_t kBusIdSize = 32;
constexpr size_t kPathSize = 256;
constexpr size_t kDeviceRecordSize = 312;  // without the interface records
constexpr size_t kInterfaceRecordSize = 4;
constexpr size_t kUrbHeaderSize = 48;
// The largest transfer buffer accepted (OUT data is buffered before use). A
// control transfer's wLength is at most 65535, so this refuses nothing real.
constexpr size_t kMaxTransferLength = 64 * 1024;
// number_of_packets of a non-isochronous URB: Linux sends 0, the current
// protocol document says 0xffffffff; both are accepted.
constexpr int32_t kNonIsoPackets = -1;

// ---- operations (before import) ----

struct OpHeader {
  uint16_t version = kVersion;
  uint16_t code = 0;
  uint32_t status = 0;
};

struct InterfaceRecord {
  uint8_t interface_class = 0;
  uint8_t interface_subclass = 0;
  uint8_t interface_protocol = 0;
};

// struct usbip_usb_device, plus its interfaces for OP_REP_DEVLIST.
struct DeviceRecord {
  std::string path;   // at most 255 bytes are sent (NUL padded to 256)
  std::string busid;  // at most 31 bytes are sent (NUL padded to 32)
  uint32_t busnum = 0;
  uint32_t devnum = 0;
  uint32_t speed = kSpeedFull;
  uint16_t id_vendor = 0;
  uint16_t id_product = 0;
  uint16_t bcd_device = 0;
  uint8_t device_class = 0;
  uint8_t device_subclass = 0;
  uint8_t device_protocol = 0;
  uint8_t configuration_value = 1;
  uint8_t num_configurations = 1;
  std::vector<InterfaceRecord> interfaces;  // bNumInterfaces = interfaces.size()
};

// A request from the client; `busid` is set for OP_REQ_IMPORT (NULs stripped).
struct OpRequest {
  OpHeader header;
  std::string busid;
};

void encode_op_header(Bytes& out, const OpHeader& header);
// The 312-byte device record, followed by the 4-byte interface records when
// `with_interfaces` (OP_REP_DEVLIST has them, OP_REP_IMPORT does not).
void encode_device_record(Bytes& out, const DeviceRecord& device, bool with_interfaces);
Bytes encode_devlist_reply(const std::vector<DeviceRecord>& devices);
// Status kStatusOk carries the device record; any other status carries nothing.
Bytes encode_import_reply(uint32_t status, const DeviceRecord* device);
Bytes encode_devlist_request();
Bytes encode_import_request(const std::string& busid);

// ---- URBs (after import) ----

struct UrbBasic {
  uint32_t command = 0;
  uint32_t seqnum = 0;
  uint32_t devid = 0;  // (busnum << 16) | devnum
  uint32_t direction = kDirOut;
  uint32_t ep = 0;  // endpoint number, 0-15, without the direction bit
};

struct CmdSubmit {
  UrbBasic basic;
  uint32_t transfer_flags = 0;
  uint32_t transfer_buffer_length = 0;  // validated <= kMaxTransferLength
  int32_t start_frame = 0;
  int32_t number_of_packets = 0;  // validated: 0 or kNonIsoPackets
  int32_t interval = 0;
  std::array<uint8_t, 8> setup{};
  Bytes data;  // the OUT transfer buffer (transfer_buffer_length bytes); empty for IN
};

struct CmdUnlink {
  UrbBasic basic;
  uint32_t unlink_seqnum = 0;
};

using UrbCommand = std::variant<CmdSubmit, CmdUnlink>;

struct RetSubmit {
  uint32_t seqnum = 0;
  int32_t status = 0;
  int32_t start_frame = 0;
  int32_t error_count = 0;
  Bytes data;  // IN data; actual_length = data.size() unless `actual_length` is set
  std::optional<uint32_t> actual_length;  // OUT transfers report bytes taken, send none
};

struct RetUnlink {
  uint32_t seqnum = 0;  // the CMD_UNLINK's own seqnum
  int32_t status = 0;
};

// The host→device encoders exist for tests, the fuzzer's seeds and clients.
Bytes encode(const CmdSubmit& cmd);
Bytes encode(const CmdUnlink& cmd);
Bytes encode(const RetSubmit& ret);
Bytes encode(const RetUnlink& ret);

// ---- parsing the front of a stream ----

enum class ParseStatus { kNeedMore, kDone, kError };

template <typename T>
struct Parsed {
  ParseStatus status = ParseStatus::kNeedMore;
  T message{};
  size_t consumed = 0;  // bytes of the stream the message took (kDone only)
  std::string error;    // why the stream is malformed (kError only)
};

// OP_REQ_DEVLIST or OP_REQ_IMPORT. Other codes and other versions are errors.
Parsed<OpRequest> parse_op_request(ByteView stream);
// CMD_SUBMIT (with its OUT data) or CMD_UNLINK. Replies, unknown commands,
// directions other than 0/1, endpoints above 15, transfer buffers above
// kMaxTransferLength and isochronous packets are errors.
Parsed<UrbCommand> parse_urb_command(ByteView stream);

// Server→client messages, for clients and tests: RET_SUBMIT or RET_UNLINK.
// RET_SUBMIT carries actual_length data bytes only for IN URBs, which the
// header does not say: `is_in(seqnum)` answers from the client's own records.
struct UrbReply {
  UrbBasic basic;
  int32_t status = 0;
  uint32_t actual_length = 0;
  Bytes data;
};
Parsed<UrbReply> parse_urb_reply(ByteView stream, const std::function<bool(uint32_t)>& is_in);

}  // namespace vauth::transport::usbip
