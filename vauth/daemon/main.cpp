// vauthd: creates the configured virtual keys, plugs them into the kernel
// (UHID) or serves them over USB/IP, and runs until SIGTERM/SIGINT.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "transports/uhid_device.h"
#include "transports/usbip_server.h"
#include "vauth/crypto/x509.h"
#include "vauth/daemon/options.h"
#include "vauth/daemon/virtual_device.h"

using namespace vauth;
using namespace vauth::daemon;

namespace {

void log(const std::string& line) { std::cerr << "vauthd: " << line << std::endl; }

// Machine-readable readiness, one line per device on stdout (CI scripts wait for it).
void ready(size_t index, const std::string& where) {
  std::cout << "vauthd: ready: device " << index << " " << where << std::endl;
}

bool is_loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost" || address.rfind("127.", 0) == 0;
}

std::vector<std::unique_ptr<VirtualDevice>> make_devices(boost::asio::io_context& io, const Clock& clock,
                                                         const DaemonOptions& o) {
  std::vector<std::unique_ptr<VirtualDevice>> devices;
  for (size_t i = 0; i < o.devices; ++i) {
    DeviceSettings s;
    s.profile = o.profile;
    s.hid = o.hid;
    if (o.devices > 1) s.hid.serial += "-" + std::to_string(i + 1);
    if (o.seed) s.seed = *o.seed + i;
    s.deny_presence = o.presence == PresenceMode::Deny;
    s.presence_delay = Duration(o.presence_delay_ms);
    s.preset_pin = o.pin;
    devices.push_back(std::make_unique<VirtualDevice>(io, clock, std::move(s)));
  }
  return devices;
}

void export_ca(VirtualDevice& device, const std::string& path) {
  std::ofstream out(path);
  out << crypto::certificate_to_pem(device.authenticator().attestation_ca_certificate());
  if (!out) throw std::runtime_error("cannot write " + path);
  log("wrote the attestation CA certificate to " + path);
}

}  // namespace

int main(int argc, char** argv) {
  ParseResult parsed = parse_options(argc, argv);
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << std::endl;
    return parsed.exit_code;
  }
  const DaemonOptions& o = *parsed.options;

  try {
    boost::asio::io_context io;
    SteadyClock clock;
    auto devices = make_devices(io, clock, o);
    if (o.export_attestation_ca) export_ca(*devices.front(), *o.export_attestation_ca);

    std::vector<std::unique_ptr<transport::UhidDevice>> uhid;
    std::unique_ptr<transport::UsbipServer> usbip;
    bool use_usbip = o.transport == TransportKind::Usbip;
    if (o.transport != TransportKind::Usbip) {
      try {
        for (auto& d : devices) {
          uhid.push_back(std::make_unique<transport::UhidDevice>(io, *d, o.uhid_path));
          uhid.back()->start();
        }
        for (size_t i = 0; i < devices.size(); ++i) {
          ready(i + 1, "\"" + devices[i]->info().name + "\" serial " + devices[i]->info().serial +
                           " on uhid (a /dev/hidraw node; `fido2-token -L` lists it)");
        }
      } catch (const transport::UhidError& e) {
        uhid.clear();
        if (o.transport == TransportKind::Uhid) throw;
        log(std::string("UHID is not available (") + e.what() + "); serving over USB/IP instead");
        use_usbip = true;
      }
    }
    if (use_usbip) {
      if (!is_loopback(o.usbip.address)) {
        log("WARNING: USB/IP has no authentication. Anyone who can reach " + o.usbip.address + ":" +
            std::to_string(o.usbip.port) + " can attach these keys and use them.");
      }
      usbip = std::make_unique<transport::UsbipServer>(io, o.usbip);
      for (auto& d : devices) usbip->export_device(*d);
      usbip->start();
      for (size_t i = 0; i < devices.size(); ++i) {
        const std::string addr = o.usbip.address + ":" + std::to_string(usbip->port());
        ready(i + 1, "\"" + devices[i]->info().name + "\" on usbip " + addr + " busid " + usbip->busid(i) +
                         " (attach with: usbip attach -r " + o.usbip.address + " -b " + usbip->busid(i) + ")");
      }
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int signal) {
      log(std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
      for (auto& u : uhid) u->stop();
      io.stop();
    });
    io.run();
  } catch (const std::exception& e) {
    log(std::string("error: ") + e.what());
    return 1;
  }
  return 0;
}
