#include "vauth/ctap/get_info_profile.h"

#include "vauth/ctap/status.h"

namespace vauth::ctap {
namespace {

// getInfo keys (CTAP 2.1 §6.4).
constexpr int kVersions = 0x01, kExtensions = 0x02, kOptions = 0x04, kPinUvAuthProtocols = 0x06,
              kTransports = 0x09, kFirmwareVersion = 0x0e;

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
}

}  // namespace vauth::ctap
