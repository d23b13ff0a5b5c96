// UHID: each device is its own kernel HID device; unplug destroys it (the
// hidraw node goes away), plug creates it again.
#include <map>

#include "transports/uhid_device.h"
#include "vauth/daemon/backends.h"

namespace vauth::daemon {
namespace {

class UhidBackend final : public Backend {
 public:
  UhidBackend(boost::asio::io_context& io, std::string path) : io_(io), path_(std::move(path)) {}

  std::string name() const override { return "uhid"; }

  Plugged plug(VirtualDevice& d) override {
    auto& slot = devices_[&d];
    if (!slot) slot = std::make_unique<transport::UhidDevice>(io_, d, path_);
    try {
      slot->start();
    } catch (const transport::UhidError& e) {
      throw BackendUnavailable(e.what());
    }
    return Plugged{DeviceLocation{"uhid", "uhid", path_, true},
                   "\"" + d.info().name + "\" serial " + d.info().serial +
                       " on uhid (a /dev/hidraw node; `fido2-token -L` lists it)"};
  }

  void unplug(VirtualDevice& d) override {
    if (auto it = devices_.find(&d); it != devices_.end()) it->second->stop();
  }

  void forget(VirtualDevice& d) override { devices_.erase(&d); }

 private:
  boost::asio::io_context& io_;
  std::string path_;
  std::map<const VirtualDevice*, std::unique_ptr<transport::UhidDevice>> devices_;
};

}  // namespace

std::unique_ptr<Backend> make_uhid_backend(boost::asio::io_context& io, std::string uhid_path) {
  return std::make_unique<UhidBackend>(io, std::move(uhid_path));
}

}  // namespace vauth::daemon
