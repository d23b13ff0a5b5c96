// One USB/IP connection as a pure state machine: bytes from the client go in
// (consume), bytes for the client come out (take_output). The Asio server only
// moves bytes between a socket and this class, so unit tests and the fuzzer
// drive exactly the logic that serves the kernel's vhci-hcd.
//
// Before import the session answers OP_REQ_DEVLIST and OP_REQ_IMPORT; after a
// successful import it serves URBs for that device: endpoint 0 control
// transfers from the descriptors in usb_descriptors.h, interrupt OUT reports
// into the HidEndpoint, and the endpoint's input reports out through the
// interrupt IN URBs the host keeps posted.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transports/hid_endpoint.h"
#include "transports/usbip_protocol.h"
#include "transports/usb_descriptors.h"

namespace vauth::transport {

// The devices a server exports, and which of them a session has imported (a
// USB device has one host at a time).
class UsbipDeviceTable {
 public:
  struct Claim {
    HidEndpoint* endpoint = nullptr;
    usbip::DeviceRecord record;
  };

  // Exports `endpoint` as bus ID "1-<n>", devnum n, with n one more than the
  // highest number exported so far (1, 2, ...); returns its position.
  size_t add(HidEndpoint& endpoint);
  // Exports `endpoint` as bus ID "1-<number>" (number >= 1, not in use).
  // Throws std::invalid_argument otherwise.
  size_t add(HidEndpoint& endpoint, uint32_t number);
  // Stops exporting `endpoint` (it leaves the devlist). Sessions that imported it
  // must be closed first (UsbipServer does). Returns its bus ID, or "" if not exported.
  std::string remove(const HidEndpoint& endpoint);
  size_t size() const { return entries_.size(); }
  // The bus ID of the device at `index` (its position in export order).
  std::string busid(size_t index) const;
  // The bus ID under which `endpoint` is exported, or "".
  std::string busid_of(const HidEndpoint& endpoint) const;
  // Every exported device, imported or not (as usbipd lists them).
  std::vector<usbip::DeviceRecord> records() const;
  // Marks the device imported; nullopt if the bus ID is unknown or already imported.
  std::optional<Claim> claim(std::string_view busid);
  void release(std::string_view busid);

 private:
  struct Entry {
    HidEndpoint* endpoint;
    uint32_t number;  // bus ID "1-<number>", devnum
    bool imported = false;
  };
  usbip::DeviceRecord record(size_t index) const;
  std::vector<Entry> entries_;
};

struct UsbipSessionLimits {
  // IN URBs held waiting for a report; usbhid keeps one posted. Beyond this a
  // new IN URB fails at once with -ENOMEM rather than growing the queue.
  size_t max_pending_in = 32;
  // Input reports held while no IN URB is posted (hidraw closed); the oldest
  // is dropped beyond this. 256 reports hold more than one maximal CTAPHID message.
  size_t max_queued_reports = 256;
};

class UsbipSession {
 public:
  // Called when output appears outside consume() (an input report completed a
  // pending IN URB): the connection should call take_output() and send it.
  using Wake = std::function<void()>;
  using Limits = UsbipSessionLimits;

  UsbipSession(UsbipDeviceTable& devices, Wake wake = {}, Limits limits = {});
  ~UsbipSession();  // close()
  UsbipSession(const UsbipSession&) = delete;
  UsbipSession& operator=(const UsbipSession&) = delete;

  // Feeds bytes received from the client, answering every complete message.
  // Returns false once the session is closed (a malformed message closes it:
  // there is no way to resynchronise a USB/IP stream); the caller drops the connection.
  bool consume(ByteView data);
  // Everything produced so far, in order; taking clears it.
  Bytes take_output();
  size_t output_size() const { return out_.size(); }

  // The connection ended: detaches the endpoint, tells it the host went away and
  // makes the bus ID importable again. Idempotent.
  void close();
  bool closed() const { return closed_; }
  bool imported() const { return endpoint_ != nullptr; }
  // The bus ID this session imported ("" before an import and after close()).
  const std::string& imported_busid() const { return busid_; }
  // Why the session closed itself (empty if it did not).
  const std::string& error() const { return error_; }
  size_t pending_in_urbs() const { return pending_in_.size(); }
  size_t queued_reports() const { return queued_reports_.size(); }

 private:
  struct PendingIn {
    uint32_t seqnum;
    uint32_t length;
  };
  struct ControlResult {
    int32_t status = 0;
    Bytes data;
    std::optional<Bytes> output_report;  // a SET_REPORT's payload, fed after the reply
  };

  void fail(std::string why);
  void handle_op(const usbip::OpRequest& request);
  void handle_import(const std::string& busid);
  void handle_submit(const usbip::CmdSubmit& cmd);
  void handle_unlink(const usbip::CmdUnlink& cmd);
  ControlResult handle_control(const usb::SetupPacket& setup, ByteView out_data);
  std::optional<Bytes> get_descriptor(const usb::SetupPacket& setup) const;
  void feed_output_reports(ByteView data);
  void on_input_report(const Report& report);
  void complete_in(const PendingIn& urb, const Report& report);
  void reply(const usbip::RetSubmit& ret);

  UsbipDeviceTable& devices_;
  Wake wake_;
  Limits limits_;
  Bytes in_;    // received, not yet parsed
  Bytes out_;   // produced, not yet taken
  bool closed_ = false;
  std::string error_;
  HidEndpoint* endpoint_ = nullptr;  // set while imported
  std::string busid_;
  uint8_t configuration_ = 0;
  std::deque<PendingIn> pending_in_;
  std::deque<Report> queued_reports_;
};

}  // namespace vauth::transport
