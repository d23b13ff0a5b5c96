// USB/IP: one server exports every device as bus ID "1-<device index>";
// unplug takes the bus ID off the devlist and closes the session that
// imported it (vhci-hcd sees a disconnect), plug exports it again.
#include <iostream>

#include "vauth/daemon/backends.h"
#include "vauth/daemon/options.h"

namespace vauth::daemon {
namespace {

class UsbipBackend final : public Backend {
 public:
  UsbipBackend(boost::asio::io_context& io, transport::UsbipOptions options)
      : address_(options.address), server_(io, options) {
    if (!is_loopback_address(address_)) {
      std::cerr << "vauthd: WARNING: USB/IP has no authentication. Anyone who can reach " << address_ << ":"
                << options.port << " can attach these keys and use them." << std::endl;
    }
    server_.start();
  }

  std::string name() const override { return "usbip"; }

  Plugged plug(VirtualDevice& d) override {
    const std::string busid = server_.export_device(d, static_cast<uint32_t>(d.index()));
    const std::string addr = address_ + ":" + std::to_string(server_.port());
    return Plugged{DeviceLocation{"usbip", busid, addr, true},
                   "\"" + d.info().name + "\" on usbip " + addr + " busid " + busid +
                       " (attach with: usbip attach -r " + address_ + " -b " + busid + ")"};
  }

  void unplug(VirtualDevice& d) override { server_.unexport_device(d); }
  void forget(VirtualDevice& d) override { server_.unexport_device(d); }

 private:
  std::string address_;
  transport::UsbipServer server_;
};

}  // namespace

std::unique_ptr<Backend> make_usbip_backend(boost::asio::io_context& io, transport::UsbipOptions options) {
  return std::make_unique<UsbipBackend>(io, std::move(options));
}

}  // namespace vauth::daemon
