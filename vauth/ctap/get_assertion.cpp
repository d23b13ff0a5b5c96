// authenticatorGetAssertion and authenticatorGetNextAssertion (CTAP 2.1 §6.2-6.3).
#include <memory>

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/auth_data.h"
#include "vauth/ctap/built_in_uv.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/extensions.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/pin_token.h"
#include "vauth/ctap/quirks.h"

namespace vauth::ctap {
namespace {

constexpr int kRpId = 1, kClientDataHash = 2, kAllowList = 3, kExtensions = 4, kOptions = 5,
              kPinUvAuthParam = 6, kPinUvAuthProtocol = 7;
// Response keys.
constexpr int kCredential = 1, kAuthData = 2, kSignature = 3, kUser = 4, kNumberOfCredentials = 5,
              kLargeBlobKey = 7;

struct Request {
  std::string rp_id;
  Bytes rp_id_hash;
  Bytes client_data_hash;
  std::vector<CredentialDescriptor> allow_list;
  bool user_presence = true;
  bool user_verified = false;
  bool used_token = false;
  GetAssertionExtensions ext;
};

// Signs one assertion. `total` is how many discoverable credentials matched
// (0 for an allow-list match): it decides how much of the user entity is shown.
// `id_flags` are the flags the credential ID carried (0 when it came from the store).
Response sign_assertion(Session& s, const Request& r, ByteView id, uint8_t id_flags, const crypto::PrivateKey& key,
                        const store::Credential* resident, size_t total, bool first) {
  AssertionOutputs extensions = assertion_outputs(s, r.ext, id, id_flags, resident, r.user_verified);
  AuthData ad;
  ad.rp_id_hash = r.rp_id_hash;
  ad.user_present = r.user_presence;
  ad.user_verified = r.user_verified;
  ad.sign_count = s.next_sign_count();
  if (!extensions.auth_data_extensions.empty()) ad.extensions = cbor::Value(std::move(extensions.auth_data_extensions));
  if (s.profile.quirks.attested_data_in_assertion) {
    ad.attested = AttestedCredential{s.profile.aaguid, Bytes(id.begin(), id.end()), key.public_key()};
  }
  s.before_signing(ad);
  const Bytes auth_data = ad.serialize();

  cbor::Value::Map out;
  out[kCredential] = cbor::Value::Map{{"id", Bytes(id.begin(), id.end())}, {"type", "public-key"}};
  out[kAuthData] = auth_data;
  out[kSignature] = key.sign(concat(auth_data, r.client_data_hash));
  if (resident) {
    cbor::Value::Map user{{"id", resident->user_id}};
    // Names identify the user: only after user verification, and only when the
    // platform must let the user choose among several accounts (CTAP 2.1 §6.2.2).
    if (r.user_verified && total > 1) {
      if (!resident->user_name.empty()) user["name"] = resident->user_name;
      if (!resident->user_display_name.empty()) user["displayName"] = resident->user_display_name;
    }
    out[kUser] = std::move(user);
  }
  if (first && total > 1) out[kNumberOfCredentials] = total;
  if (extensions.large_blob_key) out[kLargeBlobKey] = ByteView(*extensions.large_blob_key);
  quirk_trim_assertion(s.profile.quirks, r.allow_list.size(), out);
  return Response{Status::Ok, cbor::Value(std::move(out))};
}

Response sign_discoverable(Session& s, const Request& r, const Bytes& id, size_t total, bool first) {
  const store::Credential* c = s.state().find_credential(id);
  if (!c) return error(Status::NoCredentials);  // deleted meanwhile
  auto alg = crypto::algorithm_from_cose(c->algorithm);
  auto key = alg ? crypto::PrivateKey::from_bytes(*alg, c->private_key) : std::nullopt;
  if (!key) return error(Status::Other);
  const store::Credential copy = *c;  // signing commits the counter; keep our own copy
  return sign_assertion(s, r, id, 0, *key, &copy, total, first);
}

// Answers for the located credentials once presence (if asked for) is settled.
// `located` is the allow-list credential's secret as locating unwrapped it, or
// nullopt when the store may have changed since (see locate_and_respond).
void respond(Session& s, Request r, std::optional<Bytes> allowed_id, std::optional<CredentialSecret> located,
             std::vector<Bytes> discoverable, const Done& done) {
  if (r.used_token) consume_pin_uv_auth_token(s);
  if (allowed_id) {
    // Hot path: sign with the key locating unwrapped rather than unwrapping the ID again.
    std::optional<CredentialSecret> secret = std::move(located);
    if (!secret) secret = s.credential(r.rp_id_hash, *allowed_id);
    if (!secret) return done(error(Status::NoCredentials));
    const store::Credential* c = (secret->flags & credential_flag::kResident)
                                     ? s.state().find_credential(*allowed_id)
                                     : nullptr;
    if ((secret->flags & credential_flag::kResident) && !c) return done(error(Status::NoCredentials));
    std::optional<store::Credential> copy;
    if (c) copy = *c;
    return done(sign_assertion(s, r, *allowed_id, secret->flags, secret->key, copy ? &*copy : nullptr, 0, true));
  }
  const size_t total = discoverable.size();
  Response first = sign_discoverable(s, r, discoverable.front(), total, true);
  if (first.status == Status::Ok && total > 1) {
    s.pending_assertions = PendingAssertions{r.rp_id,
                                             r.client_data_hash,
                                             std::vector<Bytes>(discoverable.begin() + 1, discoverable.end()),
                                             r.user_presence,
                                             r.user_verified,
                                             total,
                                             s.timers.now() + s.profile.next_assertion_window,
                                             r.ext};
  }
  done(std::move(first));
}

// Steps 7-12 once user verification is settled: locate the credentials, ask
// for presence (unless `present` already, or "up" is false), sign.
void locate_and_respond(Session& s, Request r, const Done& done, bool present) {
  // Locate: the first allow-list entry that is ours, else every discoverable
  // credential of the RP, newest first. credProtect (CTAP 2.1 §12.1, §6.2.2 step 7)
  // hides credentials without UV, exactly as if they did not exist: level 3
  // (userVerificationRequired) always, level 2 (...OptionalWithCredentialIDList)
  // when no allowList names it.
  std::optional<Bytes> allowed_id;
  std::optional<CredentialSecret> located;
  std::vector<Bytes> discoverable;
  if (!r.allow_list.empty()) {
    for (const auto& d : r.allow_list) {
      if (d.type != "public-key") continue;
      auto secret = s.ctap2_credential(r.rp_id_hash, d.id);
      if (secret && (r.user_verified || s.cred_protect(*secret, d.id) < 3)) {
        allowed_id = d.id;
        located = std::move(secret);
        break;
      }
    }
  } else {
    for (const auto* c : s.state().credentials_for_rp(r.rp_id)) {
      if (r.user_verified || c->cred_protect < 2) discoverable.push_back(c->id);
    }
  }
  const bool found = allowed_id || !discoverable.empty();
  if (Status st = quirk_check_no_match(s.profile.quirks, !r.allow_list.empty(), found); st != Status::Ok) return done(error(st));

  if (present || !r.user_presence || (!found && s.profile.no_credentials_immediately)) {
    if (!found) return done(error(Status::NoCredentials));
    return respond(s, std::move(r), std::move(allowed_id), std::move(located), std::move(discoverable), done);
  }
  // Build the request before `r` is moved into the continuation (argument order is unspecified).
  PresenceRequest touch{"getAssertion", r.rp_id};
  // Presence that answers at once (auto-approve) keeps the located secret. An
  // answer that comes later, after a real wait, finds the ID unwrapped again:
  // meanwhile the credential may have been deleted or the key reset.
  auto answered_later = std::make_shared<bool>(false);
  s.request_presence(
      std::move(touch), [&s, done, found, answered_later, r = std::move(r), allowed_id = std::move(allowed_id),
                         located = std::move(located), discoverable = std::move(discoverable)](Status st) mutable {
        if (st != Status::Ok) return done(error(st));
        if (!found) return done(error(Status::NoCredentials));
        if (*answered_later) located.reset();
        respond(s, std::move(r), std::move(allowed_id), std::move(located), std::move(discoverable), done);
      });
  *answered_later = true;
}

}  // namespace

void get_assertion(Session& s, const cbor::Value::Map& params, Done done) {
  Request r;
  Fields f(params);
  const std::string* rp_id = f.text(kRpId, true);
  const Bytes* client_data_hash = f.bytes(kClientDataHash, true);
  const cbor::Value::Array* allow = f.array(kAllowList, false);
  const cbor::Value::Map* extensions = f.map(kExtensions, false);
  const cbor::Value::Map* options_map = f.map(kOptions, false);
  const Bytes* pin_auth = f.bytes(kPinUvAuthParam, false);
  auto pin_protocol = f.integer(kPinUvAuthProtocol, false);
  if (!f.ok()) return done(error(f.error()));
  r.rp_id = *rp_id;
  r.rp_id_hash = crypto::sha256(to_bytes(r.rp_id));
  r.client_data_hash = *client_data_hash;
  if (allow) {
    if (Status st = parse_descriptor_list(*allow, r.allow_list); st != Status::Ok) return done(error(st));
    if (Status st = quirk_check_list(s.profile.quirks, r.allow_list); st != Status::Ok) return done(error(st));
  }
  Options options;
  if (Status st = parse_options(options_map, options); st != Status::Ok) return done(error(st));
  if (options.rk.has_value()) return done(error(Status::UnsupportedOption));  // not a getAssertion option
  r.user_presence = options.up.value_or(true);
  if (Status st = quirk_check_extensions(s.profile.quirks, extensions); st != Status::Ok) return done(error(st));
  if (Status st = parse_get_assertion_extensions(s, extensions, r.ext); st != Status::Ok) return done(error(st));
  if (Status st = quirk_check_silent(s.profile.quirks, r.user_presence); st != Status::Ok) return done(error(st));

  if (pin_auth && pin_auth->empty()) {
    return s.request_presence({"getAssertion", r.rp_id}, [&s, done](Status st) {
      if (st != Status::Ok) return done(error(st));
      done(error(s.pin_set() ? Status::PinInvalid : Status::PinNotSet));
    });
  }
  // Without a pinUvAuthParam, "uv" asks for built-in user verification (so may alwaysUv).
  bool built_in_uv = false;
  if (!pin_auth) {
    if (Status st = plan_built_in_uv(s, options.uv.value_or(false), built_in_uv); st != Status::Ok) {
      return done(error(st));
    }
  }
  r.used_token = pin_auth != nullptr;
  if (Status st = authorize_request(s, pin_auth, pin_protocol, r.client_data_hash, permission::kGetAssertion,
                                    r.rp_id, r.user_verified);
      st != Status::Ok) {
    return done(error(st));
  }
  if (!built_in_uv) {
    // A token from built-in UV carries the touch that came with the finger.
    const bool present = r.used_token && s.token.user_present;
    return locate_and_respond(s, std::move(r), done, present);
  }
  UvRequest reading{"getAssertion", r.rp_id};
  s.verify_user(std::move(reading), [&s, done, r = std::move(r)](Status st) mutable {
    if (st != Status::Ok) return done(error(st));
    r.user_verified = true;
    locate_and_respond(s, std::move(r), done, true);  // a finger on the sensor is also a touch
  });
}

void get_next_assertion(Session& s, Done done) {
  auto& pending = s.pending_assertions;
  if (!pending || pending->credential_ids.empty() || s.timers.now() > pending->expires) {
    pending.reset();
    return done(error(Status::NotAllowed));
  }
  Request r;
  r.rp_id = pending->rp_id;
  r.rp_id_hash = crypto::sha256(to_bytes(r.rp_id));
  r.client_data_hash = pending->client_data_hash;
  r.user_presence = pending->user_present;
  r.user_verified = pending->user_verified;
  r.ext = pending->extensions;
  const Bytes id = pending->credential_ids.front();
  pending->credential_ids.erase(pending->credential_ids.begin());
  const size_t total = pending->total;
  if (pending->credential_ids.empty()) {
    pending.reset();
  } else {
    pending->expires = s.timers.now() + s.profile.next_assertion_window;  // each call restarts the timer
  }
  done(sign_discoverable(s, r, id, total, false));
}

}  // namespace vauth::ctap
