// How the control API shows a device and its credentials. Credential fields
// follow the W3C WebAuthn "Automation" Credential Parameters (credentialId,
// isResidentCredential, rpId, userHandle, signCount), so tests written for
// browser virtual authenticators read them unchanged. Private keys never leave.
#pragma once

#include <nlohmann/json.hpp>

#include "store/state.h"
#include "vauth/daemon/virtual_device.h"

namespace vauth::daemon {

// One line of GET /v1/devices.
nlohmann::json device_brief(const VirtualDevice& d);
// GET /v1/devices/{n}: the brief plus state, presence and profile details.
nlohmann::json device_detail(const VirtualDevice& d);
nlohmann::json presence_json(const VirtualDevice& d);
nlohmann::json credential_json(const store::Credential& c, uint32_t sign_count);
// Every stored credential (discoverable, and non-discoverable ones added through the
// control API), by RP ID and then oldest first.
nlohmann::json credentials_json(const store::State& state);
std::string uuid_string(const std::array<uint8_t, 16>& bytes);

}  // namespace vauth::daemon
