#include "vauth/crypto/rng.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>

#include "vauth/crypto/fetched.h"
#include "vauth/crypto/openssl_util.h"
#include "vauth/crypto/primitives.h"

namespace vauth::crypto {

namespace {

constexpr size_t kAesBlock = 16;
// EVP interfaces take int lengths; large requests are processed in slices.
constexpr size_t kMaxChunk = INT_MAX / 2;

constexpr std::string_view kSeededRngLabel = "vauth-seeded-rng-v1";

}  // namespace

void SystemRng::fill(std::span<uint8_t> out) {
  while (!out.empty()) {
    size_t n = std::min(out.size(), kMaxChunk);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) detail::throw_openssl("RAND_bytes");
    out = out.subspan(n);
  }
}

SeededRng::SeededRng(uint64_t seed) {
  // key = SHA-256(label || seed as 8 bytes big-endian): the label separates this
  // use of the seed from any other the project might make.
  Bytes input = to_bytes(kSeededRngLabel);
  for (int shift = 56; shift >= 0; shift -= 8) input.push_back(static_cast<uint8_t>(seed >> shift));
  Bytes key = sha256(input);
  std::copy(key.begin(), key.end(), key_);
  cleanse(key);
}

void SeededRng::fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  // AES-256-CTR keystream = encryption of zeros. The counter block is the
  // 128-bit big-endian block index; we restart at the block containing
  // position_ and discard the bytes of it already handed out, so reads of any
  // size concatenate to the same stream.
  uint64_t block = position_ / kAesBlock;
  size_t skip = position_ % kAesBlock;
  std::array<uint8_t, kAesBlock> iv{};
  for (size_t i = 0; i < 8; ++i) iv[kAesBlock - 1 - i] = static_cast<uint8_t>(block >> (8 * i));

  detail::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), detail::aes256_ctr_cipher(), key_, iv.data(), nullptr) != 1)
    detail::throw_openssl("AES-256-CTR init");

  int len = 0;
  std::array<uint8_t, kAesBlock> discard{};
  if (skip > 0 &&
      EVP_EncryptUpdate(ctx.get(), discard.data(), &len, discard.data(), static_cast<int>(skip)) != 1)
    detail::throw_openssl("AES-256-CTR skip");

  std::fill(out.begin(), out.end(), uint8_t{0});
  for (std::span<uint8_t> rest = out; !rest.empty();) {
    size_t n = std::min(rest.size(), kMaxChunk);
    // CTR is a stream mode: in-place encryption of zeros yields the keystream.
    if (EVP_EncryptUpdate(ctx.get(), rest.data(), &len, rest.data(), static_cast<int>(n)) != 1)
      detail::throw_openssl("AES-256-CTR keystream");
    rest = rest.subspan(n);
  }
  position_ += out.size();
}

}  // namespace vauth::crypto
