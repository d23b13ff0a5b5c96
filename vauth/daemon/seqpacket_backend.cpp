// SEQPACKET (for `vauth run` and other local bridges, docs/kernel-free.md): a
// Unix socket per key at DIR/device-<index>.sock; unplug disconnects the host
// and removes the socket, plug creates it again at the same path.
#include <map>

#include "transports/seqpacket_endpoint.h"
#include "vauth/daemon/backends.h"

namespace vauth::daemon {
namespace {

class SeqpacketBackend final : public Backend {
 public:
  SeqpacketBackend(boost::asio::io_context& io, std::string dir) : io_(io), dir_(std::move(dir)) {}

  std::string name() const override { return "seqpacket"; }

  Plugged plug(VirtualDevice& d) override {
    auto& slot = endpoints_[&d];
    if (!slot) {
      const std::string path = dir_ + "/device-" + std::to_string(d.index()) + ".sock";
      slot = std::make_unique<transport::SeqpacketEndpoint>(io_, d, path);
    }
    slot->start();
    const std::string& path = slot->path();
    // `vauth run` reads this line (vauth/cli/private_daemon.cpp): keep its shape.
    return Plugged{DeviceLocation{"seqpacket", path, path, true},
                   "\"" + d.info().name + "\" serial " + d.info().serial + " on seqpacket " + path};
  }

  void unplug(VirtualDevice& d) override {
    if (auto it = endpoints_.find(&d); it != endpoints_.end()) it->second->stop();
  }

  void forget(VirtualDevice& d) override { endpoints_.erase(&d); }

 private:
  boost::asio::io_context& io_;
  std::string dir_;
  std::map<const VirtualDevice*, std::unique_ptr<transport::SeqpacketEndpoint>> endpoints_;
};

}  // namespace

std::unique_ptr<Backend> make_seqpacket_backend(boost::asio::io_context& io, std::string dir) {
  return std::make_unique<SeqpacketBackend>(io, std::move(dir));
}

}  // namespace vauth::daemon
