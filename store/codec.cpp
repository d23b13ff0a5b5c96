#include "store/codec.h"

#include <limits>
#include <string>

#include "store/store_error.h"

namespace vauth::store::codec {

namespace {

using cbor::Value;

// Keys of each map. Append new keys; never reuse or renumber one.
namespace cred_key {
constexpr int kId = 1, kRpId = 2, kRpName = 3, kUserId = 4, kUserName = 5, kUserDisplayName = 6,
              kAlgorithm = 7, kPrivateKey = 8, kCreated = 9, kCredProtect = 10,
              kCredRandom = 11, kLargeBlobKey = 12, kCredBlob = 13, kThirdPartyPayment = 14,
              kNonDiscoverable = 15;
}
namespace att_key {
constexpr int kCaKey = 1, kCaCert = 2, kBatchKey = 3, kBatchCert = 4, kAaguid = 5;
}
namespace state_key {
constexpr int kMasterSecret = 1, kAttestation = 2, kPinHash = 3, kPinRetries = 4, kSignCount = 5,
              kNextCredentialSeq = 6;
// 7..11 and 13..15 are free (never written by any build); docs/store.md keeps the list.
constexpr int kLargeBlobArray = 12;
// 16..31: built-in user verification, bio enrollment and authenticatorConfig.
constexpr int kPinCodePoints = 16, kUvRetries = 17, kConfig = 18, kEnrollments = 19;
// 40..47: CTAP 2.2 state (persistentPinUvAuthToken, uvCountSinceLastPinEntry).
constexpr int kPersistentToken = 40, kUvCountSincePinEntry = 41, kCredentialGeneration = 42;
}
namespace config_key {
constexpr int kMinPinLength = 1, kMinPinLengthRpIds = 2, kForcePinChange = 3, kAlwaysUv = 4,
              kEnterpriseAttestation = 5, kPinComplexityPolicy = 6;
}
namespace enrollment_key {
constexpr int kTemplateId = 1, kFriendlyName = 2;
}
// A mutation is {1: type, 2..: its fields}.
constexpr int kType = 1, kArg1 = 2, kArg2 = 3;
enum MutationType : uint64_t {
  kSetMasterSecret = 1,
  kSetAttestation = 2,
  kPutCredential = 3,
  kDeleteCredential = 4,
  kSetPin = 5,
  kSetPinRetries = 6,
  kSetSignCount = 7,
  kReset = 8,
  kSetLargeBlobArray = 9,
  // 10..15 are free (never written by any build).
  // 16..31: built-in user verification, bio enrollment and authenticatorConfig.
  kSetPinCodePoints = 16,
  kSetUvRetries = 17,
  kSetConfig = 18,
  kPutEnrollment = 19,
  kDeleteEnrollment = 20,
  // 40..47: CTAP 2.2 (persistentPinUvAuthToken, uvCountSinceLastPinEntry).
  kSetPersistentToken = 40,
  kSetUvCountSincePinEntry = 41,
  kClearPin = 21,  // provisioning (control API)
};

[[noreturn]] void bad(const std::string& what) { throw StoreError("malformed record: " + what); }

const Value::Map& as_map(const Value& v, const char* what) {
  if (!v.is_map()) bad(std::string(what) + " is not a map");
  return v.as_map();
}

const Value* field(const Value& map, int key) { return map.find(Value(key)); }

Bytes get_bytes(const Value& map, int key, const char* what) {
  const Value* f = field(map, key);
  if (!f) return {};
  if (f->is_bytes()) return f->as_bytes();
  if (f->is_text()) return to_bytes(f->as_text());  // tolerated: a hand-written or future file
  bad(std::string(what) + " is not a byte string");
}

// A secret field, copied straight from the decoded value into wiping memory.
SecretBytes get_secret(const Value& map, int key, const char* what) {
  const Value* f = field(map, key);
  if (!f) return {};
  if (f->is_bytes()) return SecretBytes(f->as_bytes());
  if (f->is_text()) return SecretBytes(f->as_text().begin(), f->as_text().end());
  bad(std::string(what) + " is not a byte string");
}

std::string get_string(const Value& map, int key, const char* what) {
  return to_string(get_bytes(map, key, what));
}

uint64_t get_uint(const Value& map, int key, const char* what, uint64_t def, uint64_t max) {
  const Value* f = field(map, key);
  if (!f) return def;
  if (!f->is_unsigned() || f->as_unsigned() > max) bad(std::string(what) + " is not an integer in range");
  return f->as_unsigned();
}

int64_t get_int(const Value& map, int key, const char* what) {
  const Value* f = field(map, key);
  if (!f) return 0;
  if (!f->is_integer() || !f->fits_int64()) bad(std::string(what) + " is not an integer");
  return f->as_int();
}

const Value& required(const Value& map, int key, const char* what) {
  const Value* f = field(map, key);
  if (!f) bad(std::string(what) + " is missing");
  return *f;
}

// Optional fields are written only when they differ from the default, which keeps
// records small and makes "absent = default" the one rule.
void put_bytes(Value::Map& m, int key, ByteView b) {
  if (!b.empty()) m[Value(key)] = Value(b);
}
void put_string(Value::Map& m, int key, const std::string& s) {
  if (!s.empty()) m[Value(key)] = Value(to_bytes(s));
}

}  // namespace

Value encode(const Credential& c) {
  Value::Map m;
  m[Value(cred_key::kId)] = Value(c.id);  // always present: the credential's identity
  put_string(m, cred_key::kRpId, c.rp_id);
  put_string(m, cred_key::kRpName, c.rp_name);
  put_bytes(m, cred_key::kUserId, c.user_id);
  put_string(m, cred_key::kUserName, c.user_name);
  put_string(m, cred_key::kUserDisplayName, c.user_display_name);
  if (c.algorithm != 0) m[Value(cred_key::kAlgorithm)] = Value(c.algorithm);
  put_bytes(m, cred_key::kPrivateKey, c.private_key);
  if (c.created != 0) m[Value(cred_key::kCreated)] = Value(c.created);
  if (c.cred_protect != 1) m[Value(cred_key::kCredProtect)] = Value(uint64_t{c.cred_protect});  // absent = 1
  // hmac-secret: CredRandomWithUV || CredRandomWithoutUV, 32 bytes each (anything
  // else is not a CredRandom pair and is not written).
  if (c.cred_random_uv.size() == 32 && c.cred_random_no_uv.size() == 32) {
    m[Value(cred_key::kCredRandom)] = Value(concat(c.cred_random_uv, c.cred_random_no_uv));
  }
  put_bytes(m, cred_key::kCredBlob, c.cred_blob);
  put_bytes(m, cred_key::kLargeBlobKey, c.large_blob_key);
  if (c.third_party_payment) m[Value(cred_key::kThirdPartyPayment)] = Value(true);
  // Absent = discoverable: every credential written before provisioning existed was one.
  if (!c.discoverable) m[Value(cred_key::kNonDiscoverable)] = Value(true);
  return Value(std::move(m));
}

Credential decode_credential(const Value& v) {
  as_map(v, "credential");
  Credential c;
  const Value& id = required(v, cred_key::kId, "credential id");
  if (!id.is_bytes()) bad("credential id is not a byte string");
  c.id = id.as_bytes();
  c.rp_id = get_string(v, cred_key::kRpId, "rp id");
  c.rp_name = get_string(v, cred_key::kRpName, "rp name");
  c.user_id = get_bytes(v, cred_key::kUserId, "user id");
  c.user_name = get_string(v, cred_key::kUserName, "user name");
  c.user_display_name = get_string(v, cred_key::kUserDisplayName, "user display name");
  const int64_t alg = get_int(v, cred_key::kAlgorithm, "algorithm");
  if (alg < std::numeric_limits<int32_t>::min() || alg > std::numeric_limits<int32_t>::max()) bad("algorithm out of range");
  c.algorithm = static_cast<int32_t>(alg);
  c.private_key = get_secret(v, cred_key::kPrivateKey, "private key");
  c.created = get_uint(v, cred_key::kCreated, "created", 0, std::numeric_limits<uint64_t>::max());
  const uint64_t protect = get_uint(v, cred_key::kCredProtect, "credProtect", 1, 3);
  if (protect == 0) bad("credProtect is not in 1..3");
  c.cred_protect = static_cast<uint8_t>(protect);
  const SecretBytes cred_random = get_secret(v, cred_key::kCredRandom, "CredRandom");
  if (!cred_random.empty()) {
    if (cred_random.size() != 64) bad("CredRandom is not 64 bytes");
    c.cred_random_uv.assign(cred_random.begin(), cred_random.begin() + 32);
    c.cred_random_no_uv.assign(cred_random.begin() + 32, cred_random.end());
  }
  c.cred_blob = get_bytes(v, cred_key::kCredBlob, "credBlob");
  c.large_blob_key = get_secret(v, cred_key::kLargeBlobKey, "largeBlobKey");
  if (const Value* tpp = field(v, cred_key::kThirdPartyPayment)) {
    if (!tpp->is_bool()) bad("thirdPartyPayment is not a boolean");
    c.third_party_payment = tpp->as_bool();
  }
  if (const Value* nd = field(v, cred_key::kNonDiscoverable)) {
    if (!nd->is_bool()) bad("non-discoverable is not a boolean");
    c.discoverable = !nd->as_bool();
  }
  return c;
}

Value encode(const Attestation& a) {
  Value::Map m;
  put_bytes(m, att_key::kCaKey, a.ca_private_key);
  put_bytes(m, att_key::kCaCert, a.ca_certificate);
  put_bytes(m, att_key::kBatchKey, a.batch_private_key);
  put_bytes(m, att_key::kBatchCert, a.batch_certificate);
  put_bytes(m, att_key::kAaguid, a.aaguid);
  return Value(std::move(m));
}

Attestation decode_attestation(const Value& v) {
  as_map(v, "attestation");
  Attestation a;
  a.ca_private_key = get_secret(v, att_key::kCaKey, "attestation CA key");
  a.ca_certificate = get_bytes(v, att_key::kCaCert, "attestation CA certificate");
  a.batch_private_key = get_secret(v, att_key::kBatchKey, "attestation batch key");
  a.batch_certificate = get_bytes(v, att_key::kBatchCert, "attestation batch certificate");
  a.aaguid = get_bytes(v, att_key::kAaguid, "AAGUID");
  return a;
}

Value encode(const AuthenticatorConfig& c) {
  Value::Map m;
  if (c.min_pin_length != 0) m[Value(config_key::kMinPinLength)] = Value(uint64_t{c.min_pin_length});
  if (!c.min_pin_length_rp_ids.empty()) {
    Value::Array ids;
    for (const auto& id : c.min_pin_length_rp_ids) ids.emplace_back(to_bytes(id));
    m[Value(config_key::kMinPinLengthRpIds)] = Value(std::move(ids));
  }
  if (c.force_pin_change) m[Value(config_key::kForcePinChange)] = Value(true);
  if (c.always_uv) m[Value(config_key::kAlwaysUv)] = Value(true);
  if (c.enterprise_attestation) m[Value(config_key::kEnterpriseAttestation)] = Value(true);
  if (c.pin_complexity_policy) m[Value(config_key::kPinComplexityPolicy)] = Value(true);
  return Value(std::move(m));
}

namespace {

bool get_flag(const Value& map, int key, const char* what) {
  const Value* f = field(map, key);
  if (!f) return false;
  if (!f->is_bool()) bad(std::string(what) + " is not a boolean");
  return f->as_bool();
}

}  // namespace

AuthenticatorConfig decode_config(const Value& v) {
  as_map(v, "authenticator config");
  AuthenticatorConfig c;
  c.min_pin_length = static_cast<uint8_t>(get_uint(v, config_key::kMinPinLength, "minimum PIN length", 0, 255));
  if (const Value* ids = field(v, config_key::kMinPinLengthRpIds)) {
    if (!ids->is_array()) bad("minPinLength RP IDs is not an array");
    for (const Value& id : ids->as_array()) {
      if (id.is_bytes()) {
        c.min_pin_length_rp_ids.push_back(to_string(id.as_bytes()));
      } else if (id.is_text()) {
        c.min_pin_length_rp_ids.push_back(id.as_text());
      } else {
        bad("a minPinLength RP ID is not a string");
      }
    }
  }
  c.force_pin_change = get_flag(v, config_key::kForcePinChange, "forcePINChange");
  c.always_uv = get_flag(v, config_key::kAlwaysUv, "alwaysUv");
  c.enterprise_attestation = get_flag(v, config_key::kEnterpriseAttestation, "enterprise attestation");
  c.pin_complexity_policy = get_flag(v, config_key::kPinComplexityPolicy, "PIN complexity policy");
  return c;
}

Value encode(const Enrollment& e) {
  Value::Map m;
  m[Value(enrollment_key::kTemplateId)] = Value(e.template_id);
  put_string(m, enrollment_key::kFriendlyName, e.friendly_name);
  return Value(std::move(m));
}

Enrollment decode_enrollment(const Value& v) {
  as_map(v, "enrollment");
  const Value& id = required(v, enrollment_key::kTemplateId, "template id");
  if (!id.is_bytes()) bad("template id is not a byte string");
  return Enrollment{id.as_bytes(), get_string(v, enrollment_key::kFriendlyName, "friendly name")};
}

Value encode(const Mutation& mutation) {
  Value::Map m;
  std::visit(
      [&m](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, change::SetMasterSecret>) {
          m[Value(kType)] = Value(uint64_t{kSetMasterSecret});
          m[Value(kArg1)] = Value(c.secret);
        } else if constexpr (std::is_same_v<T, change::SetAttestation>) {
          m[Value(kType)] = Value(uint64_t{kSetAttestation});
          m[Value(kArg1)] = encode(c.attestation);
        } else if constexpr (std::is_same_v<T, change::PutCredential>) {
          m[Value(kType)] = Value(uint64_t{kPutCredential});
          m[Value(kArg1)] = encode(c.credential);
        } else if constexpr (std::is_same_v<T, change::DeleteCredential>) {
          m[Value(kType)] = Value(uint64_t{kDeleteCredential});
          m[Value(kArg1)] = Value(c.id);
        } else if constexpr (std::is_same_v<T, change::SetPin>) {
          m[Value(kType)] = Value(uint64_t{kSetPin});
          m[Value(kArg1)] = Value(c.pin_hash);
          m[Value(kArg2)] = Value(c.retries);
        } else if constexpr (std::is_same_v<T, change::SetPinRetries>) {
          m[Value(kType)] = Value(uint64_t{kSetPinRetries});
          m[Value(kArg1)] = Value(c.retries);
        } else if constexpr (std::is_same_v<T, change::SetSignCount>) {
          m[Value(kType)] = Value(uint64_t{kSetSignCount});
          m[Value(kArg1)] = Value(c.count);
        } else if constexpr (std::is_same_v<T, change::Reset>) {
          m[Value(kType)] = Value(uint64_t{kReset});
          m[Value(kArg1)] = Value(c.new_master_secret);
        } else if constexpr (std::is_same_v<T, change::SetLargeBlobArray>) {
          m[Value(kType)] = Value(uint64_t{kSetLargeBlobArray});
          m[Value(kArg1)] = Value(c.array);
        } else if constexpr (std::is_same_v<T, change::SetPinCodePoints>) {
          m[Value(kType)] = Value(uint64_t{kSetPinCodePoints});
          m[Value(kArg1)] = Value(c.code_points);
        } else if constexpr (std::is_same_v<T, change::SetUvRetries>) {
          m[Value(kType)] = Value(uint64_t{kSetUvRetries});
          m[Value(kArg1)] = Value(c.retries);
        } else if constexpr (std::is_same_v<T, change::SetConfig>) {
          m[Value(kType)] = Value(uint64_t{kSetConfig});
          m[Value(kArg1)] = encode(c.config);
        } else if constexpr (std::is_same_v<T, change::PutEnrollment>) {
          m[Value(kType)] = Value(uint64_t{kPutEnrollment});
          m[Value(kArg1)] = encode(c.enrollment);
        } else if constexpr (std::is_same_v<T, change::DeleteEnrollment>) {
          m[Value(kType)] = Value(uint64_t{kDeleteEnrollment});
          m[Value(kArg1)] = Value(c.template_id);
        } else if constexpr (std::is_same_v<T, change::SetPersistentToken>) {
          m[Value(kType)] = Value(uint64_t{kSetPersistentToken});
          m[Value(kArg1)] = Value(c.token);
        } else if constexpr (std::is_same_v<T, change::SetUvCountSincePinEntry>) {
          m[Value(kType)] = Value(uint64_t{kSetUvCountSincePinEntry});
          m[Value(kArg1)] = Value(c.count);
        } else if constexpr (std::is_same_v<T, change::ClearPin>) {
          m[Value(kType)] = Value(uint64_t{kClearPin});
        }
      },
      mutation.change);
  return Value(std::move(m));
}

Mutation decode_mutation(const Value& v) {
  as_map(v, "mutation");
  const uint64_t type = get_uint(v, kType, "mutation type", 0, std::numeric_limits<uint64_t>::max());
  switch (type) {
    case kSetMasterSecret:
      return {change::SetMasterSecret{get_secret(v, kArg1, "master secret")}};
    case kSetAttestation:
      return {change::SetAttestation{decode_attestation(required(v, kArg1, "attestation"))}};
    case kPutCredential:
      return {change::PutCredential{decode_credential(required(v, kArg1, "credential"))}};
    case kDeleteCredential:
      return {change::DeleteCredential{get_bytes(v, kArg1, "credential id")}};
    case kSetPin:
      return {change::SetPin{get_secret(v, kArg1, "PIN hash"),
                             static_cast<uint8_t>(get_uint(v, kArg2, "PIN retries", 0, 255))}};
    case kSetPinRetries:
      return {change::SetPinRetries{static_cast<uint8_t>(get_uint(v, kArg1, "PIN retries", 0, 255))}};
    case kSetSignCount:
      return {change::SetSignCount{
          static_cast<uint32_t>(get_uint(v, kArg1, "sign count", 0, std::numeric_limits<uint32_t>::max()))}};
    case kReset:
      return {change::Reset{get_secret(v, kArg1, "master secret")}};
    case kSetLargeBlobArray:
      return {change::SetLargeBlobArray{get_bytes(v, kArg1, "large-blob array")}};
    case kSetPinCodePoints:
      return {change::SetPinCodePoints{static_cast<uint8_t>(get_uint(v, kArg1, "PIN length", 0, 255))}};
    case kSetUvRetries:
      return {change::SetUvRetries{static_cast<uint8_t>(get_uint(v, kArg1, "UV retries", 0, 255))}};
    case kSetConfig:
      return {change::SetConfig{decode_config(required(v, kArg1, "authenticator config"))}};
    case kPutEnrollment:
      return {change::PutEnrollment{decode_enrollment(required(v, kArg1, "enrollment"))}};
    case kDeleteEnrollment:
      return {change::DeleteEnrollment{get_bytes(v, kArg1, "template id")}};
    case kSetPersistentToken:
      return {change::SetPersistentToken{get_secret(v, kArg1, "persistent token")}};
    case kSetUvCountSincePinEntry:
      return {change::SetUvCountSincePinEntry{
          static_cast<uint32_t>(get_uint(v, kArg1, "UV count", 0, std::numeric_limits<uint32_t>::max()))}};
    case kClearPin:
      return {change::ClearPin{}};
    default:
      // Unlike an unknown field, an unknown change cannot be skipped: the state
      // would silently differ from the one that was acknowledged.
      bad("unknown mutation type " + std::to_string(type) + " (written by a newer vauth?)");
  }
}

Value encode_scalars(const State& s) {
  Value::Map m;
  put_bytes(m, state_key::kMasterSecret, s.master_secret);
  if (s.attestation) m[Value(state_key::kAttestation)] = encode(*s.attestation);
  if (s.pin_hash) m[Value(state_key::kPinHash)] = Value(*s.pin_hash);
  m[Value(state_key::kPinRetries)] = Value(s.pin_retries);
  m[Value(state_key::kSignCount)] = Value(s.sign_count);
  m[Value(state_key::kNextCredentialSeq)] = Value(s.next_credential_seq);
  put_bytes(m, state_key::kLargeBlobArray, s.large_blob_array);
  if (s.pin_code_points != 0) m[Value(state_key::kPinCodePoints)] = Value(s.pin_code_points);
  m[Value(state_key::kUvRetries)] = Value(s.uv_retries);
  if (!(s.config == AuthenticatorConfig{})) m[Value(state_key::kConfig)] = encode(s.config);
  if (!s.enrollments.empty()) {
    Value::Array enrollments;
    for (const auto& e : s.enrollments) enrollments.push_back(encode(e));
    m[Value(state_key::kEnrollments)] = Value(std::move(enrollments));
  }
  put_bytes(m, state_key::kPersistentToken, s.persistent_token);
  if (s.uv_count_since_pin_entry != 0) m[Value(state_key::kUvCountSincePinEntry)] = Value(s.uv_count_since_pin_entry);
  if (s.credential_generation != 0) m[Value(state_key::kCredentialGeneration)] = Value(s.credential_generation);
  return Value(std::move(m));
}

void decode_scalars(const Value& v, State& s) {
  as_map(v, "state");
  s = State{};
  s.master_secret = get_secret(v, state_key::kMasterSecret, "master secret");
  if (const Value* a = field(v, state_key::kAttestation)) s.attestation = decode_attestation(*a);
  if (const Value* p = field(v, state_key::kPinHash)) {
    if (!p->is_bytes()) bad("PIN hash is not a byte string");
    s.pin_hash = SecretBytes(p->as_bytes());
  }
  s.pin_retries = static_cast<uint8_t>(get_uint(v, state_key::kPinRetries, "PIN retries", State{}.pin_retries, 255));
  s.sign_count = static_cast<uint32_t>(
      get_uint(v, state_key::kSignCount, "sign count", 0, std::numeric_limits<uint32_t>::max()));
  s.next_credential_seq = get_uint(v, state_key::kNextCredentialSeq, "next credential seq", 1,
                                   std::numeric_limits<uint64_t>::max());
  s.large_blob_array = get_bytes(v, state_key::kLargeBlobArray, "large-blob array");
  s.pin_code_points = static_cast<uint8_t>(get_uint(v, state_key::kPinCodePoints, "PIN length", 0, 255));
  s.uv_retries = static_cast<uint8_t>(get_uint(v, state_key::kUvRetries, "UV retries", State{}.uv_retries, 255));
  if (const Value* c = field(v, state_key::kConfig)) s.config = decode_config(*c);
  if (const Value* e = field(v, state_key::kEnrollments)) {
    if (!e->is_array()) bad("enrollments is not an array");
    for (const Value& item : e->as_array()) s.enrollments.push_back(decode_enrollment(item));
  }
  s.persistent_token = get_secret(v, state_key::kPersistentToken, "persistent token");
  s.uv_count_since_pin_entry = static_cast<uint32_t>(
      get_uint(v, state_key::kUvCountSincePinEntry, "UV count", 0, std::numeric_limits<uint32_t>::max()));
  s.credential_generation =
      get_uint(v, state_key::kCredentialGeneration, "credential generation", 0, std::numeric_limits<uint64_t>::max());
}

}  // namespace vauth::store::codec
