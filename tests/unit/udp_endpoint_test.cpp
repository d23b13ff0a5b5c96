// The UDP endpoint (SoloKeys/CanoKey simulator convention) over real loopback
// sockets: one 64-byte report per datagram each way, replies to the fixed
// peer, the magic reboot datagram, wrong sizes dropped and counted, stop/start.
#include "transports/udp_endpoint.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <system_error>
#include <vector>

namespace vauth::transport {
namespace {

using namespace std::chrono_literals;

// Records output reports and answers each with the same report, first byte flipped.
class EchoEndpoint final : public HidEndpoint {
 public:
  const HidDeviceInfo& info() const override { return info_; }
  void on_output_report(ByteView report) override {
    REQUIRE(report.size() == kReportSize);
    Report r{};
    std::copy(report.begin(), report.end(), r.begin());
    outputs.push_back(r);
    r[0] ^= 0xff;
    if (sink) sink(r);
  }
  void set_input_sink(InputSink s) override { sink = std::move(s); }
  void on_host_reset() override { ++resets; }

  HidDeviceInfo info_;
  InputSink sink;
  std::vector<Report> outputs;
  int resets = 0;
};

// A plain UDP socket on 127.0.0.1 with an OS-chosen port: the "host" side.
class Peer {
 public:
  Peer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a = loopback(0);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~Peer() { ::close(fd_); }
  uint16_t port() const { return port_; }

  void send_to(uint16_t port, ByteView data) {
    sockaddr_in a = loopback(port);
    REQUIRE(::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
            static_cast<ssize_t>(data.size()));
  }
  // One datagram, while running `io` (the endpoint answers from it); nullopt after `wait`.
  std::optional<Bytes> receive(boost::asio::io_context& io, std::chrono::milliseconds wait = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(5ms);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) == 1) {
        Bytes buf(2048);
        const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        REQUIRE(n >= 0);
        buf.resize(static_cast<size_t>(n));
        return buf;
      }
    }
    return std::nullopt;
  }

 private:
  static sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  int fd_ = -1;
  uint16_t port_ = 0;
};

Report report(uint8_t fill) {
  Report r{};
  r.fill(fill);
  return r;
}

void spin(boost::asio::io_context& io, std::chrono::milliseconds d = 100ms) {
  io.restart();
  io.run_for(d);
}

struct Harness {
  boost::asio::io_context io;
  EchoEndpoint device;
  Peer host;
  int reboots = 0;
  UdpEndpoint udp{io, device, UdpOptions{"127.0.0.1", 0, "127.0.0.1", host.port()}, [this] { ++reboots; }};
  Harness() {
    udp.start();
    REQUIRE(udp.port() != 0);
  }
};

TEST_CASE("udp: a 64-byte datagram is one report; the answer goes to the peer as one 64-byte datagram") {
  Harness h;
  const Report r = report(0x42);
  h.host.send_to(h.udp.port(), r);
  auto got = h.host.receive(h.io);
  REQUIRE(got);
  CHECK(got->size() == kReportSize);  // no report-ID byte
  CHECK((*got)[0] == (0x42 ^ 0xff));
  CHECK((*got)[63] == 0x42);
  REQUIRE(h.device.outputs.size() == 1);
  CHECK(h.device.outputs[0] == r);
  CHECK(h.udp.stats().reports_in == 1);
  CHECK(h.udp.stats().reports_out == 1);
}

TEST_CASE("udp: replies go to the configured peer, not to the sender") {
  Harness h;
  Peer stranger;
  stranger.send_to(h.udp.port(), report(1));
  CHECK(h.host.receive(h.io));
  CHECK_FALSE(stranger.receive(h.io, 200ms));
}

TEST_CASE("udp: datagrams of any other size are dropped, counted, and change nothing") {
  Harness h;
  for (size_t size : {size_t{0}, size_t{1}, size_t{63}, size_t{65}, size_t{1000}}) {
    CAPTURE(size);
    h.host.send_to(h.udp.port(), Bytes(size, 0x11));
  }
  CHECK_FALSE(h.host.receive(h.io, 300ms));
  CHECK(h.device.outputs.empty());
  CHECK(h.udp.stats().dropped_wrong_size == 5);
  // Still serving.
  h.host.send_to(h.udp.port(), report(7));
  CHECK(h.host.receive(h.io));
  CHECK(h.device.outputs.size() == 1);
}

TEST_CASE("udp: the magic reboot datagram power-cycles and is not a report") {
  Harness h;
  h.host.send_to(h.udp.port(), kMagicReboot);
  spin(h.io, 200ms);
  CHECK(h.reboots == 1);
  CHECK(h.device.outputs.empty());
  CHECK(h.udp.stats().reboots == 1);
  // One byte off is an ordinary report.
  Report almost{};
  std::copy(kMagicReboot.begin(), kMagicReboot.end(), almost.begin());
  almost[63] ^= 1;
  h.host.send_to(h.udp.port(), almost);
  CHECK(h.host.receive(h.io));
  CHECK(h.reboots == 1);
  CHECK(h.device.outputs.size() == 1);
}

TEST_CASE("udp: stop() stops answering and detaches; start() serves the same port again") {
  Harness h;
  const uint16_t port = h.udp.port();
  h.udp.stop();
  CHECK_FALSE(h.udp.running());
  CHECK_FALSE(h.device.sink);
  CHECK(h.device.resets == 1);  // a transaction in progress is aborted
  h.host.send_to(port, report(3));
  CHECK_FALSE(h.host.receive(h.io, 200ms));
  CHECK(h.device.outputs.empty());
  h.udp.stop();  // idempotent
  CHECK(h.device.resets == 1);

  h.udp.start();
  CHECK(h.udp.port() == port);
  h.host.send_to(port, report(4));
  auto got = h.host.receive(h.io);
  REQUIRE(got);
  CHECK((*got)[1] == 4);
}

TEST_CASE("udp: a port in use is an error that names the address") {
  Harness h;
  boost::asio::io_context io;
  EchoEndpoint other;
  UdpEndpoint second(io, other, UdpOptions{"127.0.0.1", h.udp.port(), "127.0.0.1", 7112}, {});
  try {
    second.start();
    FAIL("bound a port in use");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(h.udp.port())) != std::string::npos);
  }
  CHECK_FALSE(second.running());
  CHECK_FALSE(other.sink);
}

TEST_CASE("udp: the magic datagram is the simulator's") {
  CHECK(to_hex(kMagicReboot) ==
        "ac1052ca95e569de69e02ebff333485f13f9b2da34c5a8a340526697a9ab2e0b"
        "394d8d04973c134005be1a0140bff6045bb26eb77a73eaa47813f6b49a7250dc");
}

}  // namespace
}  // namespace vauth::transport
