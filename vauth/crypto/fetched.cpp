#include "vauth/crypto/fetched.h"

#include "vauth/crypto/openssl_util.h"

namespace vauth::crypto::detail {

namespace {

// Each function-local static below is initialised once, thread-safely (C++11
// magic statics); a failed fetch throws and is retried on the next call.
template <typename T>
T* must(T* fetched, const char* what) {
  if (!fetched) throw_openssl(what);
  return fetched;
}

}  // namespace

const EVP_MD* sha256_md() {
  static const EVP_MD* md = must(EVP_MD_fetch(nullptr, "SHA2-256", nullptr), "EVP_MD_fetch(SHA2-256)");
  return md;
}

const EVP_MD* sha384_md() {
  static const EVP_MD* md = must(EVP_MD_fetch(nullptr, "SHA2-384", nullptr), "EVP_MD_fetch(SHA2-384)");
  return md;
}

EVP_MAC* hmac_mac() {
  static EVP_MAC* mac = must(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "EVP_MAC_fetch(HMAC)");
  return mac;
}

EVP_KDF* hkdf_kdf() {
  static EVP_KDF* kdf = must(EVP_KDF_fetch(nullptr, "HKDF", nullptr), "EVP_KDF_fetch(HKDF)");
  return kdf;
}

const EVP_CIPHER* aes256_gcm_cipher() {
  static const EVP_CIPHER* cipher =
      must(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), "EVP_CIPHER_fetch(AES-256-GCM)");
  return cipher;
}

const EVP_CIPHER* aes256_cbc_cipher() {
  static const EVP_CIPHER* cipher =
      must(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr), "EVP_CIPHER_fetch(AES-256-CBC)");
  return cipher;
}

const EVP_CIPHER* aes256_ctr_cipher() {
  static const EVP_CIPHER* cipher =
      must(EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr), "EVP_CIPHER_fetch(AES-256-CTR)");
  return cipher;
}

}  // namespace vauth::crypto::detail
