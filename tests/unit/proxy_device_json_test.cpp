// The control API's device JSON (vauth/daemon/device_json) for a proxied key:
// a "proxy" object with the upstream spec and whether the upstream is still
// there; no such object for an emulated key. The upstream is a real SEQPACKET
// socket this test listens on, so "lost" comes from the socket really closing.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>

#include "temp_dir.h"
#include "vauth/daemon/device_json.h"

using namespace vauth;
using vauth::daemon::DeviceSettings;
using vauth::daemon::VirtualDevice;

namespace {

// A listening SEQPACKET socket at `path`: the upstream's connect() succeeds at
// once (the backlog holds it) and accept() hands us our end of it.
struct Listener {
  int fd = -1;
  explicit Listener(const std::string& path) {
    fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 1) == 0);
  }
  ~Listener() { ::close(fd); }
};

DeviceSettings ephemeral() {
  DeviceSettings s;
  s.store.kind = daemon::StoreSettings::Kind::Ephemeral;
  s.seed = 1;
  return s;
}

}  // namespace

TEST_CASE("an emulated key's JSON has no proxy object") {
  boost::asio::io_context io;
  ManualClock clock;
  VirtualDevice d(io, clock, ephemeral());
  CHECK_FALSE(daemon::device_brief(d).contains("proxy"));
  CHECK_FALSE(daemon::device_detail(d).contains("proxy"));
}

TEST_CASE("a proxied key's JSON names its upstream, connected until the upstream closes, then lost") {
  test::TempDir dir;
  const std::string path = (dir.path / "up.sock").string();
  Listener listener(path);
  boost::asio::io_context io;
  ManualClock clock;
  DeviceSettings s = ephemeral();
  auto spec = transport::parse_upstream_spec("seqpacket:" + path);
  REQUIRE(spec);
  s.proxy = *spec;
  VirtualDevice d(io, clock, s);

  const nlohmann::json expected = {{"upstream", "seqpacket:" + path}, {"state", "connected"}};
  CHECK(daemon::device_brief(d)["proxy"] == expected);
  CHECK(daemon::device_detail(d)["proxy"] == expected);

  const int peer = ::accept(listener.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  ::close(peer);  // the upstream goes away
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!d.proxy()->upstream_failed() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(100));
  }
  CHECK(daemon::device_brief(d)["proxy"]["state"] == "lost");
  CHECK(daemon::device_detail(d)["proxy"]["upstream"] == "seqpacket:" + path);
}
