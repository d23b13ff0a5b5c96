#include "vauth/ctap/credential_id.h"

#include <array>
#include <mutex>

#include "vauth/crypto/primitives.h"

namespace vauth::ctap {
namespace {

constexpr uint8_t kVersion = 0x01;
constexpr size_t kNonceLength = 12;
constexpr size_t kHeaderLength = 3;  // flags | COSE alg

// One purpose per key: the wrapping key is derived, never the master secret itself.
Bytes derive_wrapping_key(ByteView master_secret) {
  return crypto::hkdf_sha256(master_secret, {}, to_bytes("vauth credential id v1"), 32);
}

// Hot path: every wrap and unwrap needs the wrapping key, and HKDF under
// OpenSSL 3.0 looks its digest up by name on each call — as much time as the
// AES-GCM itself. So the last few derived keys are kept, found by a SHA-256 of
// their master secret (no second copy of the secret), and wiped on eviction.
// A handful of entries covers every device of one daemon; a reset's new master
// secret simply misses. Process-wide, behind a mutex, like the key cache.
Bytes wrapping_key(ByteView master_secret) {
  struct Entry {
    Bytes secret_hash, key;
  };
  static std::mutex mutex;
  static std::array<Entry, 8> entries;
  static size_t next_victim = 0;
  const Bytes hash = crypto::sha256(master_secret);
  std::lock_guard lock(mutex);
  for (const Entry& e : entries) {
    if (e.secret_hash == hash) return e.key;
  }
  Entry& slot = entries[next_victim];
  next_victim = (next_victim + 1) % entries.size();
  crypto::cleanse(slot.key);
  slot = Entry{hash, derive_wrapping_key(master_secret)};
  return slot.key;
}

Bytes associated_data(ByteView rp_id_hash) {
  Bytes aad{kVersion};
  append(aad, rp_id_hash);
  return aad;
}

}  // namespace

Bytes wrap_credential_id(ByteView master_secret, ByteView rp_id_hash, const CredentialSecret& secret,
                         crypto::Rng& rng) {
  Bytes plaintext{secret.flags};
  const auto alg = static_cast<int16_t>(secret.key.algorithm());
  put_u16_be(plaintext, static_cast<uint16_t>(alg));
  Bytes key = secret.key.private_bytes();
  append(plaintext, key);
  crypto::cleanse(key);

  Bytes nonce = rng.bytes(kNonceLength);
  auto sealed = crypto::aes256_gcm_seal(wrapping_key(master_secret), nonce, associated_data(rp_id_hash), plaintext);
  crypto::cleanse(plaintext);
  Bytes id{kVersion};
  append(id, nonce);
  append(id, *sealed);
  return id;
}

std::optional<CredentialSecret> unwrap_credential_id(ByteView master_secret, ByteView rp_id_hash,
                                                     ByteView credential_id) {
  if (credential_id.size() < kCredentialIdLength || credential_id.size() > kMaxCredentialIdLength ||
      credential_id[0] != kVersion) {
    return std::nullopt;
  }
  ByteView nonce = credential_id.subspan(1, kNonceLength);
  ByteView sealed = credential_id.subspan(1 + kNonceLength);
  auto plaintext = crypto::aes256_gcm_open(wrapping_key(master_secret), nonce, associated_data(rp_id_hash), sealed);
  if (!plaintext || plaintext->size() <= kHeaderLength) return std::nullopt;

  const auto cose_alg = static_cast<int16_t>(get_u16_be(plaintext->data() + 1));
  auto alg = crypto::algorithm_from_cose(cose_alg);
  std::optional<crypto::PrivateKey> key;
  // from_bytes checks the key length the algorithm needs.
  if (alg) key = crypto::PrivateKey::from_bytes(*alg, ByteView(*plaintext).subspan(kHeaderLength));
  const uint8_t flags = (*plaintext)[0];
  crypto::cleanse(*plaintext);
  if (!key) return std::nullopt;
  return CredentialSecret{flags, std::move(*key)};
}

}  // namespace vauth::ctap
