// Human names of CTAP2 commands and U2F instructions: what traces print and
// what fault rules match ("makeCredential", "u2fAuthenticate").
#pragma once

#include <cstdint>
#include <string>

#include "vauth/base/bytes.h"

namespace vauth::ctap {

// "makeCredential", "clientPIN", ... or "0x42" for bytes no command owns.
std::string command_name(uint8_t command);
// "u2fRegister", "u2fAuthenticate", "u2fVersion" or "u2f 0x42".
std::string u2f_instruction_name(ByteView apdu);

}  // namespace vauth::ctap
