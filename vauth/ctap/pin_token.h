// The pinUvAuthToken (CTAP 2.1 §6.5.2.1 "pinUvAuthToken state" and §6.5.5.7):
// issued by clientPIN with a set of permissions and optionally bound to one RP,
// it authorises commands through pinUvAuthParam = authenticate(token, message).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vauth/base/clock.h"
#include "vauth/base/bytes.h"
#include "vauth/ctap/pin_protocol.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {

namespace permission {
constexpr uint8_t kMakeCredential = 0x01, kGetAssertion = 0x02, kCredentialManagement = 0x04,
                  kBioEnrollment = 0x08, kLargeBlobWrite = 0x10, kAuthenticatorConfig = 0x20,
                  kCredentialManagementReadOnly = 0x40;  // pcmr (CTAP 2.2)
}

class Session;

struct PinUvAuthToken {
  Bytes value;                          // 32 random bytes
  bool in_use = false;
  const PinProtocol* protocol = nullptr;  // only the protocol it was issued under verifies it
  uint8_t permissions = 0;
  std::optional<std::string> rp_id;     // the permissions RP ID, once bound
  bool user_present = false;
  bool user_verified = false;
  TimePoint started{};
  bool used = false;                    // used at least once since started
};

// Issues a fresh token (the previous one stops working) with these permissions.
void grant_pin_uv_auth_token(Session& s, const PinProtocol* protocol, uint8_t permissions,
                             std::optional<std::string> rp_id, bool user_verified);
// Forgets the token: after a PIN change, reset, power cycle, or failed verification policy.
void revoke_pin_uv_auth_token(Session& s);

// Checks a pinUvAuthParam over `message` against the current token:
// PIN_AUTH_INVALID when no token is in use (never issued, expired, revoked),
// when it was issued under another protocol, or when the MAC does not match.
Status verify_pin_uv_auth_param(Session& s, int64_t protocol_version, ByteView param, ByteView message);

// After a successful verify: PIN_AUTH_INVALID unless the token carries `needed`
// and, when `rp_id` is given, is bound to that RP (CTAP 2.1 §6.1.2 step 11,
// §6.8; UNAUTHORIZED_PERMISSION is only for asking clientPIN for permissions
// the key cannot grant). A token with no RP
// yet becomes bound to `rp_id` (CTAP 2.1 makeCredential/getAssertion step 6).
Status require_permission(Session& s, uint8_t needed, const std::string* rp_id);

// makeCredential/getAssertion step "verify pinUvAuthParam": no parameter leaves
// `verified` false; otherwise MISSING_PARAMETER without a protocol, then
// verify_pin_uv_auth_param over clientDataHash, then require_permission for this RP.
Status authorize_request(Session& s, const Bytes* param, std::optional<int64_t> protocol, ByteView client_data_hash,
                         uint8_t needed, const std::string& rp_id, bool& verified);

// The usage rules after makeCredential/getAssertion consumed the token: the
// user-present and user-verified flags clear, and every permission except lbw.
void consume_pin_uv_auth_token(Session& s);

}  // namespace vauth::ctap
