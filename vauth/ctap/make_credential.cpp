// authenticatorMakeCredential (CTAP 2.1 §6.1).
#include <algorithm>

#include "store/state.h"
#include "vauth/cbor/codec.h"
#include "vauth/crypto/primitives.h"
#include "vauth/ctap/attestation.h"
#include "vauth/ctap/auth_data.h"
#include "vauth/ctap/built_in_uv.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/credential_id.h"
#include "vauth/ctap/extensions.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/pin_token.h"
#include "vauth/ctap/quirks.h"

namespace vauth::ctap {
namespace {

constexpr int kClientDataHash = 1, kRp = 2, kUser = 3, kPubKeyCredParams = 4, kExcludeList = 5,
              kExtensions = 6, kOptions = 7, kPinUvAuthParam = 8, kPinUvAuthProtocol = 9,
              kEnterpriseAttestation = 0x0a, kAttestationFormatsPreference = 0x0b;
constexpr int kRespEpAtt = 4, kRespLargeBlobKey = 5;
constexpr size_t kMaxUserIdLength = 64;

struct Request {
  Bytes client_data_hash;
  std::string rp_id, rp_name;
  Bytes user_id;
  std::string user_name, user_display_name;
  crypto::Algorithm algorithm = crypto::Algorithm::ES256;
  std::vector<CredentialDescriptor> exclude_list;
  bool resident = false;
  bool user_verified = false;
  bool used_token = false;
  // credProtect (CTAP 2.1 §12.1): the level to store, and whether the platform asked
  // (only then does authData carry the extension's output).
  uint8_t cred_protect = 1;
  bool cred_protect_requested = false;
  bool min_pin_length_requested = false;  // the minPinLength extension (CTAP 2.1 §12.4)
  bool pin_complexity_requested = false;  // the pinComplexityPolicy extension (CTAP 2.2)
  MakeCredentialExtensions ext;           // the other extensions (extensions.h)
  int64_t enterprise_attestation = 0;     // 0: none asked; 1 vendor-facilitated; 2 platform-managed
  AttestationMode attestation = AttestationMode::Batch;  // the everyday statement, after the platform's preference
};

// attestationFormatsPreference (CTAP 2.2, makeCredential 0x0B): an array of
// format identifiers, most preferred first. The first one this key can make
// wins: "packed" (unless the profile says none) or "none"; unknown ones are
// skipped, and with none known (or an empty list) the profile's own choice
// stands. Not an array of text strings: CBOR_UNEXPECTED_TYPE.
Status choose_attestation(const Profile& profile, const cbor::Value::Array* preference, AttestationMode& out) {
  out = profile.attestation;
  if (!preference) return Status::Ok;
  for (const cbor::Value& format : *preference) {
    if (!format.is_text()) return Status::CborUnexpectedType;
  }
  for (const cbor::Value& format : *preference) {
    if (format.as_text() == "none") {
      out = AttestationMode::None;
      return Status::Ok;
    }
    if (format.as_text() == "packed" && profile.attestation != AttestationMode::None) return Status::Ok;
  }
  return Status::Ok;
}

// Extension inputs. Unknown extensions are ignored (CTAP 2.1 §6.1.2 step 4).
// credProtect: 1 userVerificationOptional, 2 userVerificationOptionalWithCredentialIDList,
// 3 userVerificationRequired. §12.1 only defines these three values; a value that is not
// one of them (or not an unsigned integer) is treated as if the extension were absent —
// the credential gets the default level 1 and no credProtect output is returned, the
// lenient reading of "authenticators SHOULD ignore extensions they cannot process".
void parse_extensions(const cbor::Value::Map* extensions, Request& r) {
  if (!extensions) return;
  auto min_pin = extensions->find(cbor::Value("minPinLength"));
  r.min_pin_length_requested = min_pin != extensions->end() && min_pin->second == cbor::Value(true);
  auto complexity = extensions->find(cbor::Value("pinComplexityPolicy"));
  r.pin_complexity_requested = complexity != extensions->end() && complexity->second == cbor::Value(true);
  auto it = extensions->find(cbor::Value("credProtect"));
  if (it == extensions->end()) return;
  const cbor::Value& v = it->second;
  if (!v.is_unsigned() || v.as_unsigned() < 1 || v.as_unsigned() > 3) return;
  r.cred_protect = static_cast<uint8_t>(v.as_unsigned());
  r.cred_protect_requested = true;
}

// Picks the first offered algorithm this profile supports (the RP's order of preference).
Status choose_algorithm(const Profile& profile, const cbor::Value::Array& params, crypto::Algorithm& out) {
  std::optional<crypto::Algorithm> chosen;
  for (const cbor::Value& p : params) {
    if (!p.is_map()) return Status::CborUnexpectedType;
    Fields f(p.as_map());
    auto alg = f.integer("alg", true);
    const std::string* type = f.text("type", true);
    if (!f.ok()) return f.error();
    if (chosen || *type != "public-key") continue;
    auto a = crypto::algorithm_from_cose(*alg);
    if (a && std::find(profile.algorithms.begin(), profile.algorithms.end(), *a) != profile.algorithms.end()) {
      chosen = a;
    }
  }
  if (!chosen) return Status::UnsupportedAlgorithm;
  out = *chosen;
  return Status::Ok;
}

Status parse_entities(Fields& f, Request& r) {
  const cbor::Value::Map* rp = f.map(kRp, true);
  const cbor::Value::Map* user = f.map(kUser, true);
  if (!f.ok()) return f.error();
  Fields rpf(*rp);
  const std::string* rp_id = rpf.text("id", true);
  const std::string* rp_name = rpf.text("name", false);
  rpf.text("icon", false);
  if (!rpf.ok()) return rpf.error();
  Fields uf(*user);
  const Bytes* user_id = uf.bytes("id", true);
  const std::string* name = uf.text("name", false);
  const std::string* display = uf.text("displayName", false);
  uf.text("icon", false);
  if (!uf.ok()) return uf.error();
  if (user_id->size() > kMaxUserIdLength) return Status::InvalidLength;
  r.rp_id = *rp_id;
  r.rp_name = rp_name ? *rp_name : "";
  r.user_id = *user_id;
  r.user_name = name ? *name : "";
  r.user_display_name = display ? *display : "";
  return Status::Ok;
}

// An excludeList credential of ours excludes, except one with credProtect
// userVerificationRequired when the request has no UV: for it the authenticator
// behaves as if it did not exist (CTAP 2.1 §6.1.2 step 7.1).
bool excluded(const Session& s, const Request& r, ByteView rp_id_hash) {
  for (const auto& d : r.exclude_list) {
    if (d.type != "public-key") continue;
    auto secret = s.ctap2_credential(rp_id_hash, d.id);
    if (secret && (r.user_verified || s.cred_protect(*secret, d.id) < 3)) return true;
  }
  return false;
}

Response create(Session& s, const Request& r) {
  const Bytes rp_id_hash = crypto::sha256(to_bytes(r.rp_id));
  auto key = crypto::PrivateKey::generate(r.algorithm, s.rng);
  store::Credential c;
  const MadeCredentialExtras extras = prepare_credential_extensions(s, r.ext, r.resident, c);
  const uint8_t flags = static_cast<uint8_t>((r.resident ? credential_flag::kResident : 0) |
                                             credential_flag::cred_protect(r.cred_protect) | extras.id_flags);
  Bytes id = wrap_credential_id(s.state().master_secret, rp_id_hash, {flags, key}, s.rng);
  c.id = id;

  cbor::Value::Map extension_outputs;
  if (r.cred_protect_requested) extension_outputs["credProtect"] = r.cred_protect;
  make_credential_outputs(s, r.ext, extras, r.resident ? &c : nullptr, id, flags, r.user_verified,
                          extension_outputs);
  // minPinLength: only RPs that authenticatorConfig listed may learn it.
  const auto& min_pin_rps = s.state().config.min_pin_length_rp_ids;
  const bool listed_rp = std::find(min_pin_rps.begin(), min_pin_rps.end(), r.rp_id) != min_pin_rps.end();
  if (r.min_pin_length_requested && listed_rp) extension_outputs["minPinLength"] = s.min_pin_length();
  // pinComplexityPolicy (CTAP 2.2): whether the key enforces its PIN complexity
  // policy, for the same RPs that may read minPINLength.
  if (r.pin_complexity_requested && listed_rp && s.profile.extension_enabled("pinComplexityPolicy")) {
    extension_outputs["pinComplexityPolicy"] = s.pin_complexity_policy();
  }
  const crypto::SecretBytes large_blob_key = c.large_blob_key;

  std::vector<store::Mutation> changes;
  if (r.resident) {
    c.rp_id = r.rp_id;
    c.rp_name = r.rp_name;
    c.user_id = r.user_id;
    c.user_name = r.user_name;
    c.user_display_name = r.user_display_name;
    quirk_truncate_user_name(s.profile.quirks, c.user_name);
    quirk_truncate_user_name(s.profile.quirks, c.user_display_name);
    c.algorithm = static_cast<int32_t>(r.algorithm);
    c.private_key = key.private_bytes();
    c.created = s.state().next_credential_seq;
    c.cred_protect = r.cred_protect;
    changes.push_back({store::change::PutCredential{std::move(c)}});
  }
  const uint32_t count = s.state().sign_count + 1;
  changes.push_back({store::change::SetSignCount{count}});
  // The credential and the counter become durable together, before the response leaves.
  s.store.commit(changes);

  AuthData ad;
  ad.rp_id_hash = rp_id_hash;
  ad.user_present = true;
  ad.user_verified = r.user_verified;
  ad.sign_count = count;
  ad.attested = AttestedCredential{s.profile.aaguid, id, key.public_key()};
  if (!extension_outputs.empty()) ad.extensions = cbor::Value(std::move(extension_outputs));
  s.before_signing(ad);
  const Bytes auth_data = ad.serialize();
  // Enterprise attestation (CTAP 2.1 §7.1): platform-managed for any RP,
  // vendor-facilitated only for the RP IDs the profile lists; always a full
  // attestation chain, whatever the profile's everyday attestation mode.
  const auto& ep_rps = s.profile.enterprise_attestation_rp_ids;
  const bool ep = r.enterprise_attestation == 2 ||
                  (r.enterprise_attestation == 1 && std::find(ep_rps.begin(), ep_rps.end(), r.rp_id) != ep_rps.end());
  AttestationStatement att =
      attest(s.state(), ep ? AttestationMode::Batch : r.attestation, auth_data, r.client_data_hash, key);

  cbor::Value::Map out;
  out[1] = att.format;
  out[2] = auth_data;
  out[3] = std::move(att.statement);
  if (ep || s.profile.quirks.always_ep_att) out[kRespEpAtt] = true;      // the quirk: claimed, not done
  if (!large_blob_key.empty()) out[kRespLargeBlobKey] = ByteView(large_blob_key);  // largeBlobKey (CTAP 2.1 §12.3)
  return Response{Status::Ok, cbor::Value(std::move(out))};
}

// Steps 12-16 once user verification is settled: the excludeList, room for a
// discoverable credential, user presence (unless `present` already), creation.
void finish(Session& s, Request r, const Done& done, bool present) {
  const Bytes rp_id_hash = crypto::sha256(to_bytes(r.rp_id));
  if (excluded(s, r, rp_id_hash)) {
    if (present) return done(error(Status::CredentialExcluded));
    // Only after a touch, so an RP cannot silently probe which keys are registered.
    return s.request_presence({"makeCredential", r.rp_id}, [done](Status st) {
      done(error(st == Status::Ok ? Status::CredentialExcluded : st));
    });
  }
  if (r.resident && s.state().credentials.size() >= s.profile.max_resident_credentials) {
    bool replaces = false;
    for (const auto* c : s.state().credentials_for_rp(r.rp_id)) replaces |= c->user_id == r.user_id;
    if (!replaces) return done(error(Status::KeyStoreFull));
  }
  if (present) {
    if (r.used_token) consume_pin_uv_auth_token(s);
    return done(create(s, r));
  }
  // Build the request before `r` is moved into the continuation (argument order is unspecified).
  PresenceRequest touch{"makeCredential", r.rp_id};
  s.request_presence(std::move(touch), [&s, done, r = std::move(r)](Status st) {
    if (st != Status::Ok) return done(error(st));
    if (r.used_token) consume_pin_uv_auth_token(s);
    done(create(s, r));
  });
}

}  // namespace

void make_credential(Session& s, const cbor::Value::Map& params, Done done) {
  Request r;
  Fields f(params);
  const Bytes* client_data_hash = f.bytes(kClientDataHash, true);
  const cbor::Value::Array* cred_params = f.array(kPubKeyCredParams, true);
  const cbor::Value::Array* exclude = f.array(kExcludeList, false);
  const cbor::Value::Map* extensions = f.map(kExtensions, false);
  const cbor::Value::Map* options_map = f.map(kOptions, false);
  const Bytes* pin_auth = f.bytes(kPinUvAuthParam, false);
  auto pin_protocol = f.integer(kPinUvAuthProtocol, false);
  auto enterprise = f.integer(kEnterpriseAttestation, false);
  const cbor::Value::Array* formats = f.array(kAttestationFormatsPreference, false);
  if (!f.ok()) return done(error(f.error()));
  if (Status st = choose_attestation(s.profile, formats, r.attestation); st != Status::Ok) return done(error(st));
  if (Status st = parse_entities(f, r); st != Status::Ok) return done(error(st));
  if (Status st = quirk_check_display_name(s.profile.quirks, r.user_display_name); st != Status::Ok) return done(error(st));
  if (Status st = quirk_check_extensions(s.profile.quirks, extensions); st != Status::Ok) return done(error(st));
  r.client_data_hash = *client_data_hash;
  if (s.profile.extension_enabled("credProtect")) parse_extensions(extensions, r);
  if (exclude) {
    if (Status st = parse_descriptor_list(*exclude, r.exclude_list); st != Status::Ok) return done(error(st));
    if (Status st = quirk_check_list(s.profile.quirks, r.exclude_list); st != Status::Ok) return done(error(st));
  }
  if (Status st = choose_algorithm(s.profile, *cred_params, r.algorithm); st != Status::Ok) return done(error(st));

  Options options;
  if (Status st = parse_options(options_map, options); st != Status::Ok) return done(error(st));
  if (options.rk.value_or(false) && !s.profile.resident_keys) return done(error(Status::UnsupportedOption));
  if (options.up.has_value() && !*options.up) return done(error(Status::InvalidOption));
  r.resident = options.rk.value_or(false);
  if (Status st = parse_make_credential_extensions(s, extensions, r.resident, r.ext); st != Status::Ok) {
    return done(error(st));
  }

  // A zero-length pinUvAuthParam asks "touch to pick this key, and tell me the PIN state".
  if (pin_auth && pin_auth->empty()) {
    return s.request_presence({"makeCredential", r.rp_id}, [&s, done](Status st) {
      if (st != Status::Ok) return done(error(st));
      done(error(s.pin_set() ? Status::PinInvalid : Status::PinNotSet));
    });
  }
  // CTAP 2.1 §6.1.2 step 9: enterprise attestation only when supported and enabled.
  if (enterprise) {
    if (!s.profile.enterprise_attestation || !s.state().config.enterprise_attestation) {
      return done(error(Status::InvalidParameter));
    }
    if (*enterprise != 1 && *enterprise != 2) return done(error(Status::InvalidOption));
    r.enterprise_attestation = *enterprise;
  }
  // With a pinUvAuthParam the "uv" option is ignored; without one it asks for
  // built-in user verification (and alwaysUv may ask for it too).
  bool built_in_uv = false;
  if (!pin_auth) {
    if (Status st = plan_built_in_uv(s, options.uv.value_or(false), built_in_uv); st != Status::Ok) {
      return done(error(st));
    }
    // A protected key makes non-discoverable credentials without UV only
    // when it advertises makeCredUvNotRqd (CTAP 2.1 §6.1.2 steps 7-8).
    if (!built_in_uv && s.protected_by_uv() && (r.resident || !make_cred_uv_not_required(s))) {
      return done(error(Status::PuatRequired));
    }
  }
  r.used_token = pin_auth != nullptr;
  if (Status st = authorize_request(s, pin_auth, pin_protocol, r.client_data_hash, permission::kMakeCredential,
                                    r.rp_id, r.user_verified);
      st != Status::Ok) {
    return done(error(st));
  }
  if (!built_in_uv) {
    // A token from built-in UV carries the touch that came with the finger.
    const bool present = r.used_token && s.token.user_present;
    return finish(s, std::move(r), done, present);
  }
  UvRequest reading{"makeCredential", r.rp_id};
  s.verify_user(std::move(reading), [&s, done, r = std::move(r)](Status st) mutable {
    if (st != Status::Ok) return done(error(st));
    r.user_verified = true;
    finish(s, std::move(r), done, true);  // a finger on the sensor is also a touch
  });
}

}  // namespace vauth::ctap
