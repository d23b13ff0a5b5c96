// The makeCredential/getAssertion extensions beyond credProtect (CTAP 2.1 §12,
// CTAP 2.2 §12): hmac-secret, hmac-secret-mc, credBlob, largeBlobKey and
// thirdPartyPayment. make_credential.cpp and get_assertion.cpp only call the
// parse and output functions here; the rules of each extension live in this file.
//
// Where the per-credential secrets live:
// - Discoverable credentials keep CredRandom (with and without UV), credBlob,
//   largeBlobKey and the thirdPartyPayment flag in their store record, so an
//   exported credential carries everything it needs.
// - Non-discoverable credentials have no record. Their ID carries flag bits
//   (hmac-secret, thirdPartyPayment) and CredRandom is derived:
//   HKDF-SHA-256(master secret, salt = credential ID, info = "vauth hmac-secret
//   CredRandom uv"/"... no-uv"). The ID is unique and authenticated, the master
//   secret never leaves the device, and a reset (new master secret) invalidates
//   both together, which is exactly the lifetime CredRandom must have.
#pragma once

#include <optional>

#include "vauth/base/bytes.h"
#include "vauth/cbor/value.h"
#include "vauth/crypto/secret_bytes.h"
#include "vauth/ctap/pin_protocol.h"
#include "vauth/ctap/status.h"

namespace vauth::store {
struct Credential;
}

namespace vauth::ctap {

class Session;

// A decrypted hmac-secret (or hmac-secret-mc) request: the salts and how to answer.
struct HmacSecretInput {
  const PinProtocol* protocol = nullptr;
  Bytes shared_secret;
  Bytes salt1;
  Bytes salt2;  // empty with one salt
};

struct MakeCredentialExtensions {
  bool hmac_secret = false;              // "hmac-secret": true
  std::optional<HmacSecretInput> hmac_secret_mc;
  std::optional<Bytes> cred_blob;        // "credBlob": bytes
  bool large_blob_key = false;           // "largeBlobKey": true
  bool third_party_payment = false;      // "thirdPartyPayment": true
};

struct GetAssertionExtensions {
  std::optional<HmacSecretInput> hmac_secret;
  bool cred_blob = false;
  bool large_blob_key = false;
  bool third_party_payment = false;
};

// Parses the extensions map of makeCredential. Unknown extensions are ignored;
// a known one of the wrong CBOR type is CBOR_UNEXPECTED_TYPE; largeBlobKey false,
// or true without rk, is INVALID_OPTION (CTAP 2.1 §12.3); hmac-secret-mc inputs
// are checked like hmac-secret's. `resident` is the request's rk option.
Status parse_make_credential_extensions(Session& s, const cbor::Value::Map* extensions, bool resident,
                                        MakeCredentialExtensions& out);
Status parse_get_assertion_extensions(Session& s, const cbor::Value::Map* extensions, GetAssertionExtensions& out);

// What makeCredential stores and answers for the extensions.
struct MadeCredentialExtras {
  uint8_t id_flags = 0;                 // credential_flag bits to add to the wrapped ID
  std::optional<bool> cred_blob_stored; // the credBlob output, when asked
};
// Fills the record's extension fields (for a discoverable credential) and says
// which ID flags to set. Draws CredRandom and largeBlobKey from the session's Rng.
MadeCredentialExtras prepare_credential_extensions(Session& s, const MakeCredentialExtensions& ext, bool resident,
                                                   store::Credential& record);

// The authData extension outputs after makeCredential (credProtect is added by
// the caller), given the finished credential ID.
void make_credential_outputs(Session& s, const MakeCredentialExtensions& ext, const MadeCredentialExtras& extras,
                             const store::Credential* record, ByteView credential_id, uint8_t id_flags,
                             bool user_verified, cbor::Value::Map& auth_data_extensions);

// The getAssertion outputs for one credential: authData extensions and the
// largeBlobKey response member (0x07). `record` is the store record of a
// discoverable credential, or nullptr; `id_flags` the flags its ID carried.
struct AssertionOutputs {
  cbor::Value::Map auth_data_extensions;
  std::optional<crypto::SecretBytes> large_blob_key;
};
AssertionOutputs assertion_outputs(Session& s, const GetAssertionExtensions& ext, ByteView credential_id,
                                   uint8_t id_flags, const store::Credential* record, bool user_verified);

// The hmac-secret computation itself (CTAP 2.1 §12.5): HMAC-SHA-256(CredRandom,
// salt1) [|| HMAC-SHA-256(CredRandom, salt2)], encrypted under the shared secret.
std::optional<Bytes> hmac_secret_output(const HmacSecretInput& in, ByteView cred_random, crypto::Rng& rng);

// Decrypts and checks an hmac-secret input map {1: keyAgreement, 2: saltEnc,
// 3: saltAuth, 4: pinUvAuthProtocol (default 1)} with `ours` as the
// authenticator's key-agreement key. Exposed for the known-answer tests.
Status parse_hmac_secret_input(const cbor::Value& value, const crypto::PrivateKey& ours, HmacSecretInput& out);

}  // namespace vauth::ctap
