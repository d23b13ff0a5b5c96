// CTAP1/U2F over CTAPHID_MSG (FIDO U2F Raw Message Formats): VERSION, REGISTER,
// AUTHENTICATE. U2F has no keepalive: without a touch the key answers
// SW_CONDITIONS_NOT_SATISFIED and the client retries, so a touch is remembered
// briefly and consumed by the next request that needs it.
#include "vauth/crypto/primitives.h"
#include "vauth/ctap/apdu.h"
#include "vauth/ctap/attestation.h"
#include "vauth/ctap/commands.h"

namespace vauth::ctap {
namespace {

constexpr uint8_t kRegister = 0x01, kAuthenticate = 0x02, kVersion = 0x03;
constexpr uint8_t kCheckOnly = 0x07, kEnforcePresence = 0x03, kDontEnforcePresence = 0x08;
constexpr size_t kParamLength = 32;
constexpr uint16_t kCommandNotAllowed = 0x6986;  // ISO 7816-4 SW_COMMAND_NOT_ALLOWED
// How long a touch stays valid for the next U2F request (YubiKeys use ~10 s).
constexpr Duration kTouchValidity{10'000};

Bytes with_status(Bytes data, uint16_t status) {
  put_u16_be(data, status);
  return data;
}
Bytes status_only(uint16_t status) { return with_status({}, status); }

// True if the user touched the key for this request (consuming the touch).
// Otherwise asks for a touch that a later retry will find.
bool take_presence(Session& s, const char* operation) {
  const TimePoint now = s.timers.now();
  auto granted = [&] { return s.u2f_presence_until && now <= *s.u2f_presence_until; };
  if (!granted() && !s.u2f_presence_requested) {
    s.u2f_presence_requested = true;
    s.presence.request({operation, ""}, [&s](PresenceResult r) {
      if (s.closed) return;
      s.u2f_presence_requested = false;
      if (r == PresenceResult::Approved) s.u2f_presence_until = s.timers.now() + kTouchValidity;
    });
  }
  if (!granted()) return false;
  s.u2f_presence_until.reset();
  return true;
}

Bytes u2f_register(Session& s, const Apdu& a) {
  if (a.data.size() != 2 * kParamLength) return status_only(sw::kWrongLength);
  if (!take_presence(s, "u2fRegister")) return status_only(sw::kConditionsNotSatisfied);
  ByteView challenge = ByteView(a.data).first(kParamLength);
  ByteView application = ByteView(a.data).subspan(kParamLength);

  auto key = crypto::PrivateKey::generate(crypto::Algorithm::ES256, s.rng);
  const Bytes handle = wrap_credential_id(s.state().master_secret, application, {credential_flag::kU2f, key}, s.rng);
  const Bytes point = key.public_key().uncompressed_point();
  const Bytes signed_data = concat(Bytes{0x00}, application, challenge, handle, point);

  Bytes out{0x05};
  append(out, point);
  out.push_back(static_cast<uint8_t>(handle.size()));
  append(out, handle);
  append(out, s.state().attestation->batch_certificate);
  append(out, batch_attestation_key(s.state()).sign(signed_data));
  return with_status(std::move(out), sw::kNoError);
}

Bytes u2f_authenticate(Session& s, const Apdu& a) {
  if (a.data.size() < 2 * kParamLength + 1) return status_only(sw::kWrongLength);
  ByteView challenge = ByteView(a.data).first(kParamLength);
  ByteView application = ByteView(a.data).subspan(kParamLength, kParamLength);
  const size_t handle_length = a.data[2 * kParamLength];
  ByteView handle = ByteView(a.data).subspan(2 * kParamLength + 1);
  if (handle.size() != handle_length) return status_only(sw::kWrongLength);
  if (a.p1 != kCheckOnly && a.p1 != kEnforcePresence && a.p1 != kDontEnforcePresence) {
    return status_only(sw::kIncorrectP1P2);
  }

  auto secret = s.credential(application, handle);
  if (!secret || secret->key.algorithm() != crypto::Algorithm::ES256) return status_only(sw::kWrongData);
  // "check-only": the handle is ours; U2F reports that as "conditions not satisfied".
  if (a.p1 == kCheckOnly) return status_only(sw::kConditionsNotSatisfied);
  const bool present = a.p1 == kEnforcePresence;
  if (present && !take_presence(s, "u2fAuthenticate")) return status_only(sw::kConditionsNotSatisfied);

  const uint8_t flags = present ? 0x01 : 0x00;
  Bytes counter;
  put_u32_be(counter, s.next_sign_count());
  const Bytes signed_data = concat(application, Bytes{flags}, counter, challenge);
  Bytes out{flags};
  append(out, counter);
  append(out, secret->key.sign(signed_data));
  return with_status(std::move(out), sw::kNoError);
}

}  // namespace

Bytes u2f(Session& s, ByteView raw) {
  auto a = parse_apdu(raw);
  if (!a) return status_only(sw::kWrongLength);
  if (a->cla != 0) return status_only(sw::kClaNotSupported);
  switch (a->ins) {
    case kVersion:
      if (!a->data.empty()) return status_only(sw::kWrongLength);
      return with_status(to_bytes("U2F_V2"), sw::kNoError);
    case kRegister:
    case kAuthenticate:
      // alwaysUv (CTAP 2.1 §6.11.2): U2F cannot verify the user, so it stops working.
      if (s.always_uv()) return status_only(kCommandNotAllowed);
      return a->ins == kRegister ? u2f_register(s, *a) : u2f_authenticate(s, *a);
    default: return status_only(sw::kInsNotSupported);
  }
}

}  // namespace vauth::ctap
