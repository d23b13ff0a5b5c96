// The SOCK_SEQPACKET endpoint, driven by real Unix sockets the way a bridge
// (vauth run) drives it: one 64-byte report per packet both ways, wrong sizes
// dropped and counted, one host at a time, a disconnect is a host reset, and
// the socket is private (0600 in a 0700 directory).
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "transports/seqpacket_endpoint.h"

namespace vauth::transport {
namespace {

using namespace std::chrono_literals;

// Records output reports and, when `echo`, answers each with the same report.
class FakeEndpoint final : public HidEndpoint {
 public:
  const HidDeviceInfo& info() const override { return info_; }
  void on_output_report(ByteView report) override {
    received.emplace_back(report.begin(), report.end());
    if (echo && sink_) {
      Report r{};
      std::copy(report.begin(), report.end(), r.begin());
      sink_(r);
    }
  }
  void set_input_sink(InputSink sink) override { sink_ = std::move(sink); }
  void on_host_reset() override { ++resets; }

  bool attached() const { return static_cast<bool>(sink_); }
  void send(const Report& r) {
    if (sink_) sink_(r);
  }

  bool echo = true;
  int resets = 0;
  std::vector<Bytes> received;

 private:
  HidDeviceInfo info_;
  InputSink sink_;
};

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/vauth-seqpacket-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// A host: a plain blocking SOCK_SEQPACKET client.
struct Host {
  explicit Host(const std::string& path) {
    fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Host() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void send(const Bytes& packet) const { REQUIRE(::send(fd, packet.data(), packet.size(), 0) == ssize_t(packet.size())); }
  // Receives one packet, running the io_context until it arrives; nullopt on EOF.
  std::optional<Bytes> receive(boost::asio::io_context& io) const {
    for (int i = 0; i < 200; ++i) {
      io.restart();
      io.run_for(5ms);
      Bytes buf(256);
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0) return std::nullopt;
      if (n > 0) {
        buf.resize(size_t(n));
        return buf;
      }
    }
    FAIL("no packet within a second");
    return std::nullopt;
  }
  int fd = -1;
  bool connected = false;
};

Bytes report_with(uint8_t first) {
  Bytes r(kReportSize, 0);
  r[0] = first;
  r[63] = 0xee;
  return r;
}

void spin(boost::asio::io_context& io) {
  io.restart();
  io.run_for(30ms);
}

TEST_CASE("seqpacket: a private socket that carries one report per packet each way") {
  TempDir tmp;
  const std::string dir = tmp.path + "/run/vauth";
  const std::string path = dir + "/device-1.sock";
  boost::asio::io_context io;
  FakeEndpoint device;
  SeqpacketEndpoint ep(io, device, path);
  ep.start();

  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);

  Host host(path);
  REQUIRE(host.connected);
  spin(io);
  CHECK(ep.host_connected());
  CHECK(device.attached());

  host.send(report_with(0x42));
  auto echoed = host.receive(io);
  REQUIRE(echoed);
  CHECK(*echoed == report_with(0x42));
  REQUIRE(device.received.size() == 1);
  CHECK(device.received[0] == report_with(0x42));

  // Device-initiated reports (keepalives) reach the host unprompted.
  Report keepalive{};
  keepalive[4] = 0xbb;
  device.send(keepalive);
  auto got = host.receive(io);
  REQUIRE(got);
  CHECK(got->size() == kReportSize);
  CHECK((*got)[4] == 0xbb);
  CHECK(ep.stats().reports_in == 1);
  CHECK(ep.stats().reports_out == 2);

  ep.stop();
  CHECK(::lstat(path.c_str(), &st) != 0);  // unlinked
}

TEST_CASE("seqpacket: packets that are not 64 bytes are dropped, counted, and change nothing") {
  TempDir tmp;
  boost::asio::io_context io;
  FakeEndpoint device;
  SeqpacketEndpoint ep(io, device, tmp.path + "/d.sock");
  ep.start();
  Host host(tmp.path + "/d.sock");
  REQUIRE(host.connected);

  host.send(Bytes(63, 0x11));
  host.send(Bytes(65, 0x22));  // a report-ID byte in front: not this wire's format
  host.send(Bytes(1000, 0x33));
  host.send(Bytes{});          // an empty packet is not the end of the connection
  host.send(report_with(0x44));
  auto echoed = host.receive(io);
  REQUIRE(echoed);
  CHECK(*echoed == report_with(0x44));
  REQUIRE(device.received.size() == 1);
  CHECK(ep.stats().dropped_wrong_size == 4);
  CHECK(device.resets == 0);
  CHECK(ep.host_connected());
}

TEST_CASE("seqpacket: one host at a time; a disconnect is a host reset and frees the socket") {
  TempDir tmp;
  const std::string path = tmp.path + "/d.sock";
  boost::asio::io_context io;
  FakeEndpoint device;
  SeqpacketEndpoint ep(io, device, path);
  ep.start();

  Host first(path);
  REQUIRE(first.connected);
  spin(io);
  Host second(path);
  REQUIRE(second.connected);  // the kernel completes the handshake; the daemon then closes it
  CHECK_FALSE(second.receive(io).has_value());  // EOF: refused
  CHECK(ep.stats().refused_connections == 1);

  // The first host is undisturbed.
  first.send(report_with(0x01));
  REQUIRE(first.receive(io));

  first.close();
  spin(io);
  CHECK(device.resets == 1);
  CHECK_FALSE(device.attached());
  CHECK_FALSE(ep.host_connected());

  // Reports produced while no host is attached go nowhere (and do not crash).
  device.send(Report{});

  Host third(path);
  REQUIRE(third.connected);
  third.send(report_with(0x03));
  auto echoed = third.receive(io);
  REQUIRE(echoed);
  CHECK((*echoed)[0] == 0x03);
  CHECK(ep.stats().connections == 2);
}

TEST_CASE("seqpacket: stale sockets are replaced, live ones and open directories are refused") {
  TempDir tmp;
  const std::string path = tmp.path + "/d.sock";
  boost::asio::io_context io;
  FakeEndpoint a, b;
  {
    SeqpacketEndpoint live(io, a, path);
    live.start();
    SeqpacketEndpoint clash(io, b, path);
    CHECK_THROWS_AS(clash.start(), SeqpacketError);
  }
  // A socket file whose daemon died (bound, never listening).
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
  SeqpacketEndpoint replaced(io, a, path);
  CHECK_NOTHROW(replaced.start());
  replaced.stop();

  const std::string open_dir = tmp.path + "/shared";
  REQUIRE(::mkdir(open_dir.c_str(), 0755) == 0);
  REQUIRE(::chmod(open_dir.c_str(), 0755) == 0);
  SeqpacketEndpoint exposed(io, a, open_dir + "/d.sock");
  CHECK_THROWS_WITH_AS(exposed.start(), doctest::Contains("open to group or others"), SeqpacketError);
}

}  // namespace
}  // namespace vauth::transport
