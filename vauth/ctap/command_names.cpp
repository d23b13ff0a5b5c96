#include "vauth/ctap/command_names.h"

#include <cstdio>

#include "vauth/ctap/status.h"

namespace vauth::ctap {
namespace {

std::string hex_byte(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

}  // namespace

std::string command_name(uint8_t cmd) {
  switch (cmd) {
    case command::kMakeCredential: return "makeCredential";
    case command::kGetAssertion: return "getAssertion";
    case command::kGetInfo: return "getInfo";
    case command::kClientPin: return "clientPIN";
    case command::kReset: return "reset";
    case command::kGetNextAssertion: return "getNextAssertion";
    case command::kBioEnrollment: return "bioEnrollment";
    case command::kCredentialManagement: return "credentialManagement";
    case command::kSelection: return "selection";
    case command::kLargeBlobs: return "largeBlobs";
    case command::kConfig: return "config";
    case command::kCredentialManagementPreview: return "credentialManagementPreview";  // 0x41
    case 0x40: return "bioEnrollmentPreview";
  }
  return hex_byte(cmd);
}

std::string u2f_instruction_name(ByteView apdu) {
  if (apdu.size() < 2) return "u2f (short APDU)";
  switch (apdu[1]) {
    case 0x01: return "u2fRegister";
    case 0x02: return "u2fAuthenticate";
    case 0x03: return "u2fVersion";
  }
  return "u2f " + hex_byte(apdu[1]);
}

}  // namespace vauth::ctap
