#include "transports/usbip_protocol.h"

#include <algorithm>

namespace vauth::transport::usbip {
namespace {

void put_u8(Bytes& out, uint8_t v) { out.push_back(v); }
void put_i32_be(Bytes& out, int32_t v) { put_u32_be(out, static_cast<uint32_t>(v)); }
int32_t get_i32_be(const uint8_t* p) { return static_cast<int32_t>(get_u32_be(p)); }

// A fixed-size, NUL-padded string field; always keeps at least one NUL.
void put_fixed_string(Bytes& out, const std::string& s, size_t size) {
  const size_t n = std::min(s.size(), size - 1);
  out.insert(out.end(), s.begin(), s.begin() + static_cast<ptrdiff_t>(n));
  out.insert(out.end(), size - n, 0);
}

// The text up to the first NUL of a fixed-size field.
std::string get_fixed_string(const uint8_t* p, size_t size) {
  const uint8_t* end = std::find(p, p + size, uint8_t{0});
  return std::string(p, end);
}

void put_basic(Bytes& out, const UrbBasic& b) {
  put_u32_be(out, b.command);
  put_u32_be(out, b.seqnum);
  put_u32_be(out, b.devid);
  put_u32_be(out, b.direction);
  put_u32_be(out, b.ep);
}

UrbBasic get_basic(const uint8_t* p) {
  return UrbBasic{get_u32_be(p), get_u32_be(p + 4), get_u32_be(p + 8), get_u32_be(p + 12),
                  get_u32_be(p + 16)};
}

template <typename T>
Parsed<T> need_more() {
  return Parsed<T>{};
}

template <typename T>
Parsed<T> fail(std::string why) {
  Parsed<T> r;
  r.status = ParseStatus::kError;
  r.error = std::move(why);
  return r;
}

template <typename T>
Parsed<T> done(T message, size_t consumed) {
  Parsed<T> r;
  r.status = ParseStatus::kDone;
  r.message = std::move(message);
  r.consumed = consumed;
  return r;
}

constexpr size_t kBasicSize = 20;        // command, seqnum, devid, direction, ep
constexpr size_t kUnlinkPadding = 24;    // after unlink_seqnum / status
constexpr size_t kMaxEndpoint = 15;

}  // namespace

void encode_op_header(Bytes& out, const OpHeader& h) {
  put_u16_be(out, h.version);
  put_u16_be(out, h.code);
  put_u32_be(out, h.status);
}

void encode_device_record(Bytes& out, const DeviceRecord& d, bool with_interfaces) {
  put_fixed_string(out, d.path, kPathSize);
  put_fixed_string(out, d.busid, kBusIdSize);
  put_u32_be(out, d.busnum);
  put_u32_be(out, d.devnum);
  put_u32_be(out, d.speed);
  put_u16_be(out, d.id_vendor);
  put_u16_be(out, d.id_product);
  put_u16_be(out, d.bcd_device);
  put_u8(out, d.device_class);
  put_u8(out, d.device_subclass);
  put_u8(out, d.device_protocol);
  put_u8(out, d.configuration_value);
  put_u8(out, d.num_configurations);
  put_u8(out, static_cast<uint8_t>(d.interfaces.size()));
  if (!with_interfaces) return;
  for (const InterfaceRecord& i : d.interfaces) {
    put_u8(out, i.interface_class);
    put_u8(out, i.interface_subclass);
    put_u8(out, i.interface_protocol);
    put_u8(out, 0);  // padding
  }
}

Bytes encode_devlist_reply(const std::vector<DeviceRecord>& devices) {
  Bytes out;
  encode_op_header(out, OpHeader{kVersion, kOpRepDevlist, kStatusOk});
  put_u32_be(out, static_cast<uint32_t>(devices.size()));
  for (const DeviceRecord& d : devices) encode_device_record(out, d, true);
  return out;
}

Bytes encode_import_reply(uint32_t status, const DeviceRecord* device) {
  Bytes out;
  encode_op_header(out, OpHeader{kVersion, kOpRepImport, status});
  if (status == kStatusOk && device) encode_device_record(out, *device, false);
  return out;
}

Bytes encode_devlist_request() {
  Bytes out;
  encode_op_header(out, OpHeader{kVersion, kOpReqDevlist, kStatusOk});
  return out;
}

Bytes encode_import_request(const std::string& busid) {
  Bytes out;
  encode_op_header(out, OpHeader{kVersion, kOpReqImport, kStatusOk});
  put_fixed_string(out, busid, kBusIdSize);
  return out;
}

Bytes encode(const CmdSubmit& c) {
  Bytes out;
  UrbBasic basic = c.basic;
  basic.command = kCmdSubmit;
  put_basic(out, basic);
  put_u32_be(out, c.transfer_flags);
  put_u32_be(out, c.transfer_buffer_length);
  put_i32_be(out, c.start_frame);
  put_i32_be(out, c.number_of_packets);
  put_i32_be(out, c.interval);
  out.insert(out.end(), c.setup.begin(), c.setup.end());
  if (basic.direction == kDirOut) append(out, c.data);
  return out;
}

Bytes encode(const CmdUnlink& c) {
  Bytes out;
  UrbBasic basic = c.basic;
  basic.command = kCmdUnlink;
  put_basic(out, basic);
  put_u32_be(out, c.unlink_seqnum);
  out.insert(out.end(), kUnlinkPadding, 0);
  return out;
}

// devid, direction and ep are 0 in replies, as the Linux stub driver sends them.
Bytes encode(const RetSubmit& r) {
  Bytes out;
  put_basic(out, UrbBasic{kRetSubmit, r.seqnum, 0, 0, 0});
  put_i32_be(out, r.status);
  put_u32_be(out, r.actual_length.value_or(static_cast<uint32_t>(r.data.size())));
  put_i32_be(out, r.start_frame);
  put_i32_be(out, 0);  // number_of_packets: not isochronous
  put_i32_be(out, r.error_count);
  out.insert(out.end(), 8, 0);  // padding where CMD_SUBMIT has the setup packet
  append(out, r.data);
  return out;
}

Bytes encode(const RetUnlink& r) {
  Bytes out;
  put_basic(out, UrbBasic{kRetUnlink, r.seqnum, 0, 0, 0});
  put_i32_be(out, r.status);
  out.insert(out.end(), kUnlinkPadding, 0);
  return out;
}

Parsed<OpRequest> parse_op_request(ByteView s) {
  if (s.size() < kOpHeaderSize) return need_more<OpRequest>();
  OpRequest req;
  req.header = OpHeader{get_u16_be(s.data()), get_u16_be(s.data() + 2), get_u32_be(s.data() + 4)};
  if (req.header.version != kVersion) return fail<OpRequest>("unsupported USB/IP version");
  switch (req.header.code) {
    case kOpReqDevlist:
      return done(std::move(req), kOpHeaderSize);
    case kOpReqImport:
      if (s.size() < kOpHeaderSize + kBusIdSize) return need_more<OpRequest>();
      req.busid = get_fixed_string(s.data() + kOpHeaderSize, kBusIdSize);
      return done(std::move(req), kOpHeaderSize + kBusIdSize);
    default:
      return fail<OpRequest>("unknown operation code");
  }
}

Parsed<UrbCommand> parse_urb_command(ByteView s) {
  if (s.size() < kUrbHeaderSize) return need_more<UrbCommand>();
  const uint8_t* p = s.data();
  const UrbBasic basic = get_basic(p);
  if (basic.direction != kDirOut && basic.direction != kDirIn) return fail<UrbCommand>("bad direction");
  if (basic.ep > kMaxEndpoint) return fail<UrbCommand>("bad endpoint");
  const uint8_t* u = p + kBasicSize;
  if (basic.command == kCmdUnlink) {
    return done(UrbCommand{CmdUnlink{basic, get_u32_be(u)}}, kUrbHeaderSize);
  }
  if (basic.command != kCmdSubmit) return fail<UrbCommand>("unknown URB command");

  CmdSubmit c;
  c.basic = basic;
  c.transfer_flags = get_u32_be(u);
  c.transfer_buffer_length = get_u32_be(u + 4);
  c.start_frame = get_i32_be(u + 8);
  c.number_of_packets = get_i32_be(u + 12);
  c.interval = get_i32_be(u + 16);
  std::copy(u + 20, u + 28, c.setup.begin());
  // The length is checked before anything is buffered for it: this is the
  // bound on what a peer can make us hold.
  if (c.transfer_buffer_length > kMaxTransferLength) return fail<UrbCommand>("transfer buffer too long");
  if (c.number_of_packets != 0 && c.number_of_packets != kNonIsoPackets) {
    return fail<UrbCommand>("isochronous packets on a non-isochronous device");
  }
  size_t total = kUrbHeaderSize;
  if (basic.direction == kDirOut) {
    total += c.transfer_buffer_length;
    if (s.size() < total) return need_more<UrbCommand>();
    c.data.assign(p + kUrbHeaderSize, p + total);
  }
  return done(UrbCommand{std::move(c)}, total);
}

Parsed<UrbReply> parse_urb_reply(ByteView s, const std::function<bool(uint32_t)>& is_in) {
  if (s.size() < kUrbHeaderSize) return need_more<UrbReply>();
  const uint8_t* p = s.data();
  UrbReply r;
  r.basic = get_basic(p);
  r.status = get_i32_be(p + kBasicSize);
  if (r.basic.command == kRetUnlink) return done(std::move(r), kUrbHeaderSize);
  if (r.basic.command != kRetSubmit) return fail<UrbReply>("unknown URB reply");
  r.actual_length = get_u32_be(p + kBasicSize + 4);
  if (get_i32_be(p + kBasicSize + 12) > 0) return fail<UrbReply>("isochronous packets");
  size_t total = kUrbHeaderSize;
  if (is_in && is_in(r.basic.seqnum)) {
    if (r.actual_length > kMaxTransferLength) return fail<UrbReply>("transfer buffer too long");
    total += r.actual_length;
    if (s.size() < total) return need_more<UrbReply>();
    r.data.assign(p + kUrbHeaderSize, p + total);
  }
  return done(std::move(r), total);
}

}  // namespace vauth::transport::usbip
