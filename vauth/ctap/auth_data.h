// Authenticator data (WebAuthn §6.1): rpIdHash || flags || signCount || [attested credential data] || [extensions].
#pragma once

#include <array>
#include <optional>

#include "vauth/cbor/value.h"
#include "vauth/crypto/keys.h"

namespace vauth::ctap {

namespace flag {
constexpr uint8_t kUserPresent = 0x01, kUserVerified = 0x04, kBackupEligible = 0x08,
                  kBackedUp = 0x10, kAttestedCredentialData = 0x40, kExtensionData = 0x80;
}

struct AttestedCredential {
  std::array<uint8_t, 16> aaguid;
  Bytes credential_id;
  crypto::PublicKey public_key;
};

struct AuthData {
  Bytes rp_id_hash;  // 32 bytes
  bool user_present = false;
  bool user_verified = false;
  uint32_t sign_count = 0;
  std::optional<AttestedCredential> attested;
  std::optional<cbor::Value> extensions;  // a CBOR map

  Bytes serialize() const;
};

}  // namespace vauth::ctap
