// PKCS#8 import and export through OpenSSL's decoder (d2i_PKCS8_PRIV_KEY_INFO) and
// encoder (EVP_PKEY2PKCS8): no hand-written ASN.1.
#include "vauth/crypto/pkcs8.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "vauth/crypto/openssl_util.h"

namespace vauth::crypto {

namespace {

using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, detail::Deleter<PKCS8_PRIV_KEY_INFO_free>>;

Unexpected<std::string> refuse(std::string why) {
  return unexpected(std::move(why));
}

// The big-endian private scalar of an EC key, left-padded to the curve's size.
std::optional<Bytes> ec_scalar_bytes(const EVP_PKEY* pkey, size_t size) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) return std::nullopt;
  detail::SecretBnPtr d(raw);
  Bytes out(size);
  if (BN_bn2binpad(d.get(), out.data(), static_cast<int>(out.size())) < 0) return std::nullopt;
  return out;
}

}  // namespace

Expected<PrivateKey, std::string> private_key_from_pkcs8(ByteView der) {
  if (der.empty()) return refuse("the private key is empty");
  const unsigned char* p = der.data();
  Pkcs8Ptr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!info || p != der.data() + der.size()) return refuse("the private key is not a PKCS#8 PrivateKeyInfo (DER)");
  detail::EvpPkeyPtr pkey(EVP_PKCS82PKEY(info.get()));
  ERR_clear_error();
  if (!pkey) return refuse("the PKCS#8 document holds no usable private key");

  std::optional<Algorithm> alg;
  std::optional<Bytes> raw;
  if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) {
      ERR_clear_error();
      return refuse("the EC key names no curve (explicit curve parameters are not supported)");
    }
    const std::string name(group, len);
    if (name == "prime256v1" || name == "P-256") {
      alg = Algorithm::ES256;
      raw = ec_scalar_bytes(pkey.get(), 32);
    } else if (name == "secp384r1" || name == "P-384") {
      alg = Algorithm::ES384;
      raw = ec_scalar_bytes(pkey.get(), 48);
    } else {
      return refuse("EC keys on curve " + name + " are not supported (P-256 for ES256, P-384 for ES384)");
    }
  } else if (EVP_PKEY_is_a(pkey.get(), "ED25519")) {
    alg = Algorithm::EdDSA;
    Bytes seed(32);
    size_t len = seed.size();
    if (EVP_PKEY_get_raw_private_key(pkey.get(), seed.data(), &len) == 1 && len == seed.size()) raw = std::move(seed);
  } else if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    return refuse("RSA private keys cannot be imported: vauth derives RS256 keys from a 32-byte seed");
  } else {
    return refuse("unsupported key type (ES256 P-256, ES384 P-384 and EdDSA Ed25519 are)");
  }
  ERR_clear_error();
  if (!raw) return refuse("the private key's secret could not be read");
  auto key = PrivateKey::from_bytes(*alg, *raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  if (!key) return refuse("the private key is out of range for its curve");
  return std::move(*key);
}

Bytes private_key_to_pkcs8(const PrivateKey& key) {
  Pkcs8Ptr info(EVP_PKEY2PKCS8(static_cast<EVP_PKEY*>(key.native())));
  if (!info) detail::throw_openssl("EVP_PKEY2PKCS8");
  unsigned char* der = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info.get(), &der);
  if (len <= 0) detail::throw_openssl("i2d_PKCS8_PRIV_KEY_INFO");
  Bytes out(der, der + len);
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  return out;
}

}  // namespace vauth::crypto
