// vauthd's command line (Boost.Program_options).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transports/hid_endpoint.h"
#include "transports/udp_endpoint.h"
#include "transports/upstream_spec.h"
#include "transports/usbip_server.h"
#include "vauth/ctap/profile.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::daemon {

enum class TransportKind { Auto, Uhid, Usbip, Udp, Seqpacket };
enum class PresenceMode { Auto, Deny, Manual };

// The control API's listeners (docs/control-api.md).
struct ControlOptions {
  std::optional<std::string> socket_path;  // nullopt: --no-control
  bool socket_is_default = true;           // not chosen with --control-socket
  std::optional<std::string> tcp_address;  // --control-listen ADDR:PORT
  uint16_t tcp_port = 0;
  std::string token;                       // read from --control-token-file; required with TCP
  bool allow_remote = false;               // --control-allow-remote: TCP beyond loopback
};

// $XDG_RUNTIME_DIR/vauth/control.sock, /run/vauth/control.sock as root, else
// /tmp/vauth-UID/control.sock.
std::string default_control_socket();
bool is_loopback_address(const std::string& address);

// Where --transport seqpacket puts device-<n>.sock: the control socket's directory.
std::string default_seqpacket_dir();

// $XDG_STATE_HOME/vauth, else $HOME/.local/state/vauth; each device in device-<n>/.
std::string default_state_dir();

enum class StoreKind { Durable, Batched, Ephemeral };
enum class UvMode { Auto, Fail, Manual, None };

struct DaemonOptions {
  TransportKind transport = TransportKind::Auto;
  transport::UsbipOptions usbip;
  transport::UdpOptions udp;  // --transport udp: device i uses both ports + i - 1
  size_t devices = 1;
  std::optional<uint64_t> seed;
  ctap::Profile profile;
  transport::HidDeviceInfo hid;
  PresenceMode presence = PresenceMode::Auto;
  uint32_t presence_delay_ms = 0;
  uint32_t presence_timeout_ms = 30'000;  // manual mode: then CTAP2_ERR_USER_ACTION_TIMEOUT (0: forever)
  // The simulated fingerprint sensor: match, fail, or wait for the control API;
  // UvMode::None means no built-in UV at all (profile.built_in_uv = false).
  UvMode uv = UvMode::Auto;
  uint32_t uv_timeout_ms = 30'000;
  size_t fingerprints = 0;  // enrolled at start when the key has none
  ControlOptions control;
  std::optional<std::string> pin;
  std::optional<std::string> import_file;  // --import: a device document to start an unused key from
  std::vector<faults::Rule> faults;        // --fault, for every device (docs/faults.md)
  StoreKind store = StoreKind::Durable;
  std::string state_dir = default_state_dir();
  std::optional<std::string> passphrase_file, passphrase_env;
  std::optional<std::string> export_attestation_ca;
  std::string uhid_path = "/dev/uhid";
  std::string seqpacket_dir = default_seqpacket_dir();
  // --proxy / --replay: device 1 forwards to this upstream instead of emulating (docs/proxy.md).
  std::optional<transport::UpstreamSpec> proxy;
  // --capture-persona FILE: write the upstream's getInfo as a persona and exit.
  std::optional<std::string> capture_persona;
  std::string capture_persona_name = "captured";

  // ---- Config file, personas and output (issue #6; docs/config.md) ----
  std::string persona = "default";       // --persona: the profile `profile` started from
  enum class LogFormat { Text, Json } log_format = LogFormat::Text;
  std::optional<std::string> trace_file;  // --trace: JSON lines of packets and decoded CTAP
  std::optional<std::string> pcap_file;   // --pcap: pcapng of the USB traffic
  // What each key runs with (index 0 is device 1): a [[device]] table of the
  // config over the top level, with per-device seeds and serials derived.
  // parse_options fills one entry per device; make_devices reads per-device
  // settings (profile, hid, presence, pin, seed, ...) only from here.
  std::vector<DaemonOptions> device_options;
  const DaemonOptions& device(size_t i) const { return i < device_options.size() ? device_options[i] : *this; }
};

struct ParseResult {
  std::optional<DaemonOptions> options;  // nullopt: exit with `exit_code` after printing `message`
  int exit_code = 0;
  std::string message;
};

ParseResult parse_options(int argc, const char* const argv[]);
// The same with a config file's text instead of the file --config names (tests, the config fuzzer).
ParseResult parse_options(int argc, const char* const argv[], std::string_view config_text,
                          const std::string& config_name);

}  // namespace vauth::daemon
