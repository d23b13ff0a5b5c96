// vauthd's command line (Boost.Program_options).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "transports/hid_endpoint.h"
#include "transports/usbip_server.h"
#include "vauth/ctap/profile.h"

namespace vauth::daemon {

enum class TransportKind { Auto, Uhid, Usbip };
enum class PresenceMode { Auto, Deny };

struct DaemonOptions {
  TransportKind transport = TransportKind::Auto;
  transport::UsbipOptions usbip;
  size_t devices = 1;
  std::optional<uint64_t> seed;
  ctap::Profile profile;
  transport::HidDeviceInfo hid;
  PresenceMode presence = PresenceMode::Auto;
  uint32_t presence_delay_ms = 0;
  std::optional<std::string> pin;
  std::optional<std::string> export_attestation_ca;
  std::string uhid_path = "/dev/uhid";
};

struct ParseResult {
  std::optional<DaemonOptions> options;  // nullopt: exit with `exit_code` after printing `message`
  int exit_code = 0;
  std::string message;
};

ParseResult parse_options(int argc, const char* const argv[]);

}  // namespace vauth::daemon
