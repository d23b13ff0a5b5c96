// PIN/UV auth protocols (CTAP 2.1 §6.5.6-7). Protocol 1 is here; protocol 2
// (HKDF keys, random IVs, full-length MACs) implements the same interface.
#pragma once

#include <memory>
#include <optional>

#include "vauth/base/bytes.h"
#include "vauth/crypto/keys.h"

namespace vauth::ctap {

class PinProtocol {
 public:
  virtual ~PinProtocol() = default;
  virtual uint8_t version() const = 0;
  // ECDH with the platform's key, then the protocol's KDF. nullopt on a bad point.
  virtual std::optional<Bytes> shared_secret(const crypto::PrivateKey& ours, const crypto::PublicKey& peer) const = 0;
  virtual std::optional<Bytes> encrypt(ByteView shared, ByteView plaintext, crypto::Rng& rng) const = 0;
  virtual std::optional<Bytes> decrypt(ByteView shared, ByteView ciphertext) const = 0;
  virtual Bytes authenticate(ByteView key, ByteView message) const = 0;
  // Constant time; false for a signature of the wrong length.
  virtual bool verify(ByteView key, ByteView message, ByteView signature) const = 0;
};

// Protocol 1: shared secret = SHA-256(Z.x); AES-256-CBC with a zero IV;
// pinUvAuthParam = LEFT(HMAC-SHA-256(key, message), 16).
class PinProtocolV1 final : public PinProtocol {
 public:
  uint8_t version() const override { return 1; }
  std::optional<Bytes> shared_secret(const crypto::PrivateKey& ours, const crypto::PublicKey& peer) const override;
  std::optional<Bytes> encrypt(ByteView shared, ByteView plaintext, crypto::Rng& rng) const override;
  std::optional<Bytes> decrypt(ByteView shared, ByteView ciphertext) const override;
  Bytes authenticate(ByteView key, ByteView message) const override;
  bool verify(ByteView key, ByteView message, ByteView signature) const override;
};

// Protocol 2: shared secret = HKDF(Z, "CTAP2 HMAC key") || HKDF(Z, "CTAP2 AES key")
// (64 bytes); AES-256-CBC with a random IV prepended; full 32-byte HMAC-SHA-256,
// keyed with the HMAC half of a shared secret or with a whole 32-byte token.
class PinProtocolV2 final : public PinProtocol {
 public:
  uint8_t version() const override { return 2; }
  std::optional<Bytes> shared_secret(const crypto::PrivateKey& ours, const crypto::PublicKey& peer) const override;
  std::optional<Bytes> encrypt(ByteView shared, ByteView plaintext, crypto::Rng& rng) const override;
  std::optional<Bytes> decrypt(ByteView shared, ByteView ciphertext) const override;
  Bytes authenticate(ByteView key, ByteView message) const override;
  bool verify(ByteView key, ByteView message, ByteView signature) const override;
};

// The protocol for a request's pinUvAuthProtocol number, or nullptr if unsupported.
const PinProtocol* pin_protocol(int64_t version);

}  // namespace vauth::ctap
