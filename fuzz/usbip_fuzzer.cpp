// Feeds arbitrary bytes to the USB/IP parsers and to a UsbipSession — the same
// state machine the server runs for every TCP connection.
//
// Input: one control byte, then the client's byte stream. Control bit 0
// prepends a valid OP_REQ_IMPORT so the URB parser and the device logic are
// reached at once; bit 1 makes the fake endpoint echo each output report (so
// IN URBs complete); bits 2-7 choose the chunk size the stream is cut into
// ((control >> 2) + 1 bytes), as TCP would split it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "transports/usbip_protocol.h"
#include "transports/usbip_session.h"

namespace {

using namespace vauth;
using namespace vauth::transport;

class FuzzEndpoint final : public HidEndpoint {
 public:
  explicit FuzzEndpoint(bool echo) : echo_(echo) {}
  const HidDeviceInfo& info() const override { return info_; }
  void on_output_report(ByteView report) override {
    if (report.size() != kReportSize) std::abort();  // the session must always send 64 bytes
    if (!echo_ || !sink_) return;
    Report r{};
    std::copy(report.begin(), report.end(), r.begin());
    sink_(r);
    if (r[0] & 1) sink_(r);  // sometimes more reports than IN URBs: exercises the queue
  }
  void set_input_sink(InputSink sink) override { sink_ = std::move(sink); }
  void on_host_reset() override {
    if (sink_) std::abort();  // detached before the reset, never after
  }
  bool attached() const { return static_cast<bool>(sink_); }

 private:
  HidDeviceInfo info_;
  InputSink sink_;
  bool echo_;
};

template <typename T>
void check(const usbip::Parsed<T>& p, size_t size) {
  if (p.status == usbip::ParseStatus::kDone && (p.consumed == 0 || p.consumed > size)) std::abort();
  if (p.consumed > usbip::kUrbHeaderSize + usbip::kMaxTransferLength) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const ByteView stream(data + 1, size - 1);

  check(usbip::parse_op_request(stream), stream.size());
  check(usbip::parse_urb_command(stream), stream.size());
  check(usbip::parse_urb_reply(stream, [](uint32_t seqnum) { return seqnum & 1; }), stream.size());

  FuzzEndpoint endpoint((control & 2) != 0);
  FuzzEndpoint other(false);
  UsbipDeviceTable table;
  table.add(endpoint);
  table.add(other);
  {
    UsbipSession session(table, [] {});
    bool open = true;
    if (control & 1) open = session.consume(usbip::encode_import_request("1-1"));
    const size_t chunk = (control >> 2) + 1u;
    for (size_t offset = 0; open && offset < stream.size(); offset += chunk) {
      open = session.consume(stream.subspan(offset, std::min(chunk, stream.size() - offset)));
      session.take_output();
    }
    if (!open && !session.closed()) std::abort();
    if (session.closed() && (endpoint.attached() || other.attached())) std::abort();
  }
  // Whatever happened, the session's end released its device.
  if (endpoint.attached() || other.attached()) std::abort();
  if (!table.claim("1-1") || !table.claim("1-2")) std::abort();
  return 0;
}
