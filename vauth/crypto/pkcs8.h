// PKCS#8 PrivateKeyInfo (RFC 5208/5958), DER: how the W3C WebAuthn Automation
// API and most tools hand over a credential's private key. vauth keeps keys as
// raw bytes (scalar or seed, see keys.h); this converts between the two.
#pragma once

#include <string>

#include "vauth/base/bytes.h"
#include "vauth/base/expected.h"
#include "vauth/crypto/keys.h"

namespace vauth::crypto {

// The key a PKCS#8 DER document holds: a P-256 key becomes ES256, P-384 ES384,
// Ed25519 EdDSA. RSA keys are refused: vauth's RS256 keys are derived from a
// 32-byte seed (keys.h), and an arbitrary RSA key has no seed. The error says why.
Expected<PrivateKey, std::string> private_key_from_pkcs8(ByteView der);

// PKCS#8 DER of `key` (any algorithm, RS256 too). Contains the secret: callers decide who sees it.
Bytes private_key_to_pkcs8(const PrivateKey& key);

}  // namespace vauth::crypto
