// authenticatorGetInfo as the control API shows it (GET /v1/devices/{n}/info):
// the CTAP map with its member names (CTAP 2.1 §6.4, CTAP 2.2 for 0x15..0x1F)
// instead of numbers, byte strings as base64url (the AAGUID as a UUID), and
// unknown keys kept under their number, so nothing the key says is hidden.
#pragma once

#include <nlohmann/json.hpp>

#include "vauth/cbor/value.h"

namespace vauth::daemon {

nlohmann::json get_info_json(const cbor::Value& info);

}  // namespace vauth::daemon
