// The persistent state of one authenticator, and the changes that can be made
// to it. Every change is a Mutation: the in-memory store applies it, the journal
// (issue #5) will append it to disk first and then apply it, so both share one
// definition of what a change means.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "vauth/base/bytes.h"
#include "vauth/crypto/secret_bytes.h"

namespace vauth::store {

// Secrets wipe their memory when freed (docs/security.md "Secrets zeroed when freed").
using crypto::SecretBytes;

// A credential the store holds: every discoverable (resident) one, and the
// non-discoverable ones added through the control API (their caller-chosen IDs
// cannot carry the key the way a wrapped ID does, see store.md "Provisioning").
struct Credential {
  Bytes id;                 // the credential ID the client sees
  std::string rp_id;
  std::string rp_name;
  Bytes user_id;
  std::string user_name;
  std::string user_display_name;
  int32_t algorithm = 0;    // COSE algorithm identifier
  SecretBytes private_key;  // raw key bytes (scalar or seed)
  uint64_t created = 0;     // creation sequence number: larger = newer
  uint8_t cred_protect = 1; // CTAP 2.1 credProtect level (1..3); 1 = userVerificationOptional
  // hmac-secret (CTAP 2.1 §12.5): the two 32-byte CredRandom values, one used with
  // user verification and one without; both empty when the extension was not asked for.
  SecretBytes cred_random_uv;
  SecretBytes cred_random_no_uv;
  Bytes cred_blob;          // credBlob (CTAP 2.1 §12.2), at most the profile's maxCredBlobLength
  SecretBytes large_blob_key;  // largeBlobKey (CTAP 2.1 §12.3): 32 bytes, empty when not asked for
  bool third_party_payment = false;  // thirdPartyPayment (CTAP 2.2 §12.9)
  // false: found only by an allowList naming its ID (State::non_discoverable), never
  // by enumeration or a getAssertion without allowList.
  bool discoverable = true;
  bool operator==(const Credential&) const = default;
};

// The attestation CA and the batch certificate it signed (packed attestation).
struct Attestation {
  SecretBytes ca_private_key;     // P-256 scalar
  Bytes ca_certificate;     // DER
  SecretBytes batch_private_key;  // P-256 scalar
  Bytes batch_certificate;  // DER
  Bytes aaguid;             // the AAGUID in the batch certificate's extension
  bool operator==(const Attestation&) const = default;
};

// A fingerprint template of the simulated sensor (authenticatorBioEnrollment).
struct Enrollment {
  Bytes template_id;
  std::string friendly_name;  // empty: none given
  bool operator==(const Enrollment&) const = default;
};

// What authenticatorConfig sets (CTAP 2.1 §6.11); authenticatorReset restores these defaults.
struct AuthenticatorConfig {
  uint8_t min_pin_length = 0;                      // 0: the profile's minimum (setMinPINLength only raises it)
  std::vector<std::string> min_pin_length_rp_ids;  // RPs that may read minPINLength (minPinLength extension)
  bool force_pin_change = false;                   // PIN tokens refused until changePIN
  bool always_uv = false;
  bool enterprise_attestation = false;
  // CTAP 2.2 setMinPINLength pinComplexityPolicy: once on, setPIN/changePIN refuse
  // PINs that fail vauth's complexity rules (pin_policy.h) until a reset.
  bool pin_complexity_policy = false;
  bool operator==(const AuthenticatorConfig&) const = default;
};

struct Mutation;

struct State {
  SecretBytes master_secret;            // 32-byte key that wraps non-discoverable credential IDs
  std::optional<Attestation> attestation;
  std::optional<SecretBytes> pin_hash;  // LEFT(SHA-256(PIN), 16) while a PIN is set
  uint8_t pin_retries = 8;
  uint32_t sign_count = 0;              // the global signature counter
  uint64_t next_credential_seq = 1;
  // authenticatorLargeBlobs' serialized large-blob array (CTAP 2.1 §6.10.2); empty
  // means the initial value (an empty CBOR array and its truncated hash).
  Bytes large_blob_array;
  std::map<Bytes, Credential> credentials;  // discoverable credentials, by credential ID
  // Non-discoverable credentials with a caller-chosen ID (control API provisioning),
  // by credential ID. Kept apart so that everything counting or enumerating
  // `credentials` (getInfo, credentialManagement, the resident-key limit) sees only
  // discoverable ones.
  std::map<Bytes, Credential> non_discoverable;
  uint8_t pin_code_points = 0;          // the PIN's length in code points (0: unknown)
  uint8_t uv_retries = 8;               // built-in user verification attempts left
  AuthenticatorConfig config;
  std::vector<Enrollment> enrollments;  // in enrollment order
  // CTAP 2.2 persistentPinUvAuthToken (the pcmr permission's token): 32 random
  // bytes that outlive power cycles; empty until first issued, cleared by a PIN
  // change and by reset.
  SecretBytes persistent_token;
  // CTAP 2.2 getInfo uvCountSinceLastPinEntry: built-in UV readings since the
  // PIN was last entered correctly.
  uint32_t uv_count_since_pin_entry = 0;
  // Counts PutCredential and DeleteCredential (0 after reset): the CTAP 2.2
  // getInfo encCredStoreState changes with it, so a platform knows to list again.
  uint64_t credential_generation = 0;

  // Credentials of one RP, newest first. O(k log n) through an index.
  std::vector<const Credential*> credentials_for_rp(const std::string& rp_id) const;
  const Credential* find_credential(ByteView id) const;
  // A stored credential of either kind.
  const Credential* find_any_credential(ByteView id) const;

  // Field-by-field equality (the indexes follow from the fields, so they compare equal too).
  bool operator==(const State&) const = default;

 private:
  friend void apply(State&, const Mutation&);
  friend void load_credential(State&, Credential&&);
  std::map<std::string, std::set<Bytes>> by_rp_;  // rp_id -> credential IDs
  // (rp_id, user_id) -> credential ID: PutCredential's "replace the account's old
  // credential" is a lookup, so a commit costs O(log n) even for 100,000 credentials.
  std::map<std::pair<std::string, Bytes>, Bytes> by_user_;
};

namespace change {
struct SetMasterSecret { SecretBytes secret; };
struct SetAttestation { Attestation attestation; };
// Adds a credential, replacing any credential of the same RP and user ID
// (CTAP2: a new discoverable credential overwrites the old one for that account).
// A non-discoverable one (discoverable = false) replaces only a credential of its ID.
struct PutCredential { Credential credential; };
struct DeleteCredential { Bytes id; };
struct SetPin { SecretBytes pin_hash; uint8_t retries; };
struct SetPinRetries { uint8_t retries; };
struct SetSignCount { uint32_t count; };
// authenticatorLargeBlobs set: the whole new serialized large-blob array.
struct SetLargeBlobArray { Bytes array; };
// authenticatorReset: forget credentials, PIN, large blobs, fingerprints and configuration,
// new master secret (old IDs stop working).
struct Reset { SecretBytes new_master_secret; };
// Committed with SetPin by clientPIN, which knows the PIN's length (setMinPINLength needs it).
struct SetPinCodePoints { uint8_t code_points; };
struct SetUvRetries { uint8_t retries; };
struct SetConfig { AuthenticatorConfig config; };
// Adds a fingerprint, or renames the one with the same template ID.
struct PutEnrollment { Enrollment enrollment; };
struct DeleteEnrollment { Bytes template_id; };
// CTAP 2.2: the persistentPinUvAuthToken (empty: revoked) and the UV count since PIN entry.
struct SetPersistentToken { SecretBytes token; };
struct SetUvCountSincePinEntry { uint32_t count; };
// The administrator's "forget the PIN" (control API): no PIN, full retries, no
// known length, no pending forced change; credentials and everything else stay.
struct ClearPin {};
}  // namespace change

struct Mutation {
  std::variant<change::SetMasterSecret, change::SetAttestation, change::PutCredential,
               change::DeleteCredential, change::SetPin, change::SetPinRetries,
               change::SetSignCount, change::Reset, change::SetLargeBlobArray,
               change::SetPinCodePoints, change::SetUvRetries, change::SetConfig,
               change::PutEnrollment, change::DeleteEnrollment, change::SetPersistentToken,
               change::SetUvCountSincePinEntry, change::ClearPin>
      change;
};

void apply(State& state, const Mutation& m);

// Adds a credential while a snapshot is loaded: the same result as applying a
// PutCredential, but it takes the credential by value (no copy) and is fastest
// when called in credential ID order (a snapshot's order).
void load_credential(State& state, Credential&& c);

}  // namespace vauth::store
