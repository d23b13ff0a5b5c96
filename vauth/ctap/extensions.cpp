#include "vauth/ctap/extensions.h"

#include "store/state.h"
#include "vauth/crypto/primitives.h"
#include "vauth/ctap/cose_key.h"
#include "vauth/ctap/credential_id.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/session.h"

namespace vauth::ctap {
namespace {

constexpr size_t kCredRandomLength = 32, kSaltLength = 32, kLargeBlobKeyLength = 32;
constexpr int kHmacKeyAgreement = 1, kHmacSaltEnc = 2, kHmacSaltAuth = 3, kHmacProtocol = 4;

// The member `name` of an extensions map, or nullptr. An extension the profile
// (persona) turns off is unknown to this key, so it is ignored like any other.
const cbor::Value* member(const Profile& profile, const cbor::Value::Map* extensions, const char* name) {
  if (!extensions || !profile.extension_enabled(name)) return nullptr;
  auto it = extensions->find(cbor::Value(name));
  return it == extensions->end() ? nullptr : &it->second;
}

// A boolean extension input: nullopt when absent, CBOR_UNEXPECTED_TYPE when not a boolean.
Status boolean(const Profile& profile, const cbor::Value::Map* extensions, const char* name,
               std::optional<bool>& out) {
  const cbor::Value* v = member(profile, extensions, name);
  if (!v) return Status::Ok;
  if (!v->is_bool()) return Status::CborUnexpectedType;
  out = v->as_bool();
  return Status::Ok;
}

crypto::SecretBytes derive_cred_random(const Session& s, ByteView credential_id, bool user_verified) {
  const char* info = user_verified ? "vauth hmac-secret CredRandom uv" : "vauth hmac-secret CredRandom no-uv";
  return crypto::hkdf_sha256(s.state().master_secret, credential_id, to_bytes(info), kCredRandomLength);
}

// CredRandom for a credential, or empty when it was made without hmac-secret.
crypto::SecretBytes cred_random(const Session& s, ByteView credential_id, uint8_t id_flags,
                                const store::Credential* record, bool user_verified) {
  if (record) return user_verified ? record->cred_random_uv : record->cred_random_no_uv;
  if (!(id_flags & credential_flag::kHmacSecret)) return {};
  return derive_cred_random(s, credential_id, user_verified);
}

}  // namespace

Status parse_hmac_secret_input(const cbor::Value& value, const crypto::PrivateKey& ours, HmacSecretInput& out) {
  if (!value.is_map()) return Status::CborUnexpectedType;
  Fields f(value.as_map());
  const cbor::Value* key_agreement = f.any(kHmacKeyAgreement);
  const Bytes* salt_enc = f.bytes(kHmacSaltEnc, true);
  const Bytes* salt_auth = f.bytes(kHmacSaltAuth, true);
  auto version = f.integer(kHmacProtocol, false);
  if (!key_agreement) return Status::MissingParameter;
  if (!f.ok()) return f.error();
  // pinUvAuthProtocol is optional and means protocol 1 when absent (CTAP 2.1 §12.5).
  const PinProtocol* protocol = pin_protocol(version.value_or(1));
  if (!protocol) return Status::InvalidParameter;
  std::optional<crypto::PublicKey> peer;
  if (Status st = parse_key_agreement(*key_agreement, peer); st != Status::Ok) return st;
  auto shared = protocol->shared_secret(ours, *peer);
  if (!shared) return Status::InvalidParameter;
  if (!protocol->verify(*shared, *salt_enc, *salt_auth)) return Status::PinAuthInvalid;
  auto salts = protocol->decrypt(*shared, *salt_enc);
  if (!salts || (salts->size() != kSaltLength && salts->size() != 2 * kSaltLength)) return Status::InvalidLength;
  out.protocol = protocol;
  out.shared_secret = std::move(*shared);
  out.salt1.assign(salts->begin(), salts->begin() + kSaltLength);
  if (salts->size() == 2 * kSaltLength) out.salt2.assign(salts->begin() + kSaltLength, salts->end());
  else out.salt2.clear();
  crypto::cleanse(*salts);
  return Status::Ok;
}

std::optional<Bytes> hmac_secret_output(const HmacSecretInput& in, ByteView cred_random, crypto::Rng& rng) {
  Bytes outputs = crypto::hmac_sha256(cred_random, in.salt1);
  if (!in.salt2.empty()) append(outputs, crypto::hmac_sha256(cred_random, in.salt2));
  auto encrypted = in.protocol->encrypt(in.shared_secret, outputs, rng);
  crypto::cleanse(outputs);
  return encrypted;
}

Status parse_make_credential_extensions(Session& s, const cbor::Value::Map* extensions, bool resident,
                                        MakeCredentialExtensions& out) {
  std::optional<bool> hmac_secret, large_blob_key, third_party_payment;
  if (Status st = boolean(s.profile, extensions, "hmac-secret", hmac_secret); st != Status::Ok) return st;
  if (Status st = boolean(s.profile, extensions, "largeBlobKey", large_blob_key); st != Status::Ok) return st;
  if (Status st = boolean(s.profile, extensions, "thirdPartyPayment", third_party_payment); st != Status::Ok) return st;
  out.hmac_secret = hmac_secret.value_or(false);
  out.third_party_payment = third_party_payment.value_or(false);
  if (const cbor::Value* blob = member(s.profile, extensions, "credBlob")) {
    if (!blob->is_bytes()) return Status::CborUnexpectedType;
    out.cred_blob = blob->as_bytes();
  }
  // largeBlobKey: only "true" is defined, and only for discoverable credentials (CTAP 2.1 §12.3).
  if (large_blob_key && s.profile.max_serialized_large_blob_array > 0) {
    if (!*large_blob_key || !resident) return Status::InvalidOption;
    out.large_blob_key = true;
  }
  // hmac-secret-mc (CTAP 2.2 §12.7): salts at creation, only together with hmac-secret.
  if (const cbor::Value* mc = member(s.profile, extensions, "hmac-secret-mc")) {
    HmacSecretInput in;
    if (Status st = parse_hmac_secret_input(*mc, *s.pin.key_agreement, in); st != Status::Ok) return st;
    if (out.hmac_secret) out.hmac_secret_mc = std::move(in);
  }
  return Status::Ok;
}

Status parse_get_assertion_extensions(Session& s, const cbor::Value::Map* extensions, GetAssertionExtensions& out) {
  std::optional<bool> cred_blob, large_blob_key, third_party_payment;
  if (Status st = boolean(s.profile, extensions, "credBlob", cred_blob); st != Status::Ok) return st;
  if (Status st = boolean(s.profile, extensions, "largeBlobKey", large_blob_key); st != Status::Ok) return st;
  if (Status st = boolean(s.profile, extensions, "thirdPartyPayment", third_party_payment); st != Status::Ok) return st;
  out.cred_blob = cred_blob.value_or(false);
  out.third_party_payment = third_party_payment.value_or(false);
  if (large_blob_key && s.profile.max_serialized_large_blob_array > 0) {
    if (!*large_blob_key) return Status::InvalidOption;  // only "true" is defined (CTAP 2.1 §12.3)
    out.large_blob_key = true;
  }
  if (const cbor::Value* hmac = member(s.profile, extensions, "hmac-secret")) {
    HmacSecretInput in;
    if (Status st = parse_hmac_secret_input(*hmac, *s.pin.key_agreement, in); st != Status::Ok) return st;
    out.hmac_secret = std::move(in);
  }
  return Status::Ok;
}

MadeCredentialExtras prepare_credential_extensions(Session& s, const MakeCredentialExtensions& ext, bool resident,
                                                   store::Credential& record) {
  MadeCredentialExtras extras;
  if (ext.hmac_secret) {
    extras.id_flags |= credential_flag::kHmacSecret;
    if (resident) {
      record.cred_random_uv = s.rng.bytes(kCredRandomLength);
      record.cred_random_no_uv = s.rng.bytes(kCredRandomLength);
    }
  }
  if (ext.third_party_payment) {
    extras.id_flags |= credential_flag::kThirdPartyPayment;
    record.third_party_payment = true;
  }
  if (ext.cred_blob) {
    // Stored only with a discoverable credential and within maxCredBlobLength;
    // otherwise the output says false and nothing is kept (CTAP 2.1 §12.2).
    const bool fits = resident && ext.cred_blob->size() <= s.profile.max_cred_blob_length;
    if (fits) record.cred_blob = *ext.cred_blob;
    extras.cred_blob_stored = fits;
  }
  if (ext.large_blob_key && resident) record.large_blob_key = s.rng.bytes(kLargeBlobKeyLength);
  return extras;
}

void make_credential_outputs(Session& s, const MakeCredentialExtensions& ext, const MadeCredentialExtras& extras,
                             const store::Credential* record, ByteView credential_id, uint8_t id_flags,
                             bool user_verified, cbor::Value::Map& out) {
  if (ext.hmac_secret) out["hmac-secret"] = true;
  if (extras.cred_blob_stored) out["credBlob"] = *extras.cred_blob_stored;
  if (ext.hmac_secret_mc) {
    const crypto::SecretBytes random = cred_random(s, credential_id, id_flags, record, user_verified);
    if (auto output = hmac_secret_output(*ext.hmac_secret_mc, random, s.rng)) out["hmac-secret-mc"] = *output;
  }
}

AssertionOutputs assertion_outputs(Session& s, const GetAssertionExtensions& ext, ByteView credential_id,
                                   uint8_t id_flags, const store::Credential* record, bool user_verified) {
  AssertionOutputs out;
  if (ext.hmac_secret) {
    // A credential made without hmac-secret simply has no output (CTAP 2.1 §12.5).
    const crypto::SecretBytes random = cred_random(s, credential_id, id_flags, record, user_verified);
    if (!random.empty()) {
      if (auto output = hmac_secret_output(*ext.hmac_secret, random, s.rng)) {
        out.auth_data_extensions["hmac-secret"] = *output;
      }
    }
  }
  // credBlob: the stored blob, or an empty byte string when there is none (CTAP 2.1 §12.2).
  if (ext.cred_blob) out.auth_data_extensions["credBlob"] = record ? record->cred_blob : Bytes{};
  if (ext.third_party_payment) {
    const bool tpp = record ? record->third_party_payment : (id_flags & credential_flag::kThirdPartyPayment) != 0;
    out.auth_data_extensions["thirdPartyPayment"] = tpp;
  }
  if (ext.large_blob_key && record && !record->large_blob_key.empty()) out.large_blob_key = record->large_blob_key;
  return out;
}

}  // namespace vauth::ctap
