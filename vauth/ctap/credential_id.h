// Credential IDs that carry their own key. A credential ID is the credential's
// private key sealed with AES-256-GCM under a key derived from the device's
// master secret, with the RP ID hash (or U2F application parameter) as
// associated data: an ID made for another RP, another device, or edited by
// anyone fails authentication and is simply "not ours".
//
//   version (1) = 0x01 | nonce (12) | sealed(flags (1) | COSE alg (2, signed BE) | key (32)) | tag (16)
//
// The same format serves discoverable credentials (flag kResident; the store
// holds their user data), non-discoverable ones and U2F key handles (kU2f), so a
// U2F key handle works in CTAP2 getAssertion for the same application parameter.
#pragma once

#include <optional>

#include "vauth/base/bytes.h"
#include "vauth/crypto/keys.h"

namespace vauth::ctap {

namespace credential_flag {
constexpr uint8_t kResident = 0x01, kU2f = 0x02;
}

struct CredentialSecret {
  uint8_t flags = 0;
  crypto::PrivateKey key;
};

constexpr size_t kCredentialIdLength = 1 + 12 + 1 + 2 + 32 + 16;  // 64

Bytes wrap_credential_id(ByteView master_secret, ByteView rp_id_hash, const CredentialSecret& secret,
                         crypto::Rng& rng);
// nullopt if the ID is not one this master secret made for this RP.
std::optional<CredentialSecret> unwrap_credential_id(ByteView master_secret, ByteView rp_id_hash,
                                                     ByteView credential_id);

}  // namespace vauth::ctap
