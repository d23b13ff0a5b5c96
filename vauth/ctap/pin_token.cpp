#include "vauth/ctap/pin_token.h"

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/session.h"

namespace vauth::ctap {
namespace {

// A token that is not used within this long after it was issued expires
// (CTAP 2.1 §6.5.2.1 "initial usage time limit", at least 30 s) ...
bool expired(const Session& s, const PinUvAuthToken& t) {
  const Duration age = s.timers.now() - t.started;
  if (!t.used && age > s.profile.token_initial_usage_limit) return true;
  // ... and no token lives longer than the maximum usage time period.
  return age > s.profile.token_max_usage;
}

}  // namespace

void grant_pin_uv_auth_token(Session& s, const PinProtocol* protocol, uint8_t permissions,
                             std::optional<std::string> rp_id, bool user_verified) {
  PinUvAuthToken& t = s.token;
  if (!t.value.empty()) crypto::cleanse(t.value);
  t.value = s.rng.bytes(32);
  t.in_use = true;
  t.protocol = protocol;
  t.permissions = permissions;
  t.rp_id = std::move(rp_id);
  t.user_present = false;  // a PIN proves knowledge, not presence
  t.user_verified = user_verified;
  t.started = s.timers.now();
  t.used = false;
}

void revoke_pin_uv_auth_token(Session& s) {
  PinUvAuthToken& t = s.token;
  if (!t.value.empty()) crypto::cleanse(t.value);
  t = PinUvAuthToken{};
}

Status verify_pin_uv_auth_param(Session& s, int64_t protocol_version, ByteView param, ByteView message) {
  PinUvAuthToken& t = s.token;
  const PinProtocol* protocol = pin_protocol(protocol_version);
  if (!protocol || !s.profile.pin_protocol_enabled(protocol_version)) return Status::InvalidParameter;
  if (!t.in_use) return Status::PinAuthInvalid;
  if (expired(s, t)) {
    revoke_pin_uv_auth_token(s);
    return Status::PinAuthInvalid;
  }
  if (t.protocol != protocol || !protocol->verify(t.value, message, param)) return Status::PinAuthInvalid;
  t.used = true;
  return Status::Ok;
}

Status require_permission(Session& s, uint8_t needed, const std::string* rp_id) {
  PinUvAuthToken& t = s.token;
  if ((t.permissions & needed) != needed) return Status::PinAuthInvalid;
  if (rp_id) {
    if (t.rp_id && *t.rp_id != *rp_id) return Status::PinAuthInvalid;
    if (!t.rp_id) t.rp_id = *rp_id;
  }
  return Status::Ok;
}

Status authorize_request(Session& s, const Bytes* param, std::optional<int64_t> protocol, ByteView client_data_hash,
                         uint8_t needed, const std::string& rp_id, bool& verified) {
  verified = false;
  if (!param) return Status::Ok;
  if (!protocol) return Status::MissingParameter;
  if (Status st = verify_pin_uv_auth_param(s, *protocol, *param, client_data_hash); st != Status::Ok) return st;
  if (Status st = require_permission(s, needed, &rp_id); st != Status::Ok) return st;
  verified = s.token.user_verified;
  return Status::Ok;
}

void consume_pin_uv_auth_token(Session& s) {
  PinUvAuthToken& t = s.token;
  t.user_present = false;
  t.user_verified = false;
  t.permissions &= permission::kLargeBlobWrite;
}

}  // namespace vauth::ctap
