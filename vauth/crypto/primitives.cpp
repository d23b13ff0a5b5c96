#include "vauth/crypto/primitives.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <stdexcept>

#include "vauth/crypto/fetched.h"
#include "vauth/crypto/openssl_util.h"

namespace vauth::crypto {

namespace {

using detail::data_or_empty;
using detail::throw_openssl;

constexpr size_t kSha256Size = 32;
constexpr size_t kAesKeySize = 32;
constexpr size_t kAes128KeySize = 16;
constexpr size_t kAesBlockSize = 16;
constexpr size_t kGcmNonceSize = 12;
constexpr size_t kGcmTagSize = 16;

// OSSL_PARAM wants mutable pointers even for inputs it only reads.
void* param_data(ByteView v) { return const_cast<unsigned char*>(data_or_empty(v)); }
char* param_name(const char* s) { return const_cast<char*>(s); }

// One-shot encrypt/decrypt of whole blocks; the caller has checked the sizes.
Bytes aes_cbc(const EVP_CIPHER* cipher, ByteView key, ByteView iv, ByteView in, bool encrypt) {
  detail::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), iv.data(), encrypt ? 1 : 0, nullptr) != 1)
    throw_openssl("AES-CBC init");
  // CTAP PIN protocols encrypt whole blocks with no padding.
  if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) throw_openssl("AES-CBC padding");
  Bytes out(in.size() + kAesBlockSize);
  int len = 0, final_len = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, data_or_empty(in), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + len, &final_len) != 1)
    throw_openssl("AES-CBC");
  out.resize(static_cast<size_t>(len + final_len));
  return out;
}

bool valid_cbc_args(ByteView key, ByteView iv, ByteView data, size_t key_size = kAesKeySize) {
  return key.size() == key_size && iv.size() == kAesBlockSize && data.size() % kAesBlockSize == 0;
}

detail::EvpCipherCtxPtr gcm_context(ByteView key, ByteView nonce, ByteView aad, bool encrypt) {
  detail::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  // AES-GCM's default IV length is 12 bytes, which is the only size we accept.
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), detail::aes256_gcm_cipher(), key.data(), nonce.data(), encrypt ? 1 : 0,
                                 nullptr) != 1)
    throw_openssl("AES-256-GCM init");
  int len = 0;
  if (!aad.empty() &&
      EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    throw_openssl("AES-256-GCM aad");
  return ctx;
}

}  // namespace

Bytes sha256(ByteView data) {
  Bytes out(kSha256Size);
  unsigned int len = 0;
  if (EVP_Digest(data_or_empty(data), data.size(), out.data(), &len, detail::sha256_md(), nullptr) != 1)
    throw_openssl("SHA-256");
  return out;
}

Bytes hmac_sha256(ByteView key, ByteView data) {
  detail::EvpMacCtxPtr ctx(EVP_MAC_CTX_new(detail::hmac_mac()));
  if (!ctx) throw_openssl("EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, param_name("SHA256"), 0),
      OSSL_PARAM_construct_end(),
  };
  // A NULL key would mean "keep the previous key" (there is none); an empty
  // key must be passed as a valid pointer with length 0.
  Bytes out(kSha256Size);
  size_t len = 0;
  if (EVP_MAC_init(ctx.get(), data_or_empty(key), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), data_or_empty(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1)
    throw_openssl("HMAC-SHA-256");
  return out;
}

Bytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length) {
  if (length == 0) return {};
  if (length > 255 * kSha256Size) throw std::invalid_argument("hkdf_sha256: length > 255*HashLen");
  detail::EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(detail::hkdf_kdf()));
  if (!ctx) throw_openssl("EVP_KDF_CTX_new");

  // Default mode is extract-then-expand. An absent salt makes OpenSSL use
  // HashLen zero bytes, which is exactly RFC 5869's rule for an empty salt
  // (and HMAC keys are zero-padded anyway), so empty salt/info are left out.
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, param_name("SHA256"), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, param_data(ikm), ikm.size());
  if (!salt.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_data(salt), salt.size());
  if (!info.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, param_data(info), info.size());
  params[n] = OSSL_PARAM_construct_end();

  Bytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) throw_openssl("HKDF-SHA-256");
  return out;
}

std::optional<Bytes> aes256_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext) {
  if (!valid_cbc_args(key, iv, plaintext)) return std::nullopt;
  return aes_cbc(detail::aes256_cbc_cipher(), key, iv, plaintext, true);
}

std::optional<Bytes> aes256_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext) {
  if (!valid_cbc_args(key, iv, ciphertext)) return std::nullopt;
  return aes_cbc(detail::aes256_cbc_cipher(), key, iv, ciphertext, false);
}

std::optional<Bytes> aes128_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext) {
  if (!valid_cbc_args(key, iv, plaintext, kAes128KeySize)) return std::nullopt;
  return aes_cbc(EVP_aes_128_cbc(), key, iv, plaintext, true);
}

std::optional<Bytes> aes128_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext) {
  if (!valid_cbc_args(key, iv, ciphertext, kAes128KeySize)) return std::nullopt;
  return aes_cbc(EVP_aes_128_cbc(), key, iv, ciphertext, false);
}

std::optional<Bytes> aes256_gcm_seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
  if (key.size() != kAesKeySize || nonce.size() != kGcmNonceSize) return std::nullopt;
  auto ctx = gcm_context(key, nonce, aad, true);
  Bytes out(plaintext.size() + kGcmTagSize);
  int len = 0, final_len = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, data_or_empty(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1)
    throw_openssl("AES-256-GCM encrypt");
  size_t ct_len = static_cast<size_t>(len + final_len);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out.data() + ct_len, kGcmTagSize),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_get_params(ctx.get(), params) != 1) throw_openssl("AES-256-GCM tag");
  out.resize(ct_len + kGcmTagSize);
  return out;
}

std::optional<Bytes> aes256_gcm_open(ByteView key, ByteView nonce, ByteView aad, ByteView sealed) {
  if (key.size() != kAesKeySize || nonce.size() != kGcmNonceSize || sealed.size() < kGcmTagSize)
    return std::nullopt;
  ByteView ciphertext = sealed.first(sealed.size() - kGcmTagSize);
  ByteView tag = sealed.last(kGcmTagSize);
  auto ctx = gcm_context(key, nonce, aad, false);
  Bytes out(ciphertext.size() + kAesBlockSize);
  int len = 0, final_len = 0;
  if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, data_or_empty(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1)
    throw_openssl("AES-256-GCM decrypt");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, param_data(tag), tag.size()),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_set_params(ctx.get(), params) != 1) throw_openssl("AES-256-GCM set tag");
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
    // Authentication failed: release nothing of the unauthenticated plaintext.
    cleanse(out);
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(len + final_len));
  return out;
}

bool equal_ct(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(data_or_empty(a), data_or_empty(b), a.size()) == 0;
}

void cleanse(std::span<uint8_t> data) {
  if (!data.empty()) OPENSSL_cleanse(data.data(), data.size());
}

}  // namespace vauth::crypto
