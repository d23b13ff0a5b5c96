// Internal to vauth/crypto: RAII owners for OpenSSL objects and small helpers
// shared by the .cpp files of this folder. Not part of the public API.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>

#include "vauth/base/bytes.h"
#include "vauth/crypto/keys.h"

namespace vauth::crypto::detail {

template <auto FreeFn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, Deleter<EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>>;
using EvpKdfPtr = std::unique_ptr<EVP_KDF, Deleter<EVP_KDF_free>>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
// For secret scalars: zeroes the limbs before freeing.
using SecretBnPtr = std::unique_ptr<BIGNUM, Deleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

// Throws std::runtime_error naming the failed operation and OpenSSL's most
// recent error, and clears the thread's error queue.
[[noreturn]] void throw_openssl(const char* what);

// OpenSSL treats a NULL buffer as "absent" in several places even when the
// length is 0; this gives every view a valid pointer.
const unsigned char* data_or_empty(ByteView v);

// The NIST curves ECDSA keys use.
struct Curve {
  const char* group_name;  // OpenSSL's name
  int nid;
  size_t coordinate_size;  // bytes per coordinate and per scalar
  Algorithm algorithm;
};
extern const Curve kP256, kP384;

// The P-256 group (new object per call; EC_GROUP is not shared across threads here).
EcGroupPtr p256_group();
EcGroupPtr curve_group(const Curve& curve);
// A process-wide group for `curve`, built once (hot path: EC_GROUP_new_by_curve_name
// costs more than a point check). EC_GROUP is only read by point arithmetic,
// so one object serves every thread; never freed.
const EC_GROUP* shared_group(const Curve& curve);

// EVP_PKEY for a public key (never null; throws on OpenSSL failure).
EvpPkeyPtr to_evp(const PublicKey& key);
// The PublicKey of an EVP_PKEY holding a P-256, P-384, Ed25519 or RSA-2048 key; nullopt otherwise.
std::optional<PublicKey> public_from_evp(const EVP_PKEY* pkey);

}  // namespace vauth::crypto::detail
