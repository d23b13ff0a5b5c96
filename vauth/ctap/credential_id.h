// Credential IDs that carry their own key. A credential ID is the credential's
// private key sealed with AES-256-GCM under a key derived from the device's
// master secret, with the RP ID hash (or U2F application parameter) as
// associated data: an ID made for another RP, another device, or edited by
// anyone fails authentication and is simply "not ours".
//
//   version (1) = 0x01 | nonce (12) | sealed(flags (1) | COSE alg (2, signed BE) | key) | tag (16)
//
// key is the algorithm's raw private key: 32 bytes for ES256, EdDSA and RS256
// (an RSA key is derived from a 32-byte seed, see vauth/crypto/keys.h), 48 for ES384.
//
// The same format serves discoverable credentials (flag kResident; the store
// holds their user data), non-discoverable ones and U2F key handles (kU2f), so a
// U2F key handle works in CTAP2 getAssertion for the same application parameter.
//
// flags: bit 0 kResident, bit 1 kU2f, bits 2-3 the credProtect level minus one
// (CTAP 2.1 §12.1; 0 = level 1, so IDs made before credProtect read as level 1),
// bit 4 kHmacSecret (CredRandom is derived from the ID, see extensions.h),
// bit 5 kThirdPartyPayment.
#pragma once

#include <optional>

#include "vauth/base/bytes.h"
#include "vauth/crypto/keys.h"

namespace vauth::ctap {

namespace credential_flag {
constexpr uint8_t kResident = 0x01, kU2f = 0x02, kHmacSecret = 0x10, kThirdPartyPayment = 0x20;
constexpr uint8_t kCredProtectShift = 2, kCredProtectMask = 0x0c;  // level - 1 in bits 2-3

// The flag bits for credProtect `level` (1..3).
constexpr uint8_t cred_protect(uint8_t level) {
  return static_cast<uint8_t>(((level - 1) << kCredProtectShift) & kCredProtectMask);
}
}  // namespace credential_flag

struct CredentialSecret {
  uint8_t flags = 0;
  crypto::PrivateKey key;

  // The credProtect level (1..3) the flags carry; the unused value 3 in bits 2-3 reads as 3.
  uint8_t cred_protect() const {
    const auto level = static_cast<uint8_t>(((flags & credential_flag::kCredProtectMask) >> credential_flag::kCredProtectShift) + 1);
    return level > 3 ? 3 : level;
  }
};

constexpr size_t kCredentialIdLength = 1 + 12 + 1 + 2 + 32 + 16;  // 64, for a 32-byte key
// The longest ID: an ES384 key (48 bytes).
constexpr size_t kMaxCredentialIdLength = kCredentialIdLength + 16;  // 80

Bytes wrap_credential_id(ByteView master_secret, ByteView rp_id_hash, const CredentialSecret& secret,
                         crypto::Rng& rng);
// nullopt if the ID is not one this master secret made for this RP.
std::optional<CredentialSecret> unwrap_credential_id(ByteView master_secret, ByteView rp_id_hash,
                                                     ByteView credential_id);

}  // namespace vauth::ctap
