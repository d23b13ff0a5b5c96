// vauthd: creates the configured virtual keys, plugs them into the kernel
// (UHID) or serves them over USB/IP, and runs until SIGTERM/SIGINT.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "vauth/crypto/x509.h"
#include "vauth/daemon/control_routes.h"
#include "vauth/daemon/control_server.h"
#include "vauth/daemon/backends.h"
#include "vauth/daemon/device_manager.h"
#include "vauth/daemon/doctor.h"
#include "vauth/daemon/event_bus.h"
#include "vauth/daemon/log.h"
#include "vauth/daemon/protocol_trace.h"
#include "store/seal.h"
#include "vauth/daemon/options.h"
#include "vauth/daemon/persona_capture.h"
#include "vauth/daemon/upstreams.h"
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

// What keys added at run time (POST /v1/devices) start from: the top-level settings.
DeviceDefaults device_defaults(const DaemonOptions& o, ProtocolTrace* trace) {
  DeviceDefaults d;
  d.base.trace = trace;
  d.base.profile = o.profile;
  d.base.hid = o.hid;
  d.base.presence = presence_settings(o);
  d.base.preset_pin = o.pin;
  d.base.import_file = o.import_file;
  d.base.uv = uv_settings(o);
  d.base.faults = o.faults;
  d.base.store.kind = o.store == StoreKind::Batched     ? StoreSettings::Kind::Batched
                      : o.store == StoreKind::Ephemeral ? StoreSettings::Kind::Ephemeral
                                                        : StoreSettings::Kind::Durable;
  if (o.passphrase_file) d.base.store.passphrase = store::passphrase_from_file(*o.passphrase_file);
  if (o.passphrase_env) d.base.store.passphrase = store::passphrase_from_env(*o.passphrase_env);
  d.seed = o.seed;
  d.state_dir = o.state_dir;
  d.suffix_serials = o.devices > 1;
  return d;
}

// The backend --transport names. auto is uhid here; plug_devices() falls back.
std::unique_ptr<Backend> make_backend(boost::asio::io_context& io, const DaemonOptions& o) {
  switch (o.transport) {
    case TransportKind::Usbip: return make_usbip_backend(io, o.usbip);
    case TransportKind::Udp: return make_udp_backend(io, o.udp);
    case TransportKind::Seqpacket: return make_seqpacket_backend(io, o.seqpacket_dir);
    case TransportKind::Auto:
    case TransportKind::Uhid: return make_uhid_backend(io, o.uhid_path);
  }
  throw std::logic_error("unknown transport");
}

// Plugs the configured devices in; with --transport auto, a machine without a
// usable /dev/uhid gets USB/IP instead.
void plug_devices(boost::asio::io_context& io, DeviceManager& devices, const DaemonOptions& o) {
  devices.set_backend(make_backend(io, o));
  try {
    devices.plug_all();
  } catch (const BackendUnavailable& e) {
    if (o.transport != TransportKind::Auto) throw;
    log(std::string("UHID is not available (") + e.what() + "); serving over USB/IP instead");
    devices.set_backend(make_usbip_backend(io, o.usbip));
    devices.plug_all();
  }
}

// The configured keys, each with its own settings ([[device]] table over the top level).
void create_devices(DeviceManager& devices, const DaemonOptions& o, EventBus& events, ProtocolTrace* trace) {
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
    s.import_file = d.import_file;
    s.uv = uv_settings(d);
    s.preset_fingerprints = d.fingerprints;
    s.faults = d.faults;
    s.store.kind = o.store == StoreKind::Batched     ? StoreSettings::Kind::Batched
                   : o.store == StoreKind::Ephemeral ? StoreSettings::Kind::Ephemeral
                                                     : StoreSettings::Kind::Durable;
    s.store.dir = std::filesystem::path(o.state_dir) / ("device-" + std::to_string(i + 1));
    if (o.passphrase_file) s.store.passphrase = store::passphrase_from_file(*o.passphrase_file);
    if (o.passphrase_env) s.store.passphrase = store::passphrase_from_env(*o.passphrase_env);
    if (i == 0 && o.proxy) {
      s.proxy = o.proxy;
      s.store.kind = StoreSettings::Kind::Ephemeral;  // the real key keeps the state; nothing to persist
    }
    VirtualDevice& created = devices.create(std::move(s));
    if (created.proxy()) log("device 1 forwards to " + created.proxy()->describe());
  }
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

// --capture-persona FILE: the upstream's getInfo as a persona file, then exit.
int capture_persona(const DaemonOptions& o) {
  boost::asio::io_context io;
  auto upstream = make_upstream(io, *o.proxy);
  const Bytes info = fetch_get_info(io, *upstream, Duration(10'000));
  CaptureIdentity identity{upstream->describe(), "", 0, 0};
  if (auto id = upstream->identity()) identity = {upstream->describe(), id->name, id->vendor_id, id->product_id};
  auto text = persona_from_get_info(info, o.capture_persona_name, identity);
  if (!text) throw std::runtime_error("--capture-persona: " + text.error());
  std::ofstream out(*o.capture_persona, std::ios::trunc);
  out << *text;
  if (!out.flush()) throw std::runtime_error("cannot write " + *o.capture_persona);
  log("wrote persona \"" + o.capture_persona_name + "\" captured from " + upstream->describe() + " to " +
      *o.capture_persona);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "doctor") return doctor_main(argc - 1, argv + 1);
  ParseResult parsed = parse_options(argc, argv);
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << std::endl;
    return parsed.exit_code;
  }
  const DaemonOptions& o = *parsed.options;
  set_json_log(o.log_format == DaemonOptions::LogFormat::Json);

  try {
    if (o.capture_persona) return capture_persona(o);
    // Declared before the devices that write to it.
    std::unique_ptr<ProtocolTrace> trace;
    if (o.trace_file || o.pcap_file) trace = std::make_unique<ProtocolTrace>(o.trace_file.value_or(""), o.pcap_file.value_or(""));
    // Declared before the io_context: connections still queued in it unsubscribe when it goes.
    EventBus events;
    boost::asio::io_context io;
    SteadyClock clock;
    DeviceManager devices(io, clock, events, device_defaults(o, trace.get()));
    create_devices(devices, o, events, trace.get());
    if (o.export_attestation_ca) export_ca(*devices.devices().front(), *o.export_attestation_ca);

    // The control API answers before the devices are plugged in, so `vauthctl wait` can watch them come up.
    ControlRoutes routes(devices.devices(), events, &devices);
    auto control = start_control(io, routes, events, o.control);
    plug_devices(io, devices, o);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int signal) {
      log(std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
      devices.unplug_all();
      io.stop();
    });
    io.run();
  } catch (const std::exception& e) {
    log(std::string("error: ") + e.what());
    return 1;
  }
  return 0;
}
