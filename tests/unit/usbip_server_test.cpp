// The USB/IP session state machine (bytes in, bytes out) and the Asio server
// around it, driven the way vhci-hcd and usbhid drive a real device: devlist,
// import, enumeration by control transfers, a posted interrupt IN URB, output
// reports, unlinks when hidraw is closed, and hosts that go away or talk nonsense.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <set>
#include <system_error>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "transports/hid_descriptor.h"
#include "transports/usb_descriptors.h"
#include "transports/usbip_protocol.h"
#include "transports/usbip_server.h"
#include "transports/usbip_session.h"

namespace vauth::transport {
namespace {

using namespace std::chrono_literals;
using usbip::ParseStatus;

// Records output reports and, when `echo`, answers each with the same report.
class FakeEndpoint final : public HidEndpoint {
 public:
  explicit FakeEndpoint(std::string serial = "0000000001") { info_.serial = std::move(serial); }

  const HidDeviceInfo& info() const override { return info_; }
  void on_output_report(ByteView report) override {
    Report r{};
    REQUIRE(report.size() == kReportSize);
    std::copy(report.begin(), report.end(), r.begin());
    outputs.push_back(r);
    if (echo && sink) sink(r);
  }
  void set_input_sink(InputSink s) override { sink = std::move(s); }
  void on_host_reset() override { ++resets; }

  void emit(const Report& r) {
    if (sink) sink(r);
  }

  HidDeviceInfo info_;
  InputSink sink;
  std::vector<Report> outputs;
  int resets = 0;
  bool echo = true;
};

Report report_with(uint8_t first, uint8_t fill = 0) {
  Report r;
  r.fill(fill);
  r[0] = first;
  return r;
}

usb::SetupPacket setup(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length) {
  return usb::SetupPacket{type, request, value, index, length};
}

usb::SetupPacket get_descriptor(uint8_t type, uint8_t index, uint16_t length) {
  return setup(0x80, usb::request::kGetDescriptor, static_cast<uint16_t>(type << 8 | index), 0, length);
}

// Builds host→device URBs and parses the replies, remembering which of its
// seqnums were IN (only their RET_SUBMIT carries data).
class UrbClient {
 public:
  Bytes control(const usb::SetupPacket& s, ByteView out_data = {}, std::optional<uint32_t> buffer = {}) {
    usbip::CmdSubmit c = base(s.device_to_host(), 0);
    c.setup = usb::encode_setup(s);
    c.transfer_buffer_length = buffer.value_or(s.device_to_host() ? s.length : out_data.size());
    c.data.assign(out_data.begin(), out_data.end());
    return usbip::encode(c);
  }
  Bytes interrupt_out(ByteView data, uint32_t ep = 1) {
    usbip::CmdSubmit c = base(false, ep);
    c.transfer_buffer_length = static_cast<uint32_t>(data.size());
    c.data.assign(data.begin(), data.end());
    return usbip::encode(c);
  }
  Bytes interrupt_in(uint32_t length = 64, uint32_t ep = 1) {
    usbip::CmdSubmit c = base(true, ep);
    c.transfer_buffer_length = length;
    return usbip::encode(c);
  }
  Bytes unlink(uint32_t target) {
    usbip::CmdUnlink u;
    u.basic = usbip::UrbBasic{usbip::kCmdUnlink, next_seqnum_++, 0x00010001, 0, 0};
    u.unlink_seqnum = target;
    return usbip::encode(u);
  }
  uint32_t last_seqnum() const { return next_seqnum_ - 1; }

  // Every complete reply in `stream` (which must hold nothing else).
  std::vector<usbip::UrbReply> replies(ByteView stream) const {
    std::vector<usbip::UrbReply> out;
    size_t offset = 0;
    while (offset < stream.size()) {
      auto p = usbip::parse_urb_reply(stream.subspan(offset), [this](uint32_t s) { return in_.count(s) > 0; });
      REQUIRE(p.status == ParseStatus::kDone);
      offset += p.consumed;
      out.push_back(std::move(p.message));
    }
    return out;
  }
  bool is_in(uint32_t seqnum) const { return in_.count(seqnum) > 0; }

 private:
  usbip::CmdSubmit base(bool in, uint32_t ep) {
    usbip::CmdSubmit c;
    c.basic = usbip::UrbBasic{usbip::kCmdSubmit, next_seqnum_++, 0x00010001, in ? usbip::kDirIn : usbip::kDirOut, ep};
    if (in) in_.insert(c.basic.seqnum);
    return c;
  }
  uint32_t next_seqnum_ = 1;
  std::set<uint32_t> in_;
};

// ===================================================================== session

struct SessionHarness {
  SessionHarness() {
    table.add(endpoint);
    table.add(second);
  }
  FakeEndpoint endpoint;
  FakeEndpoint second{"0000000002"};
  UsbipDeviceTable table;
  int wakes = 0;
  UsbipSession session{table, [this] { ++wakes; }};
  UrbClient urb;

  void import_ok() {
    REQUIRE(session.consume(usbip::encode_import_request("1-1")));
    const Bytes out = session.take_output();
    REQUIRE(out.size() == 8 + 312);
    REQUIRE(get_u32_be(out.data() + 4) == usbip::kStatusOk);
    REQUIRE(session.imported());
  }
  std::vector<usbip::UrbReply> send(ByteView bytes) {
    REQUIRE(session.consume(bytes));
    return urb.replies(session.take_output());
  }
  usbip::UrbReply one(ByteView bytes) {
    auto r = send(bytes);
    REQUIRE(r.size() == 1);
    return r[0];
  }
};

TEST_CASE("session: devlist lists every exported device with its interface") {
  SessionHarness h;
  REQUIRE(h.session.consume(usbip::encode_devlist_request()));
  const Bytes out = h.session.take_output();
  REQUIRE(out.size() == 8 + 4 + 2 * (312 + 4));
  CHECK(get_u32_be(out.data() + 8) == 2);
  const uint8_t* d1 = out.data() + 12;
  CHECK(std::string(reinterpret_cast<const char*>(d1)) == "/sys/devices/platform/vauth/usb1/1-1");
  CHECK(std::string(reinterpret_cast<const char*>(d1 + 256)) == "1-1");
  CHECK(get_u32_be(d1 + 288) == 1);  // busnum
  CHECK(get_u32_be(d1 + 292) == 1);  // devnum
  CHECK(get_u32_be(d1 + 296) == 2);  // full speed
  CHECK(get_u16_be(d1 + 300) == 0x1209);
  CHECK(get_u16_be(d1 + 302) == 0x7a01);
  CHECK(get_u16_be(d1 + 304) == 0x0100);
  CHECK(d1[309] == 1);  // bConfigurationValue
  CHECK(d1[311] == 1);  // bNumInterfaces
  CHECK(d1[312] == 3);  // HID
  const uint8_t* d2 = d1 + 316;
  CHECK(std::string(reinterpret_cast<const char*>(d2 + 256)) == "1-2");
  CHECK(get_u32_be(d2 + 292) == 2);
  CHECK_FALSE(h.session.imported());
}

TEST_CASE("session: import of an unknown or taken bus ID fails, and succeeds once released") {
  SessionHarness h;
  REQUIRE(h.session.consume(usbip::encode_import_request("1-9")));
  CHECK(h.session.take_output() == from_hex("011100030000000" "1"));
  CHECK_FALSE(h.session.imported());
  h.import_ok();
  CHECK(h.endpoint.sink);

  UsbipSession other(h.table);
  REQUIRE(other.consume(usbip::encode_import_request("1-1")));
  CHECK(other.take_output() == from_hex("0111000300000001"));
  h.session.close();
  CHECK_FALSE(h.endpoint.sink);
  CHECK(h.endpoint.resets == 1);
  REQUIRE(other.consume(usbip::encode_import_request("1-1")));
  CHECK(other.take_output().size() == 320);
  CHECK(other.imported());
}

TEST_CASE("session: enumeration requests the kernel makes") {
  SessionHarness h;
  h.import_ok();
  SUBCASE("device descriptor, first 8 bytes then all of it (64 asked, 18 given)") {
    auto r = h.one(h.urb.control(get_descriptor(usb::desc_type::kDevice, 0, 8)));
    CHECK(r.status == 0);
    const Bytes device = usb::device_descriptor(h.endpoint.info());
    CHECK(r.data == Bytes(device.begin(), device.begin() + 8));
    r = h.one(h.urb.control(get_descriptor(usb::desc_type::kDevice, 0, 64)));
    CHECK(r.data == usb::device_descriptor(h.endpoint.info()));
    CHECK(r.actual_length == 18);
  }
  SUBCASE("device qualifier, other-speed configuration and BOS stall") {
    for (uint8_t type : {usb::desc_type::kDeviceQualifier, usb::desc_type::kOtherSpeedConfiguration,
                         usb::desc_type::kBos}) {
      auto r = h.one(h.urb.control(get_descriptor(type, 0, 10)));
      CHECK(r.status == usbip::kEpipe);
      CHECK(r.data.empty());
    }
  }
  SUBCASE("configuration: header first, then the whole of wTotalLength") {
    auto r = h.one(h.urb.control(get_descriptor(usb::desc_type::kConfiguration, 0, 9)));
    REQUIRE(r.data.size() == 9);
    const uint16_t total = static_cast<uint16_t>(r.data[2] | r.data[3] << 8);
    r = h.one(h.urb.control(get_descriptor(usb::desc_type::kConfiguration, 0, total)));
    CHECK(r.data == usb::configuration_descriptor());
    CHECK(h.one(h.urb.control(get_descriptor(usb::desc_type::kConfiguration, 1, 9))).status == usbip::kEpipe);
  }
  SUBCASE("strings") {
    auto r = h.one(h.urb.control(get_descriptor(usb::desc_type::kString, 0, 255)));
    CHECK(to_hex(r.data) == "04030904");
    r = h.one(h.urb.control(setup(0x80, 6, 0x0302, 0x0409, 255)));
    CHECK(r.data == usb::utf16_string_descriptor("vauth virtual FIDO2 key"));
    r = h.one(h.urb.control(setup(0x80, 6, 0x0303, 0x0409, 2)));  // truncated to wLength
    CHECK(to_hex(r.data) == "1603");
    CHECK(h.one(h.urb.control(setup(0x80, 6, 0x0304, 0x0409, 255))).status == usbip::kEpipe);
  }
  SUBCASE("SET_CONFIGURATION, GET_CONFIGURATION, GET_STATUS, SET_INTERFACE") {
    auto r = h.one(h.urb.control(setup(0x00, usb::request::kSetConfiguration, 1, 0, 0)));
    CHECK(r.status == 0);
    CHECK(r.actual_length == 0);
    CHECK(h.one(h.urb.control(setup(0x80, usb::request::kGetConfiguration, 0, 0, 1))).data == Bytes{1});
    CHECK(h.one(h.urb.control(setup(0x80, usb::request::kGetStatus, 0, 0, 2))).data == Bytes{0, 0});
    CHECK(h.one(h.urb.control(setup(0x01, usb::request::kSetInterface, 0, 0, 0))).status == 0);
    CHECK(h.one(h.urb.control(setup(0x01, usb::request::kSetInterface, 1, 0, 0))).status == usbip::kEpipe);
    CHECK(h.one(h.urb.control(setup(0x00, usb::request::kSetConfiguration, 2, 0, 0))).status == usbip::kEpipe);
  }
  SUBCASE("HID class requests and the report descriptor") {
    CHECK(h.one(h.urb.control(setup(0x21, usb::request::kHidSetIdle, 0, 0, 0))).status == 0);
    CHECK(h.one(h.urb.control(setup(0x21, usb::request::kHidSetProtocol, 1, 0, 0))).status == 0);
    auto r = h.one(h.urb.control(setup(0x81, 6, 0x2200, 0, 34 + 64)));
    CHECK(r.status == 0);
    CHECK(r.data == Bytes(kFidoReportDescriptor.begin(), kFidoReportDescriptor.end()));
    r = h.one(h.urb.control(setup(0x81, 6, 0x2100, 0, 9)));
    CHECK(r.data == usb::hid_descriptor());
    CHECK(h.one(h.urb.control(setup(0x81, 6, 0x2200, 1, 64))).status == usbip::kEpipe);  // no interface 1
    CHECK(h.one(h.urb.control(setup(0xa1, usb::request::kHidGetReport, 0x0100, 0, 64))).status == usbip::kEpipe);
  }
  SUBCASE("unknown, vendor and contradictory requests stall") {
    CHECK(h.one(h.urb.control(setup(0xc0, 0x42, 0, 0, 4))).status == usbip::kEpipe);
    CHECK(h.one(h.urb.control(setup(0x40, 0x42, 0, 0, 0))).status == usbip::kEpipe);
    CHECK(h.one(h.urb.control(setup(0x80, 0x77, 0, 0, 4))).status == usbip::kEpipe);
    // GET_DESCRIPTOR sent as an OUT transfer (direction contradicts bmRequestType).
    usb::SetupPacket s = get_descriptor(usb::desc_type::kDevice, 0, 18);
    s.request_type = 0x00;
    CHECK(h.one(h.urb.control(s)).status == usbip::kEpipe);
  }
  SUBCASE("the URB's buffer limits the reply as much as wLength does") {
    auto r = h.one(h.urb.control(get_descriptor(usb::desc_type::kDevice, 0, 64), {}, 4));
    CHECK(r.data.size() == 4);
  }
  SUBCASE("a bulk or unknown endpoint stalls") {
    CHECK(h.one(h.urb.interrupt_in(64, 2)).status == usbip::kEpipe);
    CHECK(h.one(h.urb.interrupt_out(Bytes(64, 1), 3)).status == usbip::kEpipe);
    CHECK(h.endpoint.outputs.empty());
  }
}

TEST_CASE("session: interrupt OUT feeds reports, interrupt IN carries the answers") {
  SessionHarness h;
  h.import_ok();
  SUBCASE("OUT first: the echo waits for the next IN URB") {
    auto r = h.one(h.urb.interrupt_out(Bytes(64, 0x11)));
    CHECK(r.status == 0);
    CHECK(r.actual_length == 64);
    REQUIRE(h.endpoint.outputs.size() == 1);
    CHECK(h.endpoint.outputs[0] == report_with(0x11, 0x11));
    CHECK(h.session.queued_reports() == 1);
    r = h.one(h.urb.interrupt_in());
    CHECK(r.status == 0);
    CHECK(r.data == Bytes(64, 0x11));
  }
  SUBCASE("IN posted first: the OUT's reply comes before the IN completion") {
    CHECK(h.send(h.urb.interrupt_in()).empty());
    const uint32_t in_seq = h.urb.last_seqnum();
    CHECK(h.session.pending_in_urbs() == 1);
    auto r = h.send(h.urb.interrupt_out(Bytes(64, 0x22)));
    REQUIRE(r.size() == 2);
    CHECK(r[0].basic.seqnum == h.urb.last_seqnum());
    CHECK(r[0].actual_length == 64);
    CHECK(r[1].basic.seqnum == in_seq);
    CHECK(r[1].data == Bytes(64, 0x22));
    CHECK(h.wakes >= 1);
  }
  SUBCASE("several IN URBs complete in order; reports produced later wake the connection") {
    Bytes three = h.urb.interrupt_in();  // (separate statements: argument order is unspecified)
    append(three, h.urb.interrupt_in());
    append(three, h.urb.interrupt_in());
    h.send(three);
    const int wakes = h.wakes;
    h.endpoint.emit(report_with(1));
    h.endpoint.emit(report_with(2));
    CHECK(h.wakes == wakes + 2);
    auto r = h.urb.replies(h.session.take_output());
    REQUIRE(r.size() == 2);
    CHECK(r[0].basic.seqnum == 1);
    CHECK(r[0].data[0] == 1);
    CHECK(r[1].basic.seqnum == 2);
    CHECK(h.session.pending_in_urbs() == 1);
  }
  SUBCASE("short OUT is zero-padded; a long one is one report per 64-byte packet") {
    h.endpoint.echo = false;
    h.send(h.urb.interrupt_out(Bytes(10, 0x33)));
    h.send(h.urb.interrupt_out(Bytes(130, 0x44)));
    h.send(h.urb.interrupt_out({}));
    REQUIRE(h.endpoint.outputs.size() == 4);
    CHECK(h.endpoint.outputs[0][9] == 0x33);
    CHECK(h.endpoint.outputs[0][10] == 0);
    CHECK(h.endpoint.outputs[2] == report_with(0x44, 0x44));
    CHECK(h.endpoint.outputs[3][1] == 0x44);
    CHECK(h.endpoint.outputs[3][2] == 0);
  }
  SUBCASE("SET_REPORT on the control endpoint is an output report too") {
    auto r = h.one(h.urb.control(setup(0x21, usb::request::kHidSetReport, 0x0200, 0, 64), Bytes(64, 0x55)));
    CHECK(r.status == 0);
    CHECK(r.actual_length == 64);
    REQUIRE(h.endpoint.outputs.size() == 1);
    CHECK(h.endpoint.outputs[0] == report_with(0x55, 0x55));
  }
  SUBCASE("an IN URB with a smaller buffer gets only what fits") {
    h.send(h.urb.interrupt_in(8));
    auto r = h.send(h.urb.interrupt_out(Bytes(64, 0x66)));
    REQUIRE(r.size() == 2);
    CHECK(r[1].data == Bytes(8, 0x66));
  }
}

TEST_CASE("session: unlink of a pending IN URB, repeatedly, and of a completed one") {
  SessionHarness h;
  h.import_ok();
  for (int i = 0; i < 5; ++i) {  // usbhid: open hidraw, close hidraw, ...
    h.send(h.urb.interrupt_in());
    const uint32_t target = h.urb.last_seqnum();
    auto r = h.one(h.urb.unlink(target));
    CHECK(r.basic.command == usbip::kRetUnlink);
    CHECK(r.basic.seqnum == h.urb.last_seqnum());
    CHECK(r.status == usbip::kEconnreset);
    CHECK(h.session.pending_in_urbs() == 0);
  }
  // The unlinked URBs never complete; the report waits for the next IN URB.
  h.endpoint.emit(report_with(9));
  CHECK(h.session.take_output().empty());
  auto r = h.one(h.urb.interrupt_in());
  CHECK(r.data[0] == 9);
  // Unlinking it now (already completed) answers 0.
  r = h.one(h.urb.unlink(h.urb.last_seqnum()));
  CHECK(r.status == 0);
  CHECK(h.one(h.urb.unlink(12345)).status == 0);
}

TEST_CASE("session: bounded queues") {
  SessionHarness h;
  h.import_ok();
  SUBCASE("IN URBs beyond the limit fail with -ENOMEM") {
    for (int i = 0; i < 32; ++i) CHECK(h.send(h.urb.interrupt_in()).empty());
    auto r = h.one(h.urb.interrupt_in());
    CHECK(r.status == usbip::kEnomem);
    CHECK(h.session.pending_in_urbs() == 32);
  }
  SUBCASE("reports beyond the limit drop the oldest") {
    for (int i = 0; i < 300; ++i) h.endpoint.emit(report_with(static_cast<uint8_t>(i)));
    CHECK(h.session.queued_reports() == 256);
    CHECK(h.one(h.urb.interrupt_in()).data[0] == static_cast<uint8_t>(300 - 256));
  }
}

TEST_CASE("session: byte-at-a-time input parses the same as whole messages") {
  SessionHarness h;
  Bytes stream = concat(usbip::encode_devlist_request(), usbip::encode_import_request("1-2"));
  append(stream, h.urb.control(get_descriptor(usb::desc_type::kDevice, 0, 18)));
  append(stream, h.urb.interrupt_in());
  append(stream, h.urb.interrupt_out(Bytes(64, 0x77)));
  for (uint8_t b : stream) REQUIRE(h.session.consume(ByteView(&b, 1)));
  Bytes out = h.session.take_output();
  REQUIRE(out.size() > 644 + 320);  // devlist of two devices, import
  CHECK(h.second.outputs.size() == 1);
  auto r = h.urb.replies(ByteView(out).subspan(644 + 320));
  REQUIRE(r.size() == 3);
  CHECK(r[0].data.size() == 18);
  CHECK(r[1].actual_length == 64);  // the OUT
  CHECK(r[2].data == Bytes(64, 0x77));  // the IN, completed by the echo
}

TEST_CASE("session: a malformed message closes the session and frees the device") {
  SessionHarness h;
  SUBCASE("before import") {
    CHECK_FALSE(h.session.consume(from_hex("0111ffff00000000").value()));
  }
  SUBCASE("after import") {
    h.import_ok();
    h.send(h.urb.interrupt_in());
    CHECK_FALSE(h.session.consume(from_hex(std::string(96, 'f')).value()));
    CHECK_FALSE(h.endpoint.sink);
    CHECK(h.endpoint.resets == 1);
  }
  CHECK(h.session.closed());
  CHECK_FALSE(h.session.error().empty());
  CHECK_FALSE(h.session.consume(usbip::encode_devlist_request()));  // stays closed
  UsbipSession next(h.table);
  REQUIRE(next.consume(usbip::encode_import_request("1-1")));
  CHECK(next.imported());
}

// ===================================================================== server over TCP

// A blocking-free POSIX client: the server's io_context runs in this thread
// while the client waits.
class TcpClient {
 public:
  TcpClient(boost::asio::io_context& io, uint16_t port) : io_(io) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // The kernel completes the handshake from the listen backlog; no accept needed yet.
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~TcpClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void send(ByteView data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        io_.run_for(1ms);
        continue;
      }
      REQUIRE(n > 0);
      sent += static_cast<size_t>(n);
    }
  }

  // Exactly n bytes, or nullopt on EOF / timeout.
  std::optional<Bytes> read(size_t n, std::chrono::milliseconds timeout = 3000ms) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (buffered_.size() < n) {
      if (!pump(give_up)) return std::nullopt;
    }
    Bytes out(buffered_.begin(), buffered_.begin() + static_cast<ptrdiff_t>(n));
    buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<ptrdiff_t>(n));
    return out;
  }

  usbip::UrbReply reply(const UrbClient& urb) {
    std::optional<Bytes> header = read(usbip::kUrbHeaderSize);
    REQUIRE(header);
    Bytes whole = *header;
    const uint32_t seqnum = get_u32_be(whole.data() + 4);
    if (get_u32_be(whole.data()) == usbip::kRetSubmit && urb.is_in(seqnum)) {
      std::optional<Bytes> data = read(get_u32_be(whole.data() + 24));
      REQUIRE(data);
      append(whole, *data);
    }
    auto p = usbip::parse_urb_reply(whole, [&](uint32_t s) { return urb.is_in(s); });
    REQUIRE(p.status == ParseStatus::kDone);
    return p.message;
  }

  // True if the server closes the connection within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout = 3000ms) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (pump(give_up)) buffered_.clear();
    return eof_;
  }

  // True if nothing arrives for `quiet` while the server runs.
  bool silent_for(std::chrono::milliseconds quiet) {
    const size_t before = buffered_.size();
    const auto until = std::chrono::steady_clock::now() + quiet;
    while (pump(until)) {
    }
    return buffered_.size() == before && !eof_;
  }

 private:
  // Runs the server a little and reads what arrived; false at EOF or deadline.
  bool pump(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io_.run_for(1ms);
    uint8_t chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) buffered_.insert(buffered_.end(), chunk, chunk + n);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) eof_ = true;
    return !eof_;
  }

  boost::asio::io_context& io_;
  int fd_ = -1;
  Bytes buffered_;
  bool eof_ = false;
};

struct ServerHarness {
  ServerHarness() {
    server.export_device(endpoint);
    server.export_device(second);
    server.start();
    REQUIRE(server.port() != 0);
  }
  boost::asio::io_context io;
  FakeEndpoint endpoint;
  FakeEndpoint second{"0000000002"};
  UsbipServer server{io, UsbipOptions{"127.0.0.1", 0}};

  // A client that has imported `busid`.
  std::unique_ptr<TcpClient> attach(const std::string& busid = "1-1") {
    auto c = std::make_unique<TcpClient>(io, server.port());
    c->send(usbip::encode_import_request(busid));
    auto header = c->read(8);
    REQUIRE(header);
    REQUIRE(get_u32_be(header->data() + 4) == usbip::kStatusOk);
    REQUIRE(c->read(312));
    return c;
  }
  // Runs the loop until `done` or a deadline.
  template <typename Pred>
  bool run_until(Pred done, std::chrono::milliseconds timeout = 3000ms) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= give_up) return false;
      io.run_for(1ms);
    }
    return true;
  }
};

TEST_CASE("server: devlist and import over TCP, on an ephemeral port") {
  ServerHarness h;
  CHECK(h.server.busid(0) == "1-1");
  CHECK(h.server.busid(1) == "1-2");
  TcpClient c(h.io, h.server.port());
  c.send(usbip::encode_devlist_request());
  auto list = c.read(8 + 4 + 2 * 316);
  REQUIRE(list);
  CHECK(get_u16_be(list->data()) == 0x0111);
  CHECK(get_u16_be(list->data() + 2) == usbip::kOpRepDevlist);
  CHECK(get_u32_be(list->data() + 8) == 2);
  CHECK(std::string(reinterpret_cast<const char*>(list->data() + 12 + 316 + 256)) == "1-2");

  c.send(usbip::encode_import_request("2-1"));
  CHECK(c.read(8) == from_hex("0111000300000001"));
  c.send(usbip::encode_import_request("1-1"));
  auto ok = c.read(8 + 312);
  REQUIRE(ok);
  CHECK(get_u32_be(ok->data() + 4) == 0);
  CHECK(std::string(reinterpret_cast<const char*>(ok->data() + 8 + 256)) == "1-1");
  CHECK(h.endpoint.sink);

  // A second host cannot take the same device, but can take the other one.
  TcpClient d(h.io, h.server.port());
  d.send(usbip::encode_import_request("1-1"));
  CHECK(d.read(8) == from_hex("0111000300000001"));
  d.send(usbip::encode_import_request("1-2"));
  CHECK(d.read(320));
  CHECK(h.second.sink);
}

TEST_CASE("server: enumeration, output reports, echoed input and unlinks over TCP") {
  ServerHarness h;
  auto c = h.attach();
  UrbClient urb;

  c->send(urb.control(get_descriptor(usb::desc_type::kDevice, 0, 64)));
  auto r = c->reply(urb);
  CHECK(r.data == usb::device_descriptor(h.endpoint.info()));
  c->send(urb.control(get_descriptor(usb::desc_type::kDeviceQualifier, 0, 10)));
  CHECK(c->reply(urb).status == usbip::kEpipe);
  c->send(urb.control(setup(0x81, 6, 0x2200, 0, 34)));
  CHECK(c->reply(urb).data == Bytes(kFidoReportDescriptor.begin(), kFidoReportDescriptor.end()));

  // OUT, then IN: the echo.
  c->send(urb.interrupt_out(Bytes(64, 0xa1)));
  r = c->reply(urb);
  CHECK(r.actual_length == 64);
  c->send(urb.interrupt_in());
  r = c->reply(urb);
  CHECK(r.basic.seqnum == urb.last_seqnum());
  CHECK(r.data == Bytes(64, 0xa1));

  // IN posted first, as usbhid does: nothing until a report exists.
  c->send(urb.interrupt_in());
  const uint32_t in_seq = urb.last_seqnum();
  CHECK(c->silent_for(20ms));
  c->send(urb.interrupt_out(Bytes(64, 0xb2)));
  CHECK(c->reply(urb).basic.seqnum == urb.last_seqnum());
  r = c->reply(urb);
  CHECK(r.basic.seqnum == in_seq);
  CHECK(r.data == Bytes(64, 0xb2));

  // A report produced later (a keepalive from a timer) completes the posted URB.
  c->send(urb.interrupt_in());
  h.io.run_for(5ms);
  h.endpoint.emit(report_with(0xbb));
  r = c->reply(urb);
  CHECK(r.data[0] == 0xbb);

  // hidraw closed and reopened, again and again.
  for (int i = 0; i < 3; ++i) {
    c->send(urb.interrupt_in());
    const uint32_t target = urb.last_seqnum();
    c->send(urb.unlink(target));
    r = c->reply(urb);
    CHECK(r.basic.command == usbip::kRetUnlink);
    CHECK(r.status == usbip::kEconnreset);
  }
  c->send(urb.unlink(in_seq));  // long completed
  CHECK(c->reply(urb).status == 0);
}

TEST_CASE("server: a closed connection frees the device for the next host") {
  ServerHarness h;
  for (int round = 0; round < 3; ++round) {
    auto c = h.attach();
    UrbClient urb;
    c->send(urb.interrupt_in());
    c->send(urb.interrupt_out(Bytes(64, static_cast<uint8_t>(round))));
    c->reply(urb);
    CHECK(c->reply(urb).data[0] == round);
    c->close();
    CHECK(h.run_until([&] { return !h.endpoint.sink; }));
    CHECK(h.endpoint.resets == round + 1);
  }
}

TEST_CASE("server: garbage closes that connection only; the server keeps serving") {
  ServerHarness h;
  auto good = h.attach("1-2");
  UrbClient good_urb;

  SUBCASE("garbage instead of an operation") {
    TcpClient bad(h.io, h.server.port());
    bad.send(to_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(bad.closed_by_peer());
  }
  SUBCASE("garbage after import") {
    auto bad = h.attach("1-1");
    bad->send(Bytes(48, 0xff));
    CHECK(bad->closed_by_peer());
    CHECK(h.run_until([&] { return !h.endpoint.sink; }));
    CHECK(h.endpoint.resets == 1);
    h.attach("1-1");  // importable again
  }
  SUBCASE("a hostile transfer length is refused before it is buffered") {
    auto bad = h.attach("1-1");
    Bytes header = UrbClient().interrupt_out(Bytes(64, 0));
    header.resize(48);
    header[24] = 0x7f;  // transfer_buffer_length 0x7f000040
    bad->send(header);
    CHECK(bad->closed_by_peer());
  }
  SUBCASE("a half message then EOF") {
    auto bad = h.attach("1-1");
    bad->send(Bytes(20, 0));
    bad->close();
    CHECK(h.run_until([&] { return !h.endpoint.sink; }));
  }

  TcpClient fresh(h.io, h.server.port());
  fresh.send(usbip::encode_devlist_request());
  CHECK(fresh.read(8 + 4 + 2 * 316));
  good->send(good_urb.interrupt_out(Bytes(64, 0x42)));
  good->reply(good_urb);
  good->send(good_urb.interrupt_in());
  CHECK(good->reply(good_urb).data == Bytes(64, 0x42));
}

TEST_CASE("server: unexport closes the importing session and leaves the devlist; export brings it back") {
  ServerHarness h;
  auto c = h.attach("1-2");
  REQUIRE(h.second.sink);
  h.server.unexport_device(h.second);
  CHECK(c->closed_by_peer());
  CHECK_FALSE(h.second.sink);      // detached ...
  CHECK(h.second.resets == 1);     // ... and told the host went away
  CHECK(h.run_until([&] { return h.server.connection_count() == 0; }));
  h.server.unexport_device(h.second);  // idempotent

  TcpClient d(h.io, h.server.port());
  d.send(usbip::encode_devlist_request());
  auto list = d.read(8 + 4 + 316);
  REQUIRE(list);
  CHECK(get_u32_be(list->data() + 8) == 1);
  CHECK(d.silent_for(20ms));  // exactly one record
  TcpClient e(h.io, h.server.port());
  e.send(usbip::encode_import_request("1-2"));
  CHECK(e.read(8) == from_hex("0111000300000001"));

  // Back under a number of our choosing; numbers in use are refused.
  CHECK_THROWS_AS(h.server.export_device(h.second, 1), std::invalid_argument);
  CHECK(h.server.export_device(h.second, 7) == "1-7");
  TcpClient f(h.io, h.server.port());
  f.send(usbip::encode_import_request("1-7"));
  auto ok = f.read(8 + 312);
  REQUIRE(ok);
  CHECK(get_u32_be(ok->data() + 4) == 0);
  CHECK(get_u32_be(ok->data() + 8 + 256 + 32 + 4) == 7);  // devnum
  CHECK(h.second.sink);
}

TEST_CASE("server: destroyed with hosts attached, it detaches the devices") {
  boost::asio::io_context io;
  FakeEndpoint endpoint;
  auto server = std::make_unique<UsbipServer>(io, UsbipOptions{"127.0.0.1", 0});
  server->export_device(endpoint);
  server->start();
  TcpClient c(io, server->port());
  c.send(usbip::encode_import_request("1-1"));
  REQUIRE(c.read(320));
  c.send(UrbClient().interrupt_in());
  io.run_for(10ms);
  server.reset();
  CHECK_FALSE(endpoint.sink);
  CHECK(endpoint.resets == 1);
  CHECK(c.closed_by_peer());  // runs the loop: the aborted handlers must not touch the dead server
}

TEST_CASE("server: start() reports an address it cannot use") {
  boost::asio::io_context io;
  UsbipServer first(io, UsbipOptions{"127.0.0.1", 0});
  first.start();
  UsbipServer second(io, UsbipOptions{"127.0.0.1", first.port()});
  try {
    second.start();
    FAIL("start() should have thrown");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
  }
  UsbipServer bogus(io, UsbipOptions{"not an address", 0});
  CHECK_THROWS_AS(bogus.start(), std::system_error);
}

}  // namespace
}  // namespace vauth::transport
