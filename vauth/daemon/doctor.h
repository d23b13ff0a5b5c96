// `vauthd doctor`: checks whether this machine can show vauth keys to its
// clients and, for each problem, says what to do about it: /dev/uhid (module,
// permissions), FIDO hidraw nodes (usage page 0xF1D0) and whether the user can
// open them (what a browser needs), vhci-hcd and the usbip tool for USB/IP.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

namespace vauth::daemon {

struct DoctorOptions {
  // Where /dev and /sys are looked up (tests point it at a fixture tree).
  std::filesystem::path root = "/";
  std::string uhid_path = "/dev/uhid";
  // Whose access to check: a user name or uid. Default: the invoking user
  // (under sudo, the user who ran sudo: a browser runs as them, not as root).
  std::optional<std::string> user;
};

// Prints one line per check (OK / WARN / FAIL / INFO, with the fix for each
// problem). Returns 0 when the UHID route is usable by that user, else 1.
int run_doctor(const DoctorOptions& options, std::ostream& out);

// `vauthd doctor [--root DIR] [--uhid-path PATH] [--user USER]`: argv[0] is "doctor".
int doctor_main(int argc, const char* const argv[]);

}  // namespace vauth::daemon
