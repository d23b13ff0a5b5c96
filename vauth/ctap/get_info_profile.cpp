#include "vauth/ctap/get_info_profile.h"

#include <algorithm>

#include "vauth/ctap/status.h"

namespace vauth::ctap {
namespace {

// getInfo keys (CTAP 2.1 §6.4).
constexpr int kVersions = 0x01, kExtensions = 0x02, kOptions = 0x04, kPinUvAuthProtocols = 0x06,
              kTransports = 0x09, kFirmwareVersion = 0x0e;
// CTAP 2.2/2.3 keys: vendorPrototypeConfigCommands (0x15) up to authenticatorConfigCommands (0x1F).
constexpr int kFirstCtap22Key = 0x15, kTransportsForReset = 0x1a, kAuthenticatorConfigCommands = 0x1f;

// A persona that says neither FIDO_2_1 nor anything later is a key from before
// CTAP 2.2 existed (ctap2.0, yubikey5 with FIDO_2_1_PRE): it has none of the 2.2 fields.
bool advertises_ctap21(const Profile& p) {
  if (!p.versions) return true;
  return std::any_of(p.versions->begin(), p.versions->end(),
                     [](const std::string& v) { return v == "FIDO_2_1" || v == "FIDO_2_2" || v == "FIDO_2_3"; });
}

cbor::Value::Array text_array(const std::vector<std::string>& items) {
  cbor::Value::Array out;
  for (const auto& i : items) out.emplace_back(i);
  return out;
}

// Options that only make sense while their command is served.
void drop_options_of_disabled_commands(const Profile& p, cbor::Value::Map& options) {
  namespace c = command;
  const bool full = p.command_enabled(c::kCredentialManagement);
  const bool preview = p.command_enabled(c::kCredentialManagementPreview);
  auto cred_mgmt = options.find(cbor::Value("credMgmt"));
  if (cred_mgmt != options.end() && !full) {
    // A FIDO_2_1_PRE key (e.g. a YubiKey 5.4) says "credentialMgmtPreview" and serves only 0x41.
    if (preview) options[cbor::Value("credentialMgmtPreview")] = cred_mgmt->second;
    options.erase(cred_mgmt);
  }
  if (!p.command_enabled(c::kBioEnrollment)) options.erase(cbor::Value("bioEnroll"));
  if (!p.command_enabled(c::kLargeBlobs)) options.erase(cbor::Value("largeBlobs"));
  if (!p.command_enabled(c::kConfig)) {
    options.erase(cbor::Value("authnrCfg"));
    options.erase(cbor::Value("setMinPINLength"));
  }
  if (!p.pin_uv_auth_token) options.erase(cbor::Value("pinUvAuthToken"));
}

void drop_ctap22_fields(cbor::Value::Map& info) {
  for (auto it = info.begin(); it != info.end();) {
    const bool later = it->first.is_unsigned() && it->first.as_unsigned() >= kFirstCtap22Key;
    it = later ? info.erase(it) : std::next(it);
  }
  if (auto it = info.find(cbor::Value(kOptions)); it != info.end() && it->second.is_map()) {
    it->second.as_map().erase(cbor::Value("perCredMgmtRO"));
  }
}

}  // namespace

void shape_info_for_profile(const Profile& p, cbor::Value::Map& info) {
  if (p.versions) {
    std::vector<std::string> versions;
    for (const auto& v : *p.versions) {
      if (v != "U2F_V2" || p.u2f) versions.push_back(v);  // --no-u2f wins over the persona
    }
    info[cbor::Value(kVersions)] = text_array(versions);
  }

  if (auto it = info.find(cbor::Value(kExtensions)); it != info.end() && it->second.is_array()) {
    cbor::Value::Array kept;
    for (const auto& e : it->second.as_array()) {
      if (e.is_text() && p.extension_enabled(e.as_text())) kept.push_back(e);
    }
    if (kept.empty()) info.erase(it);
    else it->second = std::move(kept);
  }

  if (auto it = info.find(cbor::Value(kOptions)); it != info.end() && it->second.is_map()) {
    drop_options_of_disabled_commands(p, it->second.as_map());
  }

  cbor::Value::Array protocols;
  for (int64_t v : p.pin_protocols) protocols.emplace_back(v);
  info[cbor::Value(kPinUvAuthProtocols)] = std::move(protocols);
  info[cbor::Value(kTransports)] = text_array(p.transports);
  if (p.firmware_version) info[cbor::Value(kFirmwareVersion)] = *p.firmware_version;

  if (!advertises_ctap21(p)) {
    drop_ctap22_fields(info);
    return;
  }
  // authenticatorReset is served on every transport the key has.
  if (info.contains(cbor::Value(kTransportsForReset))) {
    info[cbor::Value(kTransportsForReset)] = text_array(p.transports);
  }
  if (!p.command_enabled(command::kConfig)) info.erase(cbor::Value(kAuthenticatorConfigCommands));
}

}  // namespace vauth::ctap
