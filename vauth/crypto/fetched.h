// Internal to vauth/crypto: algorithms fetched once per process.
//
// Hot path: OpenSSL 3.0 resolves EVP_sha256(), EVP_aes_256_gcm() and friends,
// and every EVP_*_fetch, through the provider's method store on each call
// (name lookups under a lock). The profile in docs/performance.md puts that
// next to key import as the largest cost of a signature, so each algorithm is
// fetched here once, on first use, and kept for the life of the process.
// Fetched algorithms are immutable and reference counted, so one copy serves
// every device and thread; they are deliberately never freed.
#pragma once

#include <openssl/evp.h>
#include <openssl/kdf.h>

namespace vauth::crypto::detail {

const EVP_MD* sha256_md();
const EVP_MD* sha384_md();
EVP_MAC* hmac_mac();
EVP_KDF* hkdf_kdf();
const EVP_CIPHER* aes256_gcm_cipher();
const EVP_CIPHER* aes256_cbc_cipher();
const EVP_CIPHER* aes256_ctr_cipher();

}  // namespace vauth::crypto::detail
