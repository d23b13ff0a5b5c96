// authenticatorCredentialManagement (CTAP 2.1 §6.8; also the FIDO_2_1_PRE
// command 0x41, which has the same parameters): getCredsMetadata, RP and
// credential enumeration, deleteCredential and updateUserInformation.
#include "vauth/ctap/credential_management.h"

#include <set>

#include "store/state.h"
#include "vauth/cbor/codec.h"
#include "vauth/crypto/primitives.h"
#include "vauth/ctap/cose_key.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/persistent_token.h"
#include "vauth/ctap/pin_token.h"
#include "vauth/ctap/session.h"

namespace vauth::ctap {
namespace {

// Request keys.
constexpr int kSubCommand = 1, kSubCommandParams = 2, kPinUvAuthProtocol = 3, kPinUvAuthParam = 4;
// subCommandParams keys.
constexpr int kParamRpIdHash = 1, kParamCredentialId = 2, kParamUser = 3;
// Response keys.
constexpr int kRespExistingCount = 1, kRespRemainingCount = 2, kRespRp = 3, kRespRpIdHash = 4, kRespTotalRps = 5,
              kRespUser = 6, kRespCredentialId = 7, kRespPublicKey = 8, kRespTotalCredentials = 9,
              kRespCredProtect = 10, kRespLargeBlobKey = 11;

namespace sub {
constexpr int64_t kGetCredsMetadata = 0x01, kEnumerateRpsBegin = 0x02, kEnumerateRpsGetNextRp = 0x03,
                  kEnumerateCredentialsBegin = 0x04, kEnumerateCredentialsGetNextCredential = 0x05,
                  kDeleteCredential = 0x06, kUpdateUserInformation = 0x07;
}

// A token bound to a permissions RP ID may only manage that RP's credentials,
// and getCredsMetadata / enumerateRPsBegin need a token bound to no RP at all.
// The status matches require_permission()'s for a token bound to another RP.
constexpr Status kWrongRp = Status::PinAuthInvalid;

struct Request {
  int64_t sub_command = 0;
  const cbor::Value::Map* params = nullptr;  // subCommandParams, as received
  const Bytes* pin_uv_auth_param = nullptr;
  std::optional<int64_t> pin_uv_auth_protocol;
};

// Which token authorised a request.
enum class Authority {
  Token,       // the pinUvAuthToken with the cm permission (possibly bound to one RP)
  Persistent,  // the persistentPinUvAuthToken (pcmr): read-only, bound to no RP
};

// pinUvAuthParam = authenticate(pinUvAuthToken, subCommand || subCommandParams)
// and a token with the cm permission (§6.8 steps common to the authenticated
// subcommands). The read-only subcommands also accept the persistent token
// (CTAP 2.2 pcmr); for the others a MAC under it is just a wrong MAC
// (PIN_AUTH_INVALID). The decoder accepts only canonical CBOR, so encoding the
// parameters again reproduces the bytes the platform authenticated.
Status authorise(Session& s, const Request& r, bool read_only, Authority& authority) {
  authority = Authority::Token;
  if (!r.pin_uv_auth_param) return Status::PuatRequired;
  if (!r.pin_uv_auth_protocol) return Status::MissingParameter;
  Bytes message{static_cast<uint8_t>(r.sub_command)};
  if (r.params) append(message, cbor::encode(cbor::Value(*r.params)));
  const bool offered = pin_protocol(*r.pin_uv_auth_protocol) && s.profile.pin_protocol_enabled(*r.pin_uv_auth_protocol);
  if (read_only && offered && persistent_token_supported(s.profile) &&
      verify_persistent_token(s, *r.pin_uv_auth_protocol, *r.pin_uv_auth_param, message)) {
    authority = Authority::Persistent;
    return Status::Ok;
  }
  if (Status st = verify_pin_uv_auth_param(s, *r.pin_uv_auth_protocol, *r.pin_uv_auth_param, message);
      st != Status::Ok) {
    return st;
  }
  // No RP here: credential management checks a bound RP ID but never binds one.
  return require_permission(s, permission::kCredentialManagement, nullptr);
}

// A read-only subcommand that needs a token bound to no RP (getCredsMetadata, enumerateRPsBegin).
Status authorise_unbound(Session& s, const Request& r) {
  Authority authority;
  if (Status st = authorise(s, r, true, authority); st != Status::Ok) return st;
  return authority == Authority::Token && s.token.rp_id ? kWrongRp : Status::Ok;
}

// The token is bound to no RP, or to `rp_id`. Never binds (unlike makeCredential).
Status require_rp(const Session& s, const std::string& rp_id) {
  return !s.token.rp_id || *s.token.rp_id == rp_id ? Status::Ok : kWrongRp;
}

// The distinct RP IDs with discoverable credentials, in order. O(n log r) over
// the credentials; each RP ID is then hashed at most once by the callers.
std::set<std::string> stored_rp_ids(const store::State& st) {
  std::set<std::string> ids;
  for (const auto& [id, c] : st.credentials) ids.insert(c.rp_id);
  return ids;
}

// {rp: {"id", "name"?}, rpIDHash}: the name as the newest credential of the RP stored it.
cbor::Value::Map rp_entry(const store::State& st, const std::string& rp_id) {
  cbor::Value::Map rp{{"id", rp_id}};
  auto creds = st.credentials_for_rp(rp_id);
  if (!creds.empty() && !creds.front()->rp_name.empty()) rp["name"] = creds.front()->rp_name;
  cbor::Value::Map out;
  out[kRespRp] = std::move(rp);
  out[kRespRpIdHash] = crypto::sha256(to_bytes(rp_id));
  return out;
}

// {user, credentialID, publicKey, credProtect}; Other if the stored key is unusable.
Status credential_entry(const store::Credential& c, cbor::Value::Map& out) {
  auto alg = crypto::algorithm_from_cose(c.algorithm);
  auto key = alg ? crypto::PrivateKey::from_bytes(*alg, c.private_key) : std::nullopt;
  if (!key) return Status::Other;
  cbor::Value::Map user{{"id", c.user_id}};
  if (!c.user_name.empty()) user["name"] = c.user_name;
  if (!c.user_display_name.empty()) user["displayName"] = c.user_display_name;
  out[kRespUser] = std::move(user);
  out[kRespCredentialId] = cbor::Value::Map{{"id", c.id}, {"type", "public-key"}};
  out[kRespPublicKey] = cose_public_key(key->public_key());
  out[kRespCredProtect] = c.cred_protect;  // as makeCredential stored it (CTAP 2.1 §12.1)
  if (!c.large_blob_key.empty()) out[kRespLargeBlobKey] = ByteView(c.large_blob_key);  // CTAP 2.1 §6.8.4
  return Status::Ok;
}

Response reply(cbor::Value::Map m) {
  return Response{Status::Ok, cbor::Value(std::move(m))};
}

Response get_creds_metadata(Session& s, const Request& r) {
  if (Status st = authorise_unbound(s, r); st != Status::Ok) return error(st);
  const size_t existing = s.state().credentials.size();
  const size_t max = s.profile.max_resident_credentials;
  cbor::Value::Map out;
  out[kRespExistingCount] = existing;
  out[kRespRemainingCount] = existing < max ? max - existing : 0;
  return reply(std::move(out));
}

Response enumerate_rps_begin(Session& s, const Request& r) {
  if (Status st = authorise_unbound(s, r); st != Status::Ok) return error(st);
  const std::set<std::string> ids = stored_rp_ids(s.state());
  if (ids.empty()) return error(Status::NoCredentials);
  cbor::Value::Map out = rp_entry(s.state(), *ids.begin());
  out[kRespTotalRps] = ids.size();
  s.enumeration.rp_ids.assign(std::next(ids.begin()), ids.end());
  return reply(std::move(out));
}

Response enumerate_rps_next(Session& s) {
  auto& rest = s.enumeration.rp_ids;
  while (!rest.empty()) {
    const std::string rp_id = rest.front();
    rest.erase(rest.begin());
    // Only this command and its Begin ran since, so the RP still has credentials;
    // skip it anyway if not, rather than describe an RP that is gone.
    if (!s.state().credentials_for_rp(rp_id).empty()) return reply(rp_entry(s.state(), rp_id));
  }
  s.enumeration.reset();
  return error(Status::NotAllowed);
}

Response enumerate_credentials_begin(Session& s, const Request& r) {
  if (!r.params) return error(Status::MissingParameter);
  Fields p(*r.params);
  const Bytes* rp_id_hash = p.bytes(kParamRpIdHash, true);
  if (!p.ok()) return error(p.error());
  Authority authority;
  if (Status st = authorise(s, r, true, authority); st != Status::Ok) return error(st);
  if (authority == Authority::Token && s.token.rp_id && crypto::sha256(to_bytes(*s.token.rp_id)) != *rp_id_hash) {
    return error(kWrongRp);
  }

  std::optional<std::string> rp_id;
  for (const std::string& id : stored_rp_ids(s.state())) {
    if (crypto::sha256(to_bytes(id)) == *rp_id_hash) {
      rp_id = id;
      break;
    }
  }
  if (!rp_id) return error(Status::NoCredentials);
  const auto creds = s.state().credentials_for_rp(*rp_id);  // newest first
  if (creds.empty()) return error(Status::NoCredentials);
  cbor::Value::Map out;
  if (Status st = credential_entry(*creds.front(), out); st != Status::Ok) return error(st);
  out[kRespTotalCredentials] = creds.size();
  s.enumeration.credential_ids.clear();
  for (size_t i = 1; i < creds.size(); ++i) s.enumeration.credential_ids.push_back(creds[i]->id);
  return reply(std::move(out));
}

Response enumerate_credentials_next(Session& s) {
  auto& rest = s.enumeration.credential_ids;
  while (!rest.empty()) {
    const Bytes id = rest.front();
    rest.erase(rest.begin());
    const store::Credential* c = s.state().find_credential(id);
    if (!c) continue;  // cannot happen between Begin and GetNext; skip rather than fail
    cbor::Value::Map out;
    if (Status st = credential_entry(*c, out); st != Status::Ok) return error(st);
    return reply(std::move(out));
  }
  s.enumeration.reset();
  return error(Status::NotAllowed);
}

// subCommandParams.credentialId: a PublicKeyCredentialDescriptor {"id", "type"}.
Status parse_credential_id(Fields& p, const store::State& st, const store::Credential*& out) {
  out = nullptr;
  const cbor::Value::Map* descriptor = p.map(kParamCredentialId, true);
  if (!p.ok()) return p.error();
  Fields d(*descriptor);
  const Bytes* id = d.bytes("id", true);
  const std::string* type = d.text("type", true);
  d.array("transports", false);
  if (!d.ok()) return d.error();
  if (*type == "public-key") out = st.find_credential(*id);
  return Status::Ok;
}

Response delete_credential(Session& s, const Request& r) {
  if (!r.params) return error(Status::MissingParameter);
  Fields p(*r.params);
  const store::Credential* c = nullptr;
  if (Status st = parse_credential_id(p, s.state(), c); st != Status::Ok) return error(st);
  Authority authority;
  if (Status st = authorise(s, r, false, authority); st != Status::Ok) return error(st);
  if (!c) return error(Status::NoCredentials);
  if (Status st = require_rp(s, c->rp_id); st != Status::Ok) return error(st);
  const Bytes id = c->id;  // `c` points into the state the commit changes
  s.store.commit(store::Mutation{store::change::DeleteCredential{id}});
  return Response{};
}

Response update_user_information(Session& s, const Request& r) {
  if (!r.params) return error(Status::MissingParameter);
  Fields p(*r.params);
  const store::Credential* c = nullptr;
  if (Status st = parse_credential_id(p, s.state(), c); st != Status::Ok) return error(st);
  const cbor::Value::Map* user = p.map(kParamUser, true);
  if (!p.ok()) return error(p.error());
  Fields u(*user);
  const Bytes* user_id = u.bytes("id", true);
  const std::string* name = u.text("name", false);
  const std::string* display_name = u.text("displayName", false);
  u.text("icon", false);
  if (!u.ok()) return error(u.error());
  Authority authority;
  if (Status st = authorise(s, r, false, authority); st != Status::Ok) return error(st);
  if (!c) return error(Status::NoCredentials);
  if (Status st = require_rp(s, c->rp_id); st != Status::Ok) return error(st);
  if (*user_id != c->user_id) return error(Status::InvalidParameter);

  // Same ID, key, RP and creation sequence: PutCredential replaces it in place.
  // Absent (or empty) fields are removed (§6.8.7).
  store::Credential updated = *c;
  updated.user_name = name ? *name : "";
  updated.user_display_name = display_name ? *display_name : "";
  s.store.commit(store::Mutation{store::change::PutCredential{std::move(updated)}});
  return Response{};
}

}  // namespace

Response credential_management(Session& s, const cbor::Value::Map& params) {
  Fields f(params);
  Request r;
  auto sub_command = f.integer(kSubCommand, true);
  r.params = f.map(kSubCommandParams, false);
  r.pin_uv_auth_protocol = f.integer(kPinUvAuthProtocol, false);
  r.pin_uv_auth_param = f.bytes(kPinUvAuthParam, false);
  // The GetNext subcommands continue only their Begin (or a GetNext) just before;
  // anything else ends an enumeration, whatever its outcome.
  CredentialEnumeration enumeration = std::move(s.enumeration);
  s.enumeration.reset();
  if (!f.ok()) return error(f.error());
  r.sub_command = *sub_command;

  switch (r.sub_command) {
    case sub::kGetCredsMetadata: return get_creds_metadata(s, r);
    case sub::kEnumerateRpsBegin: return enumerate_rps_begin(s, r);
    case sub::kEnumerateRpsGetNextRp:
      enumeration.credential_ids.clear();
      s.enumeration = std::move(enumeration);
      return enumerate_rps_next(s);
    case sub::kEnumerateCredentialsBegin: return enumerate_credentials_begin(s, r);
    case sub::kEnumerateCredentialsGetNextCredential:
      enumeration.rp_ids.clear();
      s.enumeration = std::move(enumeration);
      return enumerate_credentials_next(s);
    case sub::kDeleteCredential: return delete_credential(s, r);
    case sub::kUpdateUserInformation: return update_user_information(s, r);
    default: return error(Status::InvalidSubcommand);
  }
}

}  // namespace vauth::ctap
