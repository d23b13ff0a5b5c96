// vauthd: creates the configured virtual keys, plugs them into the kernel
// (UHID) or serves them over USB/IP, and runs until SIGTERM/SIGINT.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "transports/seqpacket_endpoint.h"
#include "transports/uhid_device.h"
#include "transports/usbip_server.h"
#include "vauth/crypto/x509.h"
#include "vauth/daemon/control_routes.h"
#include "vauth/daemon/control_server.h"
#include "vauth/daemon/event_bus.h"
#include "vauth/daemon/log.h"
#include "vauth/daemon/protocol_trace.h"
#include "store/seal.h"
#include "vauth/daemon/options.h"
#include "vauth/daemon/virtual_device.h"

using namespace vauth;
using namespace vauth::daemon;

namespace {

// Plain or JSON lines on stderr (--log-format); "WARNING: " and "error: " set the level.
void log(const std::string& line) {
  if (line.rfind("WARNING: ", 0) == 0) return log_message(LogLevel::Warning, line.substr(9));
  if (line.rfind("error: ", 0) == 0) return log_message(LogLevel::Error, line.substr(7));
  log_message(LogLevel::Info, line);
}

// Machine-readable readiness, one line per device on stdout (CI scripts wait for it).
void ready(size_t index, const std::string& where) {
  std::cout << "vauthd: ready: device " << index << " " << where << std::endl;
}

// Marks the device plugged in, tells the event stream, and prints the readiness line.
void plugged(VirtualDevice& d, EventBus& events, DeviceLocation where, const std::string& line) {
  where.ready = true;
  d.set_location(where);
  events.publish("device.ready", {{"device", d.index()}, {"transport", where.transport}, {"where", where.where}});
  ready(d.index(), line);
}

PresenceSettings presence_settings(const DaemonOptions& o) {
  PresenceSettings p;
  p.mode = o.presence == PresenceMode::Deny     ? ctap::ControlledPresence::Mode::Deny
           : o.presence == PresenceMode::Manual ? ctap::ControlledPresence::Mode::Wait
                                                : ctap::ControlledPresence::Mode::Approve;
  p.delay = Duration(o.presence_delay_ms);
  p.timeout = Duration(o.presence_timeout_ms);
  return p;
}

UvSettings uv_settings(const DaemonOptions& o) {
  UvSettings u;
  u.mode = o.uv == UvMode::Fail     ? ctap::ControlledUserVerifier::Mode::NoMatch
           : o.uv == UvMode::Manual ? ctap::ControlledUserVerifier::Mode::Wait
                                    : ctap::ControlledUserVerifier::Mode::Match;
  u.timeout = Duration(o.uv_timeout_ms);
  return u;
}

std::vector<std::unique_ptr<VirtualDevice>> make_devices(boost::asio::io_context& io, const Clock& clock,
                                                         const DaemonOptions& o, EventBus& events,
                                                         ProtocolTrace* trace) {
  std::vector<std::unique_ptr<VirtualDevice>> devices;
  for (size_t i = 0; i < o.devices; ++i) {
    const DaemonOptions& d = o.device(i);  // this key's settings ([[device]] table over the top level)
    DeviceSettings s;
    s.index = i + 1;
    s.events = &events;
    s.trace = trace;
    s.profile = d.profile;
    s.hid = d.hid;
    s.seed = d.seed;
    s.presence = presence_settings(d);
    s.preset_pin = d.pin;
    s.uv = uv_settings(d);
    s.preset_fingerprints = d.fingerprints;
    s.faults = d.faults;
    s.store.kind = o.store == StoreKind::Batched     ? StoreSettings::Kind::Batched
                   : o.store == StoreKind::Ephemeral ? StoreSettings::Kind::Ephemeral
                                                     : StoreSettings::Kind::Durable;
    s.store.dir = std::filesystem::path(o.state_dir) / ("device-" + std::to_string(i + 1));
    if (o.passphrase_file) s.store.passphrase = store::passphrase_from_file(*o.passphrase_file);
    if (o.passphrase_env) s.store.passphrase = store::passphrase_from_env(*o.passphrase_env);
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

// Starts the control API (if any) and prints where it listens.
std::unique_ptr<ControlServer> start_control(boost::asio::io_context& io, ControlRoutes& routes, EventBus& events,
                                             const ControlOptions& c) {
  ControlServerOptions options{c.socket_path, c.tcp_address, c.tcp_port, c.token};
  if (!options.socket_path && !options.tcp_address) return nullptr;
  auto control = std::make_unique<ControlServer>(io, routes, events, options);
  try {
    control->start();
  } catch (const std::runtime_error& e) {
    // A second daemon started without options (tests, a developer's run next to
    // a service) must not fail on the first one's default socket; an explicit
    // --control-socket is a promise, so there it is an error.
    if (!c.socket_is_default || !options.socket_path) throw;
    log(std::string("WARNING: ") + e.what() + "; running without the Unix control socket (choose one with --control-socket)");
    options.socket_path.reset();
    control.reset();
    if (!options.tcp_address) return nullptr;
    control = std::make_unique<ControlServer>(io, routes, events, options);
    control->start();
  }
  if (options.socket_path) std::cout << "vauthd: control: unix " << *options.socket_path << std::endl;
  if (options.tcp_address) {
    std::cout << "vauthd: control: http://" << *options.tcp_address << ":" << control->tcp_port()
              << " (bearer token required)" << std::endl;
    if (!is_loopback_address(*options.tcp_address)) {
      log("WARNING: the control API listens beyond loopback on " + *options.tcp_address +
          "; anyone with the token controls these keys");
    }
  }
  return control;
}

}  // namespace

int main(int argc, char** argv) {
  ParseResult parsed = parse_options(argc, argv);
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << std::endl;
    return parsed.exit_code;
  }
  const DaemonOptions& o = *parsed.options;
  set_json_log(o.log_format == DaemonOptions::LogFormat::Json);

  try {
    // Declared before the devices that write to it.
    std::unique_ptr<ProtocolTrace> trace;
    if (o.trace_file || o.pcap_file) trace = std::make_unique<ProtocolTrace>(o.trace_file.value_or(""), o.pcap_file.value_or(""));
    // Declared before the io_context: connections still queued in it unsubscribe when it goes.
    EventBus events;
    boost::asio::io_context io;
    SteadyClock clock;
    auto devices = make_devices(io, clock, o, events, trace.get());
    if (o.export_attestation_ca) export_ca(*devices.front(), *o.export_attestation_ca);

    // The control API answers before the devices are plugged in, so `vauthctl wait` can watch them come up.
    ControlRoutes routes(devices, events);
    auto control = start_control(io, routes, events, o.control);

    std::vector<std::unique_ptr<transport::UhidDevice>> uhid;
    std::unique_ptr<transport::UsbipServer> usbip;
    bool use_usbip = o.transport == TransportKind::Usbip;
    // --transport seqpacket: one Unix socket per key (for `vauth run`, docs/kernel-free.md).
    std::vector<std::unique_ptr<transport::SeqpacketEndpoint>> seqpacket;
    if (o.transport == TransportKind::Seqpacket) {
      for (auto& d : devices) {
        const std::string path = o.seqpacket_dir + "/device-" + std::to_string(d->index()) + ".sock";
        seqpacket.push_back(std::make_unique<transport::SeqpacketEndpoint>(io, *d, path));
        seqpacket.back()->start();
        plugged(*d, events, DeviceLocation{"seqpacket", path, path, true},
                "\"" + d->info().name + "\" serial " + d->info().serial + " on seqpacket " + path);
      }
    }
    if (o.transport != TransportKind::Usbip && o.transport != TransportKind::Seqpacket) {
      try {
        for (auto& d : devices) {
          uhid.push_back(std::make_unique<transport::UhidDevice>(io, *d, o.uhid_path));
          uhid.back()->start();
        }
        for (auto& d : devices) {
          plugged(*d, events, DeviceLocation{"uhid", "uhid", o.uhid_path, true},
                  "\"" + d->info().name + "\" serial " + d->info().serial +
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
      if (!is_loopback_address(o.usbip.address)) {
        log("WARNING: USB/IP has no authentication. Anyone who can reach " + o.usbip.address + ":" +
            std::to_string(o.usbip.port) + " can attach these keys and use them.");
      }
      usbip = std::make_unique<transport::UsbipServer>(io, o.usbip);
      for (auto& d : devices) usbip->export_device(*d);
      usbip->start();
      for (size_t i = 0; i < devices.size(); ++i) {
        const std::string addr = o.usbip.address + ":" + std::to_string(usbip->port());
        plugged(*devices[i], events, DeviceLocation{"usbip", usbip->busid(i), addr, true},
                "\"" + devices[i]->info().name + "\" on usbip " + addr + " busid " + usbip->busid(i) +
                    " (attach with: usbip attach -r " + o.usbip.address + " -b " + usbip->busid(i) + ")");
      }
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int signal) {
      log(std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
      for (auto& u : uhid) u->stop();
      for (auto& s : seqpacket) s->stop();
      for (auto& d : devices) events.publish("device.unplugged", {{"device", d->index()}});
      io.stop();
    });
    io.run();
  } catch (const std::exception& e) {
    log(std::string("error: ") + e.what());
    return 1;
  }
  return 0;
}
