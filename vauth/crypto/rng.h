// Randomness is injected: SystemRng for real keys, SeededRng for `--seed N`
// runs in which every key, master secret, credential ID and PIN token is
// reproducible. (ECDSA signature nonces come from OpenSSL, so ES256 signatures
// and certificates differ run to run; Ed25519 signatures do not.)
#pragma once

#include <cstdint>
#include <span>

#include "vauth/base/bytes.h"

namespace vauth::crypto {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
  Bytes bytes(size_t n) {
    Bytes b(n);
    fill(b);
    return b;
  }
};

// OpenSSL's RAND_bytes (the system CSPRNG).
class SystemRng final : public Rng {
 public:
  void fill(std::span<uint8_t> out) override;
};

// Deterministic, cryptographically strong stream derived from a 64-bit seed
// (AES-256-CTR keyed with SHA-256 of the seed and a domain label). The same seed
// gives the same stream on every machine.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(uint64_t seed);
  void fill(std::span<uint8_t> out) override;

 private:
  uint8_t key_[32];
  // Keystream bytes handed out so far. Counting bytes rather than blocks keeps
  // the stream independent of how callers split their reads.
  uint64_t position_ = 0;
};

}  // namespace vauth::crypto
