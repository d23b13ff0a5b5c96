// authenticatorConfig (CTAP 2.1 §6.11): enableEnterpriseAttestation,
// toggleAlwaysUv and setMinPINLength. vendorPrototype (0xFF) is refused: this
// key lists no vendorPrototypeConfigCommands.
#include <algorithm>

#include "store/state.h"
#include "vauth/cbor/codec.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/pin_token.h"

namespace vauth::ctap {
namespace {

// Request keys.
constexpr int kSubCommand = 1, kSubCommandParams = 2, kPinUvAuthProtocol = 3, kPinUvAuthParam = 4;
// setMinPINLength subCommandParams keys.
constexpr int kNewMinPinLength = 1, kMinPinLengthRpIds = 2, kForceChangePin = 3,
              kPinComplexityPolicy = 4;  // CTAP 2.2

namespace sub {
constexpr int64_t kEnableEnterpriseAttestation = 1, kToggleAlwaysUv = 2, kSetMinPinLength = 3, kVendorPrototype = 0xff;
}

// pinUvAuthParam = authenticate(token, 32 × 0xff || 0x0d || uint8(subCommand) ||
// subCommandParams) with the acfg permission. Required once the key is protected
// by a PIN or a finger (or alwaysUv is on); a key with neither may be configured
// by anyone who can touch it.
Status authorise(Session& s, int64_t sub_command, const cbor::Value::Map* params, const Bytes* pin_auth,
                 std::optional<int64_t> protocol) {
  if (!s.protected_by_uv() && !s.always_uv()) return Status::Ok;
  if (!pin_auth) return Status::PuatRequired;
  if (!protocol) return Status::MissingParameter;
  Bytes message(32, 0xff);
  message.push_back(command::kConfig);
  message.push_back(static_cast<uint8_t>(sub_command));
  if (params) append(message, cbor::encode(cbor::Value(*params)));
  if (Status st = verify_pin_uv_auth_param(s, *protocol, *pin_auth, message); st != Status::Ok) return st;
  return require_permission(s, permission::kAuthenticatorConfig, nullptr);
}

void commit_config(Session& s, store::AuthenticatorConfig config) {
  s.store.commit(store::Mutation{store::change::SetConfig{std::move(config)}});
}

Response enable_enterprise_attestation(Session& s) {
  if (!s.profile.enterprise_attestation) return error(Status::InvalidParameter);
  store::AuthenticatorConfig config = s.state().config;
  config.enterprise_attestation = true;
  commit_config(s, std::move(config));
  return Response{};
}

Response toggle_always_uv(Session& s) {
  store::AuthenticatorConfig config = s.state().config;
  config.always_uv = !config.always_uv;
  commit_config(s, std::move(config));
  return Response{};
}

// §6.11.4: the minimum only grows; listing RP IDs replaces the list; the PIN
// must change when asked to or when it is now too short. CTAP 2.2's
// pinComplexityPolicy (0x04) likewise only tightens: true turns the policy on,
// false while it is on is PIN_POLICY_VIOLATION. Turning it on does not force a
// PIN change by itself (the key cannot judge a PIN it only keeps a hash of);
// the platform adds forceChangePin when it wants one.
Response set_min_pin_length(Session& s, const cbor::Value::Map* params) {
  const cbor::Value::Map empty;
  Fields f(params ? *params : empty);
  auto length = f.integer(kNewMinPinLength, false);
  const cbor::Value::Array* rp_ids = f.array(kMinPinLengthRpIds, false);
  auto force = f.boolean(kForceChangePin, false);
  auto complexity = f.boolean(kPinComplexityPolicy, false);
  if (!f.ok()) return error(f.error());
  if (complexity && !*complexity && s.pin_complexity_policy()) return error(Status::PinPolicyViolation);
  const size_t current = s.min_pin_length();
  if (length && (*length < 0 || *length > 63)) return error(Status::PinPolicyViolation);  // no PIN could meet it
  const size_t wanted = length ? static_cast<size_t>(*length) : current;
  if (wanted < current) return error(Status::PinPolicyViolation);
  std::vector<std::string> ids;
  if (rp_ids) {
    if (rp_ids->size() > s.profile.max_rp_ids_for_set_min_pin_length) return error(Status::InvalidLength);
    for (const cbor::Value& id : *rp_ids) {
      if (!id.is_text()) return error(Status::CborUnexpectedType);
      ids.push_back(id.as_text());
    }
  }
  if (force.value_or(false) && !s.pin_set()) return error(Status::PinNotSet);

  store::AuthenticatorConfig config = s.state().config;
  config.min_pin_length = static_cast<uint8_t>(wanted);
  if (rp_ids) config.min_pin_length_rp_ids = std::move(ids);
  if (complexity.value_or(false)) config.pin_complexity_policy = true;
  const bool too_short = s.pin_set() && s.state().pin_code_points != 0 && s.state().pin_code_points < wanted;
  if (force.value_or(false) || too_short) config.force_pin_change = true;
  commit_config(s, std::move(config));
  // A token issued before the policy changed no longer speaks for it.
  if (s.state().config.force_pin_change) revoke_pin_uv_auth_token(s);
  return Response{};
}

}  // namespace

Response authenticator_config(Session& s, const cbor::Value::Map& params) {
  Fields f(params);
  auto sub_command = f.integer(kSubCommand, true);
  const cbor::Value::Map* sub_params = f.map(kSubCommandParams, false);
  auto protocol = f.integer(kPinUvAuthProtocol, false);
  const Bytes* pin_auth = f.bytes(kPinUvAuthParam, false);
  if (!f.ok()) return error(f.error());
  switch (*sub_command) {
    case sub::kEnableEnterpriseAttestation:
    case sub::kToggleAlwaysUv:
    case sub::kSetMinPinLength: break;
    case sub::kVendorPrototype:  // no vendor commands are listed, so none is supported
    default: return error(Status::InvalidSubcommand);
  }
  if (Status st = authorise(s, *sub_command, sub_params, pin_auth, protocol); st != Status::Ok) return error(st);
  switch (*sub_command) {
    case sub::kEnableEnterpriseAttestation: return enable_enterprise_attestation(s);
    case sub::kToggleAlwaysUv: return toggle_always_uv(s);
    default: return set_min_pin_length(s, sub_params);
  }
}

}  // namespace vauth::ctap
