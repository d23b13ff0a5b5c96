// authenticatorClientPIN (CTAP 2.1 §6.5.5): getPINRetries, getKeyAgreement,
// setPIN, changePIN, getPinToken, getPinUvAuthTokenUsingPinWithPermissions,
// getPinUvAuthTokenUsingUvWithPermissions and getUVRetries, with PIN/UV auth
// protocols 1 and 2.
#include <algorithm>

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/cose_key.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/persistent_token.h"
#include "vauth/ctap/pin_policy.h"
#include "vauth/ctap/pin_protocol.h"
#include "vauth/ctap/pin_token.h"

namespace vauth::ctap {
namespace {

constexpr int kPinProtocol = 1, kSubCommand = 2, kKeyAgreement = 3, kPinAuth = 4, kNewPinEnc = 5,
              kPinHashEnc = 6, kPermissions = 9, kRpId = 0x0a;
// Response keys.
constexpr int kRespKeyAgreement = 1, kRespPinToken = 2, kRespRetries = 3, kRespPowerCycleState = 4,
              kRespUvRetries = 5;

constexpr int64_t kGetRetries = 1, kGetKeyAgreement = 2, kSetPin = 3, kChangePin = 4, kGetPinToken = 5,
                  kGetTokenUsingUv = 6, kGetUvRetries = 7, kGetTokenUsingPin = 9;
constexpr uint8_t kMaxConsecutiveFailures = 3;  // then PIN_AUTH_BLOCKED until power cycle
constexpr size_t kPaddedPinLength = 64;

// Permissions this authenticator can grant; the others are UNAUTHORIZED_PERMISSION.
uint8_t supported_permissions(const Session& s) {
  uint8_t p = permission::kMakeCredential | permission::kGetAssertion | permission::kCredentialManagement;
  if (s.profile.built_in_uv) p |= permission::kBioEnrollment;
  if (s.profile.authenticator_config) p |= permission::kAuthenticatorConfig;
  if (s.profile.max_serialized_large_blob_array > 0) p |= permission::kLargeBlobWrite;
  if (persistent_token_supported(s.profile)) p |= permission::kCredentialManagementReadOnly;
  return p;
}

// The permissions a ...WithPermissions request may ask for. pcmr names the
// persistentPinUvAuthToken, a different token, so it cannot share a request with
// permissions of the ordinary token: UNAUTHORIZED_PERMISSION, as for a permission
// the key cannot grant (what CTAP 2.2 keys such as pico-fido answer).
Status check_permissions(const Session& s, uint8_t requested) {
  if ((requested & ~supported_permissions(s)) != 0) return Status::UnauthorizedPermission;
  if ((requested & permission::kCredentialManagementReadOnly) &&
      requested != permission::kCredentialManagementReadOnly) {
    return Status::UnauthorizedPermission;
  }
  return Status::Ok;
}

// The answer to a successful token request: a pcmr request gets the persistent
// token and leaves the pinUvAuthToken as it was (CTAP 2.2 §6.5.5.7); anything
// else gets a fresh pinUvAuthToken, which replaces the previous one.
Response issue_token(Session& s, const PinProtocol* protocol, ByteView shared, uint8_t permissions,
                     std::optional<std::string> rp_id, bool user_present) {
  Bytes plain;
  if (permissions == permission::kCredentialManagementReadOnly) {
    plain = issue_persistent_token(s);  // bound to no RP: rpId is ignored
  } else {
    grant_pin_uv_auth_token(s, protocol, permissions, std::move(rp_id), true);
    s.token.user_present = user_present;
    plain = s.token.value;
  }
  auto token = protocol->encrypt(shared, plain, s.rng);
  crypto::cleanse(plain);
  if (!token) return error(Status::Other);
  return Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespPinToken, *token}})};
}

size_t code_points(ByteView pin) {
  // UTF-8 lead bytes (continuation bytes are 10xxxxxx).
  return static_cast<size_t>(std::count_if(pin.begin(), pin.end(), [](uint8_t b) { return (b & 0xc0) != 0x80; }));
}

// SetPin with what setMinPINLength later needs to know: the new PIN's length.
std::vector<store::Mutation> new_pin_changes(const Session& s, ByteView pin) {
  return {store::Mutation{store::change::SetPin{pin_hash(pin), s.profile.max_pin_retries}},
          store::Mutation{store::change::SetPinCodePoints{static_cast<uint8_t>(std::min<size_t>(code_points(pin), 255))}}};
}

struct Exchange {
  const PinProtocol* protocol = nullptr;
  Bytes shared;
};

// Reads keyAgreement and derives the shared secret under `protocol`.
Status key_exchange(Session& s, Fields& f, const PinProtocol* protocol, Exchange& out) {
  const cbor::Value* ka = f.any(kKeyAgreement);
  if (!ka) return Status::MissingParameter;
  std::optional<crypto::PublicKey> peer;
  if (Status st = parse_key_agreement(*ka, peer); st != Status::Ok) return st;
  auto shared = protocol->shared_secret(*s.pin.key_agreement, *peer);
  if (!shared) return Status::InvalidParameter;
  out = {protocol, std::move(*shared)};
  return Status::Ok;
}

// Decrypts newPinEnc (a 64-byte padded PIN) and checks the PIN policy.
Status decrypt_new_pin(const Session& s, const Exchange& x, const Bytes& new_pin_enc, Bytes& pin) {
  auto padded = x.protocol->decrypt(x.shared, new_pin_enc);
  if (!padded || padded->size() != kPaddedPinLength) return Status::InvalidParameter;
  auto end = std::find(padded->begin(), padded->end(), uint8_t{0});
  pin.assign(padded->begin(), end);
  crypto::cleanse(*padded);
  if (!pin_meets_policy(pin, s.min_pin_length()) || (s.pin_complexity_policy() && !pin_meets_complexity_policy(pin))) {
    crypto::cleanse(pin);
    return Status::PinPolicyViolation;
  }
  return Status::Ok;
}

// Checks pinHashEnc against the stored PIN hash with the retry rules of
// CTAP 2.1 §6.5.5.5. The decremented retry counter is durable before we answer.
// A pinHashEnc that does not even decrypt to 16 bytes is malformed input: it is
// refused without spending a retry.
Status check_pin_hash(Session& s, const Exchange& x, const Bytes& pin_hash_enc) {
  const store::State& st = s.state();
  if (st.pin_retries == 0) return Status::PinBlocked;
  if (s.pin.consecutive_failures >= kMaxConsecutiveFailures) return Status::PinAuthBlocked;
  std::optional<crypto::SecretBytes> hash;  // the platform's PIN hash: wiped when we return
  if (auto plain = x.protocol->decrypt(x.shared, pin_hash_enc)) hash = std::move(*plain);
  if (!hash || hash->size() != 16) return Status::InvalidParameter;

  s.store.commit(store::Mutation{store::change::SetPinRetries{static_cast<uint8_t>(st.pin_retries - 1)}});
  if (!crypto::equal_ct(*hash, *st.pin_hash)) {
    s.regenerate_key_agreement();
    ++s.pin.consecutive_failures;
    if (s.state().pin_retries == 0) return Status::PinBlocked;
    if (s.pin.consecutive_failures >= kMaxConsecutiveFailures) return Status::PinAuthBlocked;
    return Status::PinInvalid;
  }
  s.pin.consecutive_failures = 0;
  // The right PIN also unblocks the fingerprint sensor (uvRetries back to the maximum).
  std::vector<store::Mutation> changes{store::Mutation{store::change::SetPinRetries{s.profile.max_pin_retries}}};
  if (s.profile.built_in_uv && s.state().uv_retries != s.profile.max_uv_retries) {
    changes.push_back(store::Mutation{store::change::SetUvRetries{s.profile.max_uv_retries}});
  }
  // getInfo uvCountSinceLastPinEntry counts from here again.
  if (s.state().uv_count_since_pin_entry != 0) {
    changes.push_back(store::Mutation{store::change::SetUvCountSincePinEntry{0}});
  }
  s.store.commit(changes);
  return Status::Ok;
}

Response set_pin(Session& s, Fields& f, const PinProtocol* protocol) {
  const Bytes* pin_auth = f.bytes(kPinAuth, true);
  const Bytes* new_pin_enc = f.bytes(kNewPinEnc, true);
  if (!f.ok()) return error(f.error());
  if (s.pin_set()) return error(Status::NotAllowed);  // changePIN is the way to replace a PIN
  Exchange x;
  if (Status st = key_exchange(s, f, protocol, x); st != Status::Ok) return error(st);
  if (!protocol->verify(x.shared, *new_pin_enc, *pin_auth)) return error(Status::PinAuthInvalid);
  Bytes pin;
  if (Status st = decrypt_new_pin(s, x, *new_pin_enc, pin); st != Status::Ok) return error(st);
  s.store.commit(new_pin_changes(s, pin));
  crypto::cleanse(pin);
  return Response{};
}

Response change_pin(Session& s, Fields& f, const PinProtocol* protocol) {
  const Bytes* pin_auth = f.bytes(kPinAuth, true);
  const Bytes* new_pin_enc = f.bytes(kNewPinEnc, true);
  const Bytes* pin_hash_enc = f.bytes(kPinHashEnc, true);
  if (!f.ok()) return error(f.error());
  if (!s.pin_set()) return error(Status::PinNotSet);
  if (s.state().pin_retries == 0) return error(Status::PinBlocked);
  Exchange x;
  if (Status st = key_exchange(s, f, protocol, x); st != Status::Ok) return error(st);
  if (!protocol->verify(x.shared, concat(*new_pin_enc, *pin_hash_enc), *pin_auth)) {
    return error(Status::PinAuthInvalid);
  }
  if (Status st = check_pin_hash(s, x, *pin_hash_enc); st != Status::Ok) return error(st);
  Bytes pin;
  if (Status st = decrypt_new_pin(s, x, *new_pin_enc, pin); st != Status::Ok) return error(st);
  // forcePINChange wants a different PIN, not the same one again (CTAP 2.1 §6.5.5.6).
  if (s.state().config.force_pin_change && crypto::equal_ct(pin_hash(pin), *s.state().pin_hash)) {
    crypto::cleanse(pin);
    return error(Status::PinPolicyViolation);
  }
  std::vector<store::Mutation> changes = new_pin_changes(s, pin);
  // The persistentPinUvAuthToken speaks for the old PIN: it goes in the same
  // commit as the new PIN (CTAP 2.2 changePIN resets it), so no crash can split them.
  if (!s.state().persistent_token.empty()) changes.push_back(store::Mutation{store::change::SetPersistentToken{}});
  if (s.state().config.force_pin_change) {
    store::AuthenticatorConfig config = s.state().config;
    config.force_pin_change = false;
    changes.push_back(store::Mutation{store::change::SetConfig{std::move(config)}});
  }
  s.store.commit(changes);
  crypto::cleanse(pin);
  revoke_pin_uv_auth_token(s);  // tokens issued under the old PIN stop working
  return Response{};
}

// getPinToken (0x05, permissions mc+ga, no RP) and
// getPinUvAuthTokenUsingPinWithPermissions (0x09).
Response get_token(Session& s, Fields& f, const PinProtocol* protocol, bool with_permissions) {
  const Bytes* pin_hash_enc = f.bytes(kPinHashEnc, true);
  auto permissions = f.integer(kPermissions, with_permissions);
  const std::string* rp_id = f.text(kRpId, false);
  if (!f.ok()) return error(f.error());
  uint8_t granted = permission::kMakeCredential | permission::kGetAssertion;
  if (with_permissions) {
    if (*permissions <= 0 || *permissions > 0xff) return error(Status::InvalidParameter);
    granted = static_cast<uint8_t>(*permissions);
    if (Status st = check_permissions(s, granted); st != Status::Ok) return error(st);
  } else if (permissions || rp_id) {
    return error(Status::InvalidParameter);  // getPinToken takes neither
  }
  if (!s.pin_set()) return error(Status::PinNotSet);
  Exchange x;
  if (Status st = key_exchange(s, f, protocol, x); st != Status::Ok) return error(st);
  if (Status st = check_pin_hash(s, x, *pin_hash_enc); st != Status::Ok) return error(st);
  // After setMinPINLength(forceChangePin) the PIN is right but must be changed first.
  if (s.state().config.force_pin_change) return error(Status::PinPolicyViolation);

  std::optional<std::string> bound;
  if (rp_id) bound = *rp_id;
  return issue_token(s, protocol, x.shared, granted, std::move(bound), false);
}

// getPinUvAuthTokenUsingUvWithPermissions (0x06): a token for a finger on the
// sensor. Asynchronous: the reading may wait for the control API.
void get_token_using_uv(Session& s, Fields& f, const PinProtocol* protocol, Done done) {
  auto permissions = f.integer(kPermissions, true);
  const std::string* rp_id = f.text(kRpId, false);
  if (!f.ok()) return done(error(f.error()));
  if (!f.any(kKeyAgreement)) return done(error(Status::MissingParameter));
  if (*permissions <= 0 || *permissions > 0xff) return done(error(Status::InvalidParameter));
  const auto granted = static_cast<uint8_t>(*permissions);
  if (Status st = check_permissions(s, granted); st != Status::Ok) return done(error(st));
  if (!s.uv_configured()) return done(error(Status::NotAllowed));  // no sensor, or no finger enrolled
  if (s.state().uv_retries == 0) return done(error(Status::UvBlocked));
  Exchange x;
  if (Status st = key_exchange(s, f, protocol, x); st != Status::Ok) return done(error(st));
  std::optional<std::string> bound;
  if (rp_id) bound = *rp_id;
  UvRequest reading{"getPinUvAuthToken", rp_id ? *rp_id : ""};
  s.verify_user(std::move(reading), [&s, done, granted, x = std::move(x), bound = std::move(bound)](Status st) {
    if (st != Status::Ok) return done(error(st));
    done(issue_token(s, x.protocol, x.shared, granted, bound, true));  // the finger was a touch too
  });
}

}  // namespace

void client_pin(Session& s, const cbor::Value::Map& params, Done done) {
  Fields f(params);
  auto sub = f.integer(kSubCommand, true);
  if (!f.ok()) return done(error(f.error()));
  if (*sub == kGetTokenUsingUv) {
    auto version = f.integer(kPinProtocol, true);
    if (!f.ok()) return done(error(f.error()));
    const PinProtocol* protocol = pin_protocol(*version);
    if (!protocol) return done(error(Status::InvalidParameter));
    return get_token_using_uv(s, f, protocol, std::move(done));
  }
  done(client_pin(s, params));
}

Response client_pin(Session& s, const cbor::Value::Map& params) {
  Fields f(params);
  auto sub = f.integer(kSubCommand, true);
  if (!f.ok()) return error(f.error());
  // getPINRetries and getUVRetries need no protocol; everything else does.
  const bool needs_protocol = *sub != kGetRetries && *sub != kGetUvRetries;
  auto version = f.integer(kPinProtocol, needs_protocol);
  if (!f.ok()) return error(f.error());
  // Only the protocols this profile offers exist (a 2.0 persona has just protocol 1).
  const PinProtocol* protocol = version && s.profile.pin_protocol_enabled(*version) ? pin_protocol(*version) : nullptr;
  if (version && !protocol) return error(Status::InvalidParameter);
  // A key without CTAP 2.1 pinUvAuthTokens knows no "...WithPermissions" subcommands.
  if (!s.profile.pin_uv_auth_token && (*sub == kGetTokenUsingPin || *sub == kGetTokenUsingUv)) {
    return error(Status::InvalidSubcommand);
  }

  switch (*sub) {
    case kGetRetries:
      return Response{Status::Ok, cbor::Value(cbor::Value::Map{
                                      {kRespRetries, s.state().pin_retries},
                                      {kRespPowerCycleState, s.pin.consecutive_failures >= kMaxConsecutiveFailures}})};
    case kGetKeyAgreement:
      return Response{Status::Ok, cbor::Value(cbor::Value::Map{
                                      {kRespKeyAgreement, cose_key_agreement(s.pin.key_agreement->public_key())}})};
    case kSetPin: return set_pin(s, f, protocol);
    case kChangePin: return change_pin(s, f, protocol);
    case kGetPinToken: return get_token(s, f, protocol, false);
    case kGetTokenUsingPin: return get_token(s, f, protocol, true);
    case kGetUvRetries:
      if (!s.profile.built_in_uv) return error(Status::InvalidSubcommand);
      return Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespUvRetries, s.state().uv_retries}})};
    default: return error(Status::InvalidSubcommand);
  }
}

}  // namespace vauth::ctap
