// UDP (the SoloKeys/CanoKey simulator convention): device i listens on the
// listen port + i - 1 and answers to the peer port + i - 1; unplug closes its
// socket (it stops answering), plug binds the same port again. The magic
// reboot datagram power-cycles the device.
#include <iostream>
#include <map>

#include "vauth/daemon/backends.h"
#include "vauth/daemon/options.h"

namespace vauth::daemon {
namespace {

uint16_t offset_port(uint16_t base, size_t index, const char* what) {
  if (base == 0) return 0;  // every device picks its own free port
  const size_t port = base + index - 1;
  if (port > 65535)
    throw std::runtime_error(std::string("udp: device ") + std::to_string(index) + "'s " + what + " port would be " +
                             std::to_string(port));
  return static_cast<uint16_t>(port);
}

class UdpBackend final : public Backend {
 public:
  UdpBackend(boost::asio::io_context& io, transport::UdpOptions options) : io_(io), options_(std::move(options)) {
    for (const std::string* a : {&options_.listen_address, &options_.peer_address}) {
      if (!is_loopback_address(*a)) {
        std::cerr << "vauthd: WARNING: the UDP endpoint has no authentication and " << *a
                  << " is not loopback: anyone on that network can use these keys." << std::endl;
      }
    }
  }

  std::string name() const override { return "udp"; }

  Plugged plug(VirtualDevice& d) override {
    auto& slot = endpoints_[&d];
    if (!slot) {
      transport::UdpOptions o = options_;
      o.listen_port = offset_port(options_.listen_port, d.index(), "listen");
      o.peer_port = offset_port(options_.peer_port, d.index(), "peer");
      slot = std::make_unique<transport::UdpEndpoint>(io_, d, o, [&d] { d.power_cycle(); });
    }
    slot->start();
    const auto& o = slot->options();
    const std::string listen = o.listen_address + ":" + std::to_string(slot->port());
    const std::string peer = o.peer_address + ":" + std::to_string(o.peer_port);
    return Plugged{DeviceLocation{"udp", listen, "replies to " + peer, true},
                   "\"" + d.info().name + "\" on udp " + listen + " (replies to " + peer + ")"};
  }

  void unplug(VirtualDevice& d) override {
    if (auto it = endpoints_.find(&d); it != endpoints_.end()) it->second->stop();
  }

  void forget(VirtualDevice& d) override { endpoints_.erase(&d); }

 private:
  boost::asio::io_context& io_;
  transport::UdpOptions options_;
  std::map<const VirtualDevice*, std::unique_ptr<transport::UdpEndpoint>> endpoints_;
};

}  // namespace

std::unique_ptr<Backend> make_udp_backend(boost::asio::io_context& io, transport::UdpOptions options) {
  return std::make_unique<UdpBackend>(io, std::move(options));
}

}  // namespace vauth::daemon
