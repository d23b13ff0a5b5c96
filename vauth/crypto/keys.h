// Signing keys for credentials and attestation, and P-256 ECDH for PIN protocols.
#pragma once

#include <memory>
#include <optional>

#include "vauth/base/bytes.h"
#include "vauth/crypto/rng.h"

namespace vauth::crypto {

// COSE algorithm identifiers (IANA "COSE Algorithms").
enum class Algorithm : int32_t {
  ES256 = -7,    // ECDSA P-256 with SHA-256
  EdDSA = -8,    // Ed25519
  ES384 = -35,   // ECDSA P-384 with SHA-384
  RS256 = -257,  // RSASSA-PKCS1-v1_5 with SHA-256, here always RSA-2048 with e = 65537
};
std::optional<Algorithm> algorithm_from_cose(int64_t cose_id);
const char* to_string(Algorithm a);

class PublicKey {
 public:
  // ES256: x and y are 32-byte big-endian coordinates; the point must be on the curve.
  static std::optional<PublicKey> p256(ByteView x, ByteView y);
  // ES384: x and y are 48-byte big-endian coordinates; the point must be on the curve.
  static std::optional<PublicKey> p384(ByteView x, ByteView y);
  // EdDSA: the 32-byte encoded Ed25519 point.
  static std::optional<PublicKey> ed25519(ByteView x);
  // RS256: the big-endian modulus and public exponent (2048-bit modulus only).
  static std::optional<PublicKey> rsa(ByteView n, ByteView e);
  // SubjectPublicKeyInfo DER (any supported algorithm).
  static std::optional<PublicKey> from_spki_der(ByteView der);

  Algorithm algorithm() const { return alg_; }
  const Bytes& x() const { return x_; }
  const Bytes& y() const { return y_; }  // empty for EdDSA
  // RS256: the modulus and public exponent, big-endian without leading zeros.
  const Bytes& n() const { return x_; }
  const Bytes& e() const { return y_; }
  // 0x04 || x || y (U2F registration responses). ES256 only.
  Bytes uncompressed_point() const;
  Bytes spki_der() const;

  // ES256/ES384: DER ECDSA signature over SHA-256/SHA-384(message). EdDSA: 64-byte
  // PureEdDSA signature. RS256: PKCS#1 v1.5 signature over SHA-256(message).
  bool verify(ByteView message, ByteView signature) const;

 private:
  friend class PrivateKey;  // builds the public key of a point it has just computed, unchecked
  PublicKey(Algorithm alg, Bytes x, Bytes y) : alg_(alg), x_(std::move(x)), y_(std::move(y)) {}
  Algorithm alg_;
  Bytes x_, y_;  // RS256: n and e
};

class PrivateKey {
 public:
  // Key material is drawn from `rng` only, so a seeded Rng gives reproducible keys.
  static PrivateKey generate(Algorithm alg, Rng& rng);
  // ES256: the 32-byte scalar (0 < d < n). ES384: the 48-byte scalar. EdDSA: the
  // 32-byte seed. RS256: a 32-byte seed from which the RSA-2048 key is derived
  // deterministically (primes found by an incremental search from HKDF outputs,
  // tested by OpenSSL), so the key fits a credential ID and a seeded run replays.
  static std::optional<PrivateKey> from_bytes(Algorithm alg, ByteView raw);

  PrivateKey(const PrivateKey&);
  PrivateKey& operator=(const PrivateKey&);
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  ~PrivateKey();

  Algorithm algorithm() const { return alg_; }
  // The raw secret (scalar or seed). Handle with care: only wrapped or sealed copies leave memory.
  Bytes private_bytes() const;
  const PublicKey& public_key() const { return *pub_; }

  // ES256/ES384: DER-encoded ECDSA over SHA-256/SHA-384(message) (random nonce).
  // EdDSA: 64-byte PureEdDSA (deterministic). RS256: PKCS#1 v1.5 (deterministic).
  Bytes sign(ByteView message) const;

  // P-256 ECDH: the 32-byte x coordinate of d·Q. nullopt if this is not a P-256 key,
  // or `peer` is not a P-256 point.
  std::optional<Bytes> ecdh_x(const PublicKey& peer) const;

  // The OpenSSL EVP_PKEY* (for the X.509 code in this folder only).
  void* native() const;

 private:
  struct EcKey;  // private_key.cpp: an ES256/ES384 key, imported into OpenSSL on first use
  PrivateKey(Algorithm alg, void* pkey);
  PrivateKey(Algorithm alg, std::shared_ptr<EcKey> ec, PublicKey pub);
  // from_bytes without the import cache (generate: fresh keys are rarely signed with at once).
  static std::optional<PrivateKey> import(Algorithm alg, ByteView raw);

  Algorithm alg_;
  void* pkey_;  // EVP_PKEY*, reference counted; null for ES256/ES384 (see ec_)
  std::shared_ptr<const PublicKey> pub_;
  std::shared_ptr<const Bytes> seed_;  // RS256: the seed private_bytes() returns
  std::shared_ptr<EcKey> ec_;          // ES256/ES384 only
};

}  // namespace vauth::crypto
