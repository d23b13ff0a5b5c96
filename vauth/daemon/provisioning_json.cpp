#include "vauth/daemon/provisioning_json.h"

#include <algorithm>
#include <limits>
#include <set>

#include "vauth/crypto/keys.h"
#include "vauth/crypto/pkcs8.h"
#include "vauth/crypto/secret_bytes.h"
#include "vauth/crypto/x509.h"
#include "vauth/ctap/large_blobs.h"
#include "vauth/daemon/base64url.h"
#include "vauth/daemon/large_blob_entry.h"

namespace vauth::daemon {

namespace {

using nlohmann::json;

// Thrown while parsing; the public functions turn it into the Expected error.
struct Invalid {
  std::string why;
};

[[noreturn]] void invalid(std::string why) {
  throw Invalid{std::move(why)};
}

// CTAP stores user and RP names of at most 64 bytes (and truncates longer ones).
constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxUserHandle = 64;  // CTAP 2.1 §6.1: user.id is at most 64 bytes
constexpr size_t kMaxRpId = 253;       // a DNS name
constexpr size_t kCredRandomLength = 32;
constexpr size_t kLargeBlobKeyLength = 32;

void only(const json& j, const char* what, std::initializer_list<const char*> known) {
  if (!j.is_object()) invalid(std::string(what) + " must be a JSON object");
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (std::find_if(known.begin(), known.end(), [&key](const char* k) { return key == k; }) == known.end()) {
      invalid(std::string(what) + ": unknown field \"" + key.substr(0, 60) + "\"");
    }
  }
}

const json* get(const json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

const json& need(const json& j, const char* name) {
  const json* v = get(j, name);
  if (!v) invalid(std::string(name) + " is missing");
  return *v;
}

Bytes b64(const json& v, const char* name, size_t min, size_t max) {
  if (!v.is_string()) invalid(std::string(name) + " must be a base64url string");
  auto bytes = base64url_decode(v.get<std::string>());
  if (!bytes) invalid(std::string(name) + " is not valid base64url");
  if (bytes->size() < min || bytes->size() > max) {
    invalid(std::string(name) + " must decode to " +
            (min == max ? std::to_string(min) : std::to_string(min) + ".." + std::to_string(max)) + " bytes, not " +
            std::to_string(bytes->size()));
  }
  return std::move(*bytes);
}

std::string text(const json& v, const char* name, size_t min, size_t max) {
  if (!v.is_string()) invalid(std::string(name) + " must be a string");
  std::string s = v.get<std::string>();
  if (s.size() < min || s.size() > max || s.find('\0') != std::string::npos) {
    invalid(std::string(name) + " must be " + std::to_string(min) + ".." + std::to_string(max) + " bytes without NUL");
  }
  return s;
}

uint64_t number(const json& v, const char* name, uint64_t min, uint64_t max) {
  // nlohmann keeps non-negative integers as unsigned; a float or a negative number is refused here.
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    invalid(std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  const uint64_t n = v.get<uint64_t>();
  if (n < min || n > max) {
    invalid(std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

bool flag(const json& v, const char* name) {
  if (!v.is_boolean()) invalid(std::string(name) + " must be true or false");
  return v.get<bool>();
}

// The key from privateKey (PKCS#8) and/or privateKeySeed (vauth's raw form), checked
// against algorithm when that is given.
crypto::PrivateKey parse_key(const json& j) {
  const json* pkcs8 = get(j, "privateKey");
  const json* seed = get(j, "privateKeySeed");
  const json* alg_field = get(j, "algorithm");
  if (!pkcs8 && !seed) invalid("privateKey is missing");
  std::optional<crypto::Algorithm> alg;
  if (alg_field) {
    if (!alg_field->is_number_integer() || !(alg = crypto::algorithm_from_cose(alg_field->get<int64_t>()))) {
      invalid("algorithm must be a COSE algorithm vauth signs with: -7 (ES256), -8 (EdDSA), -35 (ES384), -257 (RS256)");
    }
  }
  // Key material goes straight into wiping buffers (docs/security.md).
  const crypto::SecretBytes der =
      pkcs8 ? crypto::SecretBytes(b64(*pkcs8, "privateKey", 1, 16384)) : crypto::SecretBytes{};
  if (seed) {
    if (!alg) invalid("privateKeySeed needs algorithm");
    const crypto::SecretBytes raw = b64(*seed, "privateKeySeed", 1, 64);
    auto key = crypto::PrivateKey::from_bytes(*alg, raw);
    if (!key) invalid("privateKeySeed is not a valid " + std::string(crypto::to_string(*alg)) + " key");
    // Both given (an RS256 export): they must be the same key.
    if (pkcs8 && crypto::SecretBytes(crypto::private_key_to_pkcs8(*key)) != der)
      invalid("privateKey and privateKeySeed are different keys");
    return std::move(*key);
  }
  auto key = crypto::private_key_from_pkcs8(der);
  if (!key) invalid("privateKey: " + key.error());
  if (alg && key->algorithm() != *alg) {
    invalid(std::string("privateKey is a ") + crypto::to_string(key->algorithm()) + " key, but algorithm says " +
            crypto::to_string(*alg));
  }
  return std::move(*key);
}

ProvisionedCredential parse_credential(const json& j, const ctap::Profile& profile) {
  only(j, "a credential",
       {"credentialId", "isResidentCredential", "rpId", "privateKey", "privateKeySeed", "userHandle", "signCount",
        "largeBlob", "rpName", "userName", "userDisplayName", "algorithm", "credProtect", "credBlob", "largeBlobKey",
        "hmacSecret", "thirdPartyPayment"});
  ProvisionedCredential out;
  store::Credential& c = out.credential;
  c.id = b64(need(j, "credentialId"), "credentialId", 1, profile.max_credential_id_length);
  c.discoverable = flag(need(j, "isResidentCredential"), "isResidentCredential");
  if (c.discoverable && !profile.resident_keys) invalid("this device's profile has no resident credentials");
  c.rp_id = text(need(j, "rpId"), "rpId", 1, kMaxRpId);
  const crypto::PrivateKey key = parse_key(j);
  c.algorithm = static_cast<int32_t>(key.algorithm());
  c.private_key = key.private_bytes();
  if (const json* u = get(j, "userHandle")) {
    if (!u->is_null()) c.user_id = b64(*u, "userHandle", c.discoverable ? 1 : 0, kMaxUserHandle);
  }
  if (c.discoverable && c.user_id.empty()) invalid("userHandle is missing (a resident credential needs one)");
  if (const json* n = get(j, "signCount")) {
    out.sign_count = static_cast<uint32_t>(number(*n, "signCount", 0, std::numeric_limits<uint32_t>::max()));
  }
  if (const json* v = get(j, "rpName")) c.rp_name = text(*v, "rpName", 0, kMaxNameBytes);
  if (const json* v = get(j, "userName")) c.user_name = text(*v, "userName", 0, kMaxNameBytes);
  if (const json* v = get(j, "userDisplayName")) c.user_display_name = text(*v, "userDisplayName", 0, kMaxNameBytes);
  if (const json* v = get(j, "credProtect")) c.cred_protect = static_cast<uint8_t>(number(*v, "credProtect", 1, 3));
  if (const json* v = get(j, "thirdPartyPayment")) c.third_party_payment = flag(*v, "thirdPartyPayment");
  // What the store keeps only for discoverable credentials (a non-discoverable one
  // made by CTAP keeps them in its wrapped ID, which a caller-chosen ID cannot).
  const json* blob = get(j, "credBlob");
  const json* lbk = get(j, "largeBlobKey");
  const json* hmac = get(j, "hmacSecret");
  if (!c.discoverable && (blob || lbk || hmac)) {
    invalid("credBlob, largeBlobKey and hmacSecret need a resident credential (isResidentCredential: true)");
  }
  if (blob) c.cred_blob = b64(*blob, "credBlob", 0, profile.max_cred_blob_length);
  if (lbk) c.large_blob_key = b64(*lbk, "largeBlobKey", kLargeBlobKeyLength, kLargeBlobKeyLength);
  // W3C WebAuthn Automation: largeBlob is "only supported if isResidentCredential is true".
  if (const json* v = get(j, "largeBlob")) {
    if (!c.discoverable) invalid("largeBlob needs a resident credential (isResidentCredential: true)");
    if (profile.max_serialized_large_blob_array == 0) invalid("this device's profile has no large-blob storage");
    out.large_blob = b64(*v, "largeBlob", 0, kMaxLargeBlobSize);
  }
  if (hmac) {
    only(*hmac, "hmacSecret", {"credRandomWithUv", "credRandomWithoutUv"});
    c.cred_random_uv =
        b64(need(*hmac, "credRandomWithUv"), "hmacSecret.credRandomWithUv", kCredRandomLength, kCredRandomLength);
    c.cred_random_no_uv =
        b64(need(*hmac, "credRandomWithoutUv"), "hmacSecret.credRandomWithoutUv", kCredRandomLength, kCredRandomLength);
  }
  return out;
}

store::Attestation parse_attestation(const json& j) {
  only(j, "attestation", {"caPrivateKey", "caCertificate", "batchPrivateKey", "batchCertificate", "aaguid"});
  store::Attestation a;
  auto p256 = [](const json& v, const char* name) {
    crypto::SecretBytes raw = b64(v, name, 32, 32);
    if (!crypto::PrivateKey::from_bytes(crypto::Algorithm::ES256, raw))
      invalid(std::string(name) + " is not a P-256 key");
    return raw;
  };
  auto cert = [](const json& v, const char* name) {
    Bytes der = b64(v, name, 1, 16384);
    if (!crypto::certificate_public_key(der)) invalid(std::string(name) + " is not a DER X.509 certificate");
    return der;
  };
  a.ca_private_key = p256(need(j, "caPrivateKey"), "attestation.caPrivateKey");
  a.ca_certificate = cert(need(j, "caCertificate"), "attestation.caCertificate");
  a.batch_private_key = p256(need(j, "batchPrivateKey"), "attestation.batchPrivateKey");
  a.batch_certificate = cert(need(j, "batchCertificate"), "attestation.batchCertificate");
  a.aaguid = b64(need(j, "aaguid"), "attestation.aaguid", 16, 16);
  // A batch certificate for another key would make every attestation fail to verify.
  const auto batch = crypto::PrivateKey::from_bytes(crypto::Algorithm::ES256, a.batch_private_key);
  if (crypto::certificate_public_key(a.batch_certificate)->spki_der() != batch->public_key().spki_der()) {
    invalid("attestation.batchCertificate is not the certificate of attestation.batchPrivateKey");
  }
  return a;
}

store::AuthenticatorConfig parse_config(const json& j) {
  only(j, "config", {"minPinLength", "minPinLengthRpIds", "forcePinChange", "alwaysUv", "enterpriseAttestation"});
  store::AuthenticatorConfig c;
  if (const json* v = get(j, "minPinLength"))
    c.min_pin_length = static_cast<uint8_t>(number(*v, "config.minPinLength", 0, 63));
  if (const json* v = get(j, "minPinLengthRpIds")) {
    if (!v->is_array() || v->size() > 64) invalid("config.minPinLengthRpIds must be an array of at most 64 RP IDs");
    for (const json& id : *v) c.min_pin_length_rp_ids.push_back(text(id, "config.minPinLengthRpIds[]", 1, kMaxRpId));
  }
  if (const json* v = get(j, "forcePinChange")) c.force_pin_change = flag(*v, "config.forcePinChange");
  if (const json* v = get(j, "alwaysUv")) c.always_uv = flag(*v, "config.alwaysUv");
  if (const json* v = get(j, "enterpriseAttestation"))
    c.enterprise_attestation = flag(*v, "config.enterpriseAttestation");
  return c;
}

std::vector<store::Mutation> parse_device(const json& j, const ctap::Profile& profile) {
  only(j, "the device document",
       {"format", "version", "masterSecret", "attestation", "pin", "uvRetries", "signCount", "config", "largeBlobArray",
        "enrollments", "credentials"});
  if (need(j, "format") != kDeviceDocumentFormat) invalid("format must be \"vauth-device\"");
  const json& version = need(j, "version");
  if (!version.is_number_integer() || version.get<int64_t>() < 1) invalid("version must be a positive integer");
  if (version.get<int64_t>() > kDeviceDocumentVersion) {
    invalid("version " + std::to_string(version.get<int64_t>()) + " is newer than this vauth reads (" +
            std::to_string(kDeviceDocumentVersion) + ")");
  }
  using namespace store::change;
  std::vector<store::Mutation> out;
  // Reset first: whatever the device held before is gone, as after authenticatorReset.
  out.push_back({Reset{b64(need(j, "masterSecret"), "masterSecret", 32, 32)}});
  if (const json* a = get(j, "attestation")) out.push_back({SetAttestation{parse_attestation(*a)}});
  if (const json* p = get(j, "pin")) {
    only(*p, "pin", {"hash", "retries", "codePoints"});
    const auto retries =
        static_cast<uint8_t>(get(*p, "retries") ? number(*get(*p, "retries"), "pin.retries", 0, profile.max_pin_retries)
                                                : profile.max_pin_retries);
    const json* hash = get(*p, "hash");
    if (hash && !hash->is_null()) {
      out.push_back({SetPin{b64(*hash, "pin.hash", 16, 16), retries}});
    } else {
      out.push_back({SetPinRetries{retries}});
    }
    if (const json* cp = get(*p, "codePoints")) {
      out.push_back({SetPinCodePoints{static_cast<uint8_t>(number(*cp, "pin.codePoints", 0, 63))}});
    }
  }
  if (const json* v = get(j, "uvRetries")) {
    out.push_back({SetUvRetries{static_cast<uint8_t>(number(*v, "uvRetries", 0, profile.max_uv_retries))}});
  }
  if (const json* v = get(j, "config")) out.push_back({SetConfig{parse_config(*v)}});
  if (const json* v = get(j, "largeBlobArray")) {
    Bytes array = b64(*v, "largeBlobArray", 0, profile.max_serialized_large_blob_array);
    if (!array.empty() && !ctap::large_blob_array_intact(array)) {
      invalid("largeBlobArray does not end with the truncated SHA-256 of its contents");
    }
    out.push_back({SetLargeBlobArray{std::move(array)}});
  }
  if (const json* v = get(j, "enrollments")) {
    if (!v->is_array() || v->size() > profile.max_fingerprints) {
      invalid("enrollments must be an array of at most " + std::to_string(profile.max_fingerprints));
    }
    std::set<Bytes> ids;
    for (const json& e : *v) {
      only(e, "an enrollment", {"templateId", "friendlyName"});
      store::Enrollment en;
      en.template_id = b64(need(e, "templateId"), "enrollments[].templateId", 1, 64);
      if (const json* n = get(e, "friendlyName"))
        en.friendly_name = text(*n, "enrollments[].friendlyName", 0, kMaxNameBytes);
      if (!ids.insert(en.template_id).second) invalid("enrollments: a templateId appears twice");
      out.push_back({PutEnrollment{std::move(en)}});
    }
  }
  uint32_t sign_count = 0;
  if (const json* v = get(j, "signCount")) {
    sign_count = static_cast<uint32_t>(number(*v, "signCount", 0, std::numeric_limits<uint32_t>::max()));
  }
  if (const json* v = get(j, "credentials")) {
    if (!v->is_array()) invalid("credentials must be an array");
    std::set<Bytes> ids;
    std::set<std::pair<std::string, Bytes>> accounts;
    size_t resident = 0;
    uint64_t created = 0;
    for (const json& item : *v) {
      ProvisionedCredential p;
      try {
        // The document's largeBlobArray already holds every blob; a second copy
        // per credential could only disagree with it.
        if (item.is_object() && item.contains("largeBlob")) {
          invalid("largeBlob is not read here: the device document carries blobs in largeBlobArray");
        }
        p = parse_credential(item, profile);
      } catch (const Invalid& e) {
        invalid("credentials[" + std::to_string(created) + "]: " + e.why);
      }
      if (!ids.insert(p.credential.id).second) invalid("credentials: a credentialId appears twice");
      if (p.credential.discoverable) {
        // Two resident credentials of one account: the second would silently replace the first.
        if (!accounts.insert({p.credential.rp_id, p.credential.user_id}).second) {
          invalid("credentials: two resident credentials for one rpId and userHandle");
        }
        if (++resident > profile.max_resident_credentials) invalid("credentials: more than this profile holds");
      }
      sign_count = std::max(sign_count, p.sign_count);
      p.credential.created = ++created;  // the document's order is the creation order
      out.push_back({PutCredential{std::move(p.credential)}});
    }
  }
  out.push_back({SetSignCount{sign_count}});
  return out;
}

std::string b64s(ByteView b) {
  return base64url_encode(b);
}

}  // namespace

Expected<ProvisionedCredential, std::string> credential_from_json(const json& j, const ctap::Profile& profile) {
  try {
    return parse_credential(j, profile);
  } catch (const Invalid& e) {
    return unexpected(e.why);
  }
}

json credential_to_json(const store::Credential& c, uint32_t sign_count, bool include_private_key,
                        ByteView large_blob_array) {
  json j = {
      {"credentialId", b64s(c.id)},
      {"isResidentCredential", c.discoverable},
      {"rpId", c.rp_id},
      {"rpName", c.rp_name},
      {"userHandle", b64s(c.user_id)},
      {"userName", c.user_name},
      {"userDisplayName", c.user_display_name},
      {"algorithm", c.algorithm},
      // vauth keeps one global counter (CTAP 2.0 allows it), not one per credential.
      {"signCount", sign_count},
      {"credProtect", c.cred_protect},
      {"thirdPartyPayment", c.third_party_payment},
  };
  if (!include_private_key) return j;
  const auto alg = crypto::algorithm_from_cose(c.algorithm);
  const auto key = alg ? crypto::PrivateKey::from_bytes(*alg, c.private_key) : std::nullopt;
  if (key) {
    j["privateKey"] = b64s(crypto::SecretBytes(crypto::private_key_to_pkcs8(*key)));  // the DER is wiped
    // An RSA key imports only as the seed it was derived from (crypto/pkcs8.h).
    if (*alg == crypto::Algorithm::RS256) j["privateKeySeed"] = b64s(c.private_key);
  }
  if (!c.cred_blob.empty()) j["credBlob"] = b64s(c.cred_blob);
  if (!c.large_blob_key.empty()) j["largeBlobKey"] = b64s(c.large_blob_key);
  if (auto blob = large_blob_in(large_blob_array, c.large_blob_key)) j["largeBlob"] = b64s(*blob);
  if (!c.cred_random_uv.empty()) {
    j["hmacSecret"] = {{"credRandomWithUv", b64s(c.cred_random_uv)},
                       {"credRandomWithoutUv", b64s(c.cred_random_no_uv)}};
  }
  return j;
}

std::vector<const store::Credential*> stored_credentials(const store::State& s) {
  std::vector<const store::Credential*> all;
  all.reserve(s.credentials.size() + s.non_discoverable.size());
  for (const auto& [id, c] : s.credentials) all.push_back(&c);
  for (const auto& [id, c] : s.non_discoverable) all.push_back(&c);
  std::sort(all.begin(), all.end(), [](const store::Credential* a, const store::Credential* b) {
    return a->rp_id != b->rp_id ? a->rp_id < b->rp_id : a->created < b->created;
  });
  return all;
}

json device_to_json(const store::State& s) {
  json j = {{"format", kDeviceDocumentFormat}, {"version", kDeviceDocumentVersion}};
  j["masterSecret"] = b64s(s.master_secret);
  if (s.attestation) {
    const auto& a = *s.attestation;
    j["attestation"] = {{"caPrivateKey", b64s(a.ca_private_key)},
                        {"caCertificate", b64s(a.ca_certificate)},
                        {"batchPrivateKey", b64s(a.batch_private_key)},
                        {"batchCertificate", b64s(a.batch_certificate)},
                        {"aaguid", b64s(a.aaguid)}};
  }
  j["pin"] = {{"hash", s.pin_hash ? json(b64s(*s.pin_hash)) : json(nullptr)},
              {"retries", s.pin_retries},
              {"codePoints", s.pin_code_points}};
  j["uvRetries"] = s.uv_retries;
  j["signCount"] = s.sign_count;
  j["config"] = {{"minPinLength", s.config.min_pin_length},
                 {"minPinLengthRpIds", s.config.min_pin_length_rp_ids},
                 {"forcePinChange", s.config.force_pin_change},
                 {"alwaysUv", s.config.always_uv},
                 {"enterpriseAttestation", s.config.enterprise_attestation}};
  j["largeBlobArray"] = b64s(s.large_blob_array);
  j["enrollments"] = json::array();
  for (const auto& e : s.enrollments) {
    j["enrollments"].push_back({{"templateId", b64s(e.template_id)}, {"friendlyName", e.friendly_name}});
  }
  // Oldest first overall (not by RP): import takes the order as the creation order.
  std::vector<const store::Credential*> all = stored_credentials(s);
  std::stable_sort(all.begin(), all.end(),
                   [](const store::Credential* a, const store::Credential* b) { return a->created < b->created; });
  j["credentials"] = json::array();
  for (const auto* c : all) j["credentials"].push_back(credential_to_json(*c, s.sign_count, true));
  return j;
}

Expected<std::vector<store::Mutation>, std::string> device_import_mutations(const json& j,
                                                                            const ctap::Profile& profile) {
  try {
    return parse_device(j, profile);
  } catch (const Invalid& e) {
    return unexpected(e.why);
  }
}

bool unused(const store::State& s) {
  return s.credentials.empty() && s.non_discoverable.empty() && !s.pin_hash && s.enrollments.empty() &&
         s.large_blob_array.empty() && s.sign_count == 0;
}

}  // namespace vauth::daemon
