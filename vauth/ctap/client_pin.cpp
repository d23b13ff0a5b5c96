// authenticatorClientPIN with PIN protocol 1 (CTAP 2.0 §5.5): getPINRetries,
// getKeyAgreement, setPIN, changePIN, getPINToken.
#include "vauth/crypto/primitives.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/cose_key.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/pin_protocol.h"

namespace vauth::ctap {
namespace {

constexpr int kPinProtocol = 1, kSubCommand = 2, kKeyAgreement = 3, kPinAuth = 4, kNewPinEnc = 5,
              kPinHashEnc = 6;
// Response keys.
constexpr int kRespKeyAgreement = 1, kRespPinToken = 2, kRespRetries = 3;

constexpr int64_t kGetRetries = 1, kGetKeyAgreement = 2, kSetPin = 3, kChangePin = 4, kGetPinToken = 5;
constexpr uint8_t kMaxConsecutiveFailures = 3;  // then PIN_AUTH_BLOCKED until power cycle
constexpr size_t kMaxPinBytes = 63;
constexpr size_t kMinPaddedPin = 64;

size_t utf8_code_points(ByteView s) {
  size_t n = 0;
  for (uint8_t b : s) n += (b & 0xc0) != 0x80;
  return n;
}

Bytes pin_hash16(ByteView pin) {
  Bytes h = crypto::sha256(pin);
  h.resize(16);
  return h;
}

struct Exchange {
  const PinProtocol* protocol = nullptr;
  Bytes shared;
};

// Reads pinProtocol and keyAgreement and derives the shared secret.
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

// Decrypts newPinEnc and checks the PIN policy; the PIN is the bytes before the first zero.
Status decrypt_new_pin(const Session& s, const Exchange& x, const Bytes& new_pin_enc, Bytes& pin) {
  if (new_pin_enc.size() < kMinPaddedPin || new_pin_enc.size() % 16 != 0) return Status::InvalidParameter;
  auto padded = x.protocol->decrypt(x.shared, new_pin_enc);
  if (!padded) return Status::InvalidParameter;
  auto end = std::find(padded->begin(), padded->end(), uint8_t{0});
  pin.assign(padded->begin(), end);
  crypto::cleanse(*padded);
  if (pin.size() > kMaxPinBytes || utf8_code_points(pin) < s.profile.min_pin_length) {
    return Status::PinPolicyViolation;
  }
  return Status::Ok;
}

// Checks pinHashEnc against the stored PIN hash with the retry rules of
// CTAP 2.0 §5.5.5-7. The decremented retry counter is durable before we answer.
Status check_pin_hash(Session& s, const Exchange& x, const Bytes& pin_hash_enc) {
  const store::State& st = s.state();
  if (st.pin_retries == 0) return Status::PinBlocked;
  if (s.pin.consecutive_failures >= kMaxConsecutiveFailures) return Status::PinAuthBlocked;
  s.store.commit(store::Mutation{store::change::SetPinRetries{static_cast<uint8_t>(st.pin_retries - 1)}});

  auto hash = pin_hash_enc.size() == 16 ? x.protocol->decrypt(x.shared, pin_hash_enc) : std::nullopt;
  if (!hash || !crypto::equal_ct(*hash, *st.pin_hash)) {
    s.regenerate_key_agreement();
    ++s.pin.consecutive_failures;
    if (s.state().pin_retries == 0) return Status::PinBlocked;
    if (s.pin.consecutive_failures >= kMaxConsecutiveFailures) return Status::PinAuthBlocked;
    return Status::PinInvalid;
  }
  s.pin.consecutive_failures = 0;
  s.store.commit(store::Mutation{store::change::SetPinRetries{s.profile.max_pin_retries}});
  return Status::Ok;
}

Response set_pin(Session& s, Fields& f, const PinProtocol* protocol) {
  const Bytes* pin_auth = f.bytes(kPinAuth, true);
  const Bytes* new_pin_enc = f.bytes(kNewPinEnc, true);
  if (!f.ok()) return error(f.error());
  if (s.pin_set()) return error(Status::PinAuthInvalid);  // CTAP 2.0: setPIN only when no PIN exists
  Exchange x;
  if (Status st = key_exchange(s, f, protocol, x); st != Status::Ok) return error(st);
  if (!protocol->verify(x.shared, *new_pin_enc, *pin_auth)) return error(Status::PinAuthInvalid);
  Bytes pin;
  if (Status st = decrypt_new_pin(s, x, *new_pin_enc, pin); st != Status::Ok) return error(st);
  s.store.commit(store::Mutation{store::change::SetPin{pin_hash16(pin), s.profile.max_pin_retries}});
  crypto::cleanse(pin);
  s.regenerate_pin_token();
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
  s.store.commit(store::Mutation{store::change::SetPin{pin_hash16(pin), s.profile.max_pin_retries}});
  crypto::cleanse(pin);
  s.regenerate_pin_token();  // tokens issued under the old PIN stop working
  return Response{};
}

Response get_pin_token(Session& s, Fields& f, const PinProtocol* protocol) {
  const Bytes* pin_hash_enc = f.bytes(kPinHashEnc, true);
  if (!f.ok()) return error(f.error());
  if (!s.pin_set()) return error(Status::PinNotSet);
  Exchange x;
  if (Status st = key_exchange(s, f, protocol, x); st != Status::Ok) return error(st);
  if (Status st = check_pin_hash(s, x, *pin_hash_enc); st != Status::Ok) return error(st);
  auto token = protocol->encrypt(x.shared, s.pin.pin_token, s.rng);
  if (!token) return error(Status::Other);
  return Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespPinToken, *token}})};
}

}  // namespace

Response client_pin(Session& s, const cbor::Value::Map& params) {
  Fields f(params);
  auto version = f.integer(kPinProtocol, true);
  auto sub = f.integer(kSubCommand, true);
  if (!f.ok()) return error(f.error());
  const PinProtocol* protocol = pin_protocol(*version);
  if (!protocol) return error(Status::InvalidParameter);

  switch (*sub) {
    case kGetRetries:
      return Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespRetries, s.state().pin_retries}})};
    case kGetKeyAgreement:
      return Response{Status::Ok, cbor::Value(cbor::Value::Map{
                                      {kRespKeyAgreement, cose_key_agreement(s.pin.key_agreement->public_key())}})};
    case kSetPin: return set_pin(s, f, protocol);
    case kChangePin: return change_pin(s, f, protocol);
    case kGetPinToken: return get_pin_token(s, f, protocol);
    default: return error(Status::InvalidSubcommand);
  }
}

Status verify_pin_uv_auth_param(const Session& s, const Bytes* param, std::optional<int64_t> protocol,
                                ByteView client_data_hash, bool& verified) {
  verified = false;
  if (!param) return Status::Ok;
  if (!protocol) return Status::MissingParameter;
  const PinProtocol* p = pin_protocol(*protocol);
  if (!p || !s.pin_set()) return Status::PinAuthInvalid;
  if (!p->verify(s.pin.pin_token, client_data_hash, *param)) return Status::PinAuthInvalid;
  verified = true;
  return Status::Ok;
}

}  // namespace vauth::ctap
