// authenticatorGetInfo (CTAP 2.1 §6.4). Only what is implemented is advertised.
#include "vauth/ctap/built_in_uv.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/get_info_profile.h"
#include "vauth/ctap/persistent_token.h"

namespace vauth::ctap {

namespace {
// uvModality (FIDO Registry of Predefined Values): USER_VERIFY_FINGERPRINT_INTERNAL.
constexpr uint32_t kUvModalityFingerprint = 0x00000002;
// The longest PIN clientPIN can carry: 63 bytes of UTF-8 in the 64-byte padded
// PIN (pin_policy.h); getInfo maxPINLength says it in code points, so ASCII.
constexpr uint32_t kMaxPinLength = 63;
// authenticatorConfig subcommands (CTAP 2.1 §6.11).
constexpr int kEnableEnterpriseAttestation = 0x01, kToggleAlwaysUv = 0x02, kSetMinPinLength = 0x03;

// attestationFormats (CTAP 2.2 §6.4): what makeCredential can answer with, the
// everyday format first; enterprise attestation is always "packed".
cbor::Value::Array attestation_formats(const Profile& p) {
  cbor::Value::Array formats;
  formats.emplace_back(p.attestation == AttestationMode::None ? "none" : "packed");
  if (p.attestation == AttestationMode::None && p.enterprise_attestation) formats.emplace_back("packed");
  return formats;
}
}  // namespace

Response get_info(const Session& s) {
  const Profile& p = s.profile;
  cbor::Value::Array versions;
  if (p.u2f) versions.emplace_back("U2F_V2");
  versions.emplace_back("FIDO_2_0");
  // Every feature CTAP 2.1 makes mandatory is in (PIN/UV protocol 2,
  // pinUvAuthToken with permissions, credential management, credProtect,
  // authenticatorSelection; see docs/conformance.md), so the key says 2.1 too.
  versions.emplace_back("FIDO_2_1");

  cbor::Value::Map options{{"plat", false},
                           {"rk", p.resident_keys},
                           {"up", true},
                           {"clientPin", s.pin_set()},
                           {"pinUvAuthToken", true},
                           {"credMgmt", p.resident_keys},
                           {"makeCredUvNotRqd", make_cred_uv_not_required(s)}};
  const store::State& st = s.state();
  if (p.built_in_uv) {
    options["uv"] = s.uv_configured();  // capable; true once a finger is enrolled
    options["bioEnroll"] = !st.enrollments.empty();
    options["uvBioEnroll"] = true;  // a be token may come from built-in UV
  }
  if (p.authenticator_config) {
    options["authnrCfg"] = true;
    options["setMinPINLength"] = true;
    options["alwaysUv"] = st.config.always_uv;
  }
  if (p.enterprise_attestation) options["ep"] = st.config.enterprise_attestation;
  const bool large_blobs = p.max_serialized_large_blob_array > 0;
  if (large_blobs) options["largeBlobs"] = true;
  if (persistent_token_supported(p)) options["perCredMgmtRO"] = true;  // CTAP 2.2 pcmr

  // Extensions (CTAP 2.1 §12, CTAP 2.2 §12), each implemented in extensions.cpp.
  cbor::Value::Array extensions{"credProtect", "hmac-secret", "hmac-secret-mc", "credBlob"};
  if (large_blobs) extensions.emplace_back("largeBlobKey");
  extensions.emplace_back("minPinLength");
  extensions.emplace_back("thirdPartyPayment");
  extensions.emplace_back("pinComplexityPolicy");

  cbor::Value::Array algorithms;
  for (crypto::Algorithm a : p.algorithms) {
    algorithms.emplace_back(cbor::Value::Map{{"alg", static_cast<int32_t>(a)}, {"type", "public-key"}});
  }

  cbor::Value::Map info;
  info[0x01] = std::move(versions);
  info[0x02] = std::move(extensions);
  info[0x03] = Bytes(p.aaguid.begin(), p.aaguid.end());
  info[0x04] = std::move(options);
  info[0x05] = p.max_message_size;
  info[0x06] = cbor::Value::Array{2, 1};  // pinUvAuthProtocols, most preferred first
  info[0x07] = p.max_credential_count_in_list;
  info[0x08] = p.max_credential_id_length;
  info[0x09] = cbor::Value::Array{"usb"};
  info[0x0a] = std::move(algorithms);
  if (large_blobs) info[0x0b] = p.max_serialized_large_blob_array;
  if (s.pin_set() || p.authenticator_config) info[0x0c] = st.config.force_pin_change;
  info[0x0d] = s.min_pin_length();
  info[0x0f] = p.max_cred_blob_length;
  if (p.authenticator_config) info[0x10] = p.max_rp_ids_for_set_min_pin_length;
  if (p.built_in_uv) {
    info[0x11] = p.preferred_platform_uv_attempts;
    info[0x12] = kUvModalityFingerprint;
  }
  if (p.resident_keys) {
    const size_t used = st.credentials.size();
    info[0x14] = used < p.max_resident_credentials ? p.max_resident_credentials - used : 0;
  }
  // CTAP 2.2/2.3 fields (shape_info_for_profile drops them for pre-2.1 personas).
  info[0x16] = attestation_formats(p);
  if (p.built_in_uv) info[0x17] = st.uv_count_since_pin_entry;
  info[0x18] = false;                 // longTouchForReset: a plain touch resets (within Profile::reset_window)
  if (persistent_token_supported(p)) {
    if (auto id = enc_identifier(s)) info[0x19] = std::move(*id);
    if (auto state = enc_cred_store_state(s)) info[0x1e] = std::move(*state);
  }
  info[0x1a] = cbor::Value::Array{};  // transportsForReset: filled with the transports by shape_info_for_profile
  info[0x1b] = s.pin_complexity_policy();
  if (!p.pin_complexity_policy_url.empty()) info[0x1c] = to_bytes(p.pin_complexity_policy_url);
  info[0x1d] = kMaxPinLength;
  if (p.authenticator_config) {
    cbor::Value::Array config_commands;
    if (p.enterprise_attestation) config_commands.emplace_back(kEnableEnterpriseAttestation);
    config_commands.emplace_back(kToggleAlwaysUv);
    config_commands.emplace_back(kSetMinPinLength);
    info[0x1f] = std::move(config_commands);  // authenticatorConfigCommands (CTAP 2.3)
  }
  shape_info_for_profile(p, info);  // what the persona advertises
  return Response{Status::Ok, cbor::Value(std::move(info))};
}

}  // namespace vauth::ctap
