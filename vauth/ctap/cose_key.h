// COSE_Key encoding of public keys (RFC 9052/9053 as CTAP2 uses them).
#pragma once

#include <optional>

#include "vauth/cbor/value.h"
#include "vauth/crypto/keys.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {

// A credential public key: {1: kty, 3: alg, -1: crv, -2: x[, -3: y]} (EC2, OKP), or
// {1: 3, 3: -257, -1: n, -2: e} (RSA, RFC 8230).
cbor::Value cose_public_key(const crypto::PublicKey& key);
// A key-agreement key as getKeyAgreement returns it (alg -25, ECDH-ES+HKDF-256).
cbor::Value cose_key_agreement(const crypto::PublicKey& key);
// The platform's key-agreement key from a request: an EC2 P-256 point.
// CBOR_UNEXPECTED_TYPE / MISSING_PARAMETER for malformed maps, INVALID_PARAMETER
// for a point not on the curve.
Status parse_key_agreement(const cbor::Value& value, std::optional<crypto::PublicKey>& out);

}  // namespace vauth::ctap
