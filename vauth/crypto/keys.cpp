// Algorithm identifiers and PublicKey. PrivateKey lives in private_key.cpp.
#include "vauth/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <cstring>
#include <stdexcept>

#include "vauth/crypto/fetched.h"
#include "vauth/crypto/openssl_util.h"

namespace vauth::crypto {

namespace {

constexpr size_t kEd25519KeySize = 32;
constexpr size_t kEd25519SigSize = 64;
constexpr int kRsaBits = 2048;

using detail::data_or_empty;
using detail::throw_openssl;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, detail::Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, detail::Deleter<OSSL_PARAM_free>>;

detail::EvpPkeyPtr public_evp_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  detail::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    throw_openssl("EVP_PKEY_fromdata (public key)");
  return detail::EvpPkeyPtr(raw);
}

detail::EvpPkeyPtr ec_public_evp(const detail::Curve& curve, const Bytes& point) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.group_name, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    throw_openssl("OSSL_PARAM_BLD (EC public key)");
  return public_evp_from_params("EC", bld.get());
}

detail::EvpPkeyPtr rsa_public_evp(const Bytes& n, const Bytes& e) {
  detail::BnPtr bn(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  detail::BnPtr be(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn || !be || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1)
    throw_openssl("OSSL_PARAM_BLD (RSA public key)");
  return public_evp_from_params("RSA", bld.get());
}

// The curve of an EC EVP_PKEY, if it is one we support (SPKI may carry others).
const detail::Curve* curve_of(const EVP_PKEY* pkey) {
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  if (std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0) return &detail::kP256;
  if (std::strcmp(group, "secp384r1") == 0 || std::strcmp(group, "P-384") == 0) return &detail::kP384;
  return nullptr;
}

std::optional<Bytes> bn_param(const EVP_PKEY* pkey, const char* name, size_t pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  detail::BnPtr bn(raw);
  const size_t size = pad ? pad : static_cast<size_t>(BN_num_bytes(bn.get()));
  Bytes out(size);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(size)) < 0) return std::nullopt;
  return out;
}

std::optional<PublicKey> ec_from_evp(const EVP_PKEY* pkey) {
  const detail::Curve* curve = curve_of(pkey);
  if (!curve) return std::nullopt;
  auto x = bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, curve->coordinate_size);
  auto y = bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, curve->coordinate_size);
  if (!x || !y) return std::nullopt;
  return curve->algorithm == Algorithm::ES256 ? PublicKey::p256(*x, *y) : PublicKey::p384(*x, *y);
}

std::optional<PublicKey> rsa_from_evp(const EVP_PKEY* pkey) {
  auto n = bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
  auto e = bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
  if (!n || !e) return std::nullopt;
  return PublicKey::rsa(*n, *e);
}

std::optional<PublicKey> ed25519_from_evp(const EVP_PKEY* pkey) {
  Bytes raw(kEd25519KeySize);
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, raw.data(), &len) != 1 || len != kEd25519KeySize) {
    ERR_clear_error();
    return std::nullopt;
  }
  return PublicKey::ed25519(raw);
}

bool verify_with(EVP_PKEY* pkey, const EVP_MD* md, ByteView message, ByteView signature) {
  detail::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) throw_openssl("EVP_MD_CTX_new");
  bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx.get(), data_or_empty(signature), signature.size(),
                             data_or_empty(message), message.size()) == 1;
  // Malformed signatures leave decoder errors queued; they are not our caller's business.
  ERR_clear_error();
  return ok;
}

// Whether (x, y) is a point on the curve other than infinity: the invalid-curve
// defence ECDH depends on, and the check that keeps bad COSE keys out.
bool on_curve(const detail::Curve& curve, ByteView x, ByteView y) {
  if (x.size() != curve.coordinate_size || y.size() != curve.coordinate_size) return false;
  Bytes encoded = concat(Bytes{0x04}, x, y);
  const EC_GROUP* group = detail::shared_group(curve);
  detail::EcPointPtr point(EC_POINT_new(group));
  if (!point) throw_openssl("EC_POINT_new");
  // oct2point rejects coordinates >= p.
  if (EC_POINT_oct2point(group, point.get(), encoded.data(), encoded.size(), nullptr) != 1 ||
      EC_POINT_is_on_curve(group, point.get(), nullptr) != 1 || EC_POINT_is_at_infinity(group, point.get())) {
    ERR_clear_error();
    return false;
  }
  return true;
}

Bytes strip_leading_zeros(ByteView b) {
  size_t i = 0;
  while (i + 1 < b.size() && b[i] == 0) ++i;
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(i), b.end());
}

}  // namespace

std::optional<Algorithm> algorithm_from_cose(int64_t cose_id) {
  switch (cose_id) {
    case static_cast<int64_t>(Algorithm::ES256):
      return Algorithm::ES256;
    case static_cast<int64_t>(Algorithm::EdDSA):
      return Algorithm::EdDSA;
    case static_cast<int64_t>(Algorithm::ES384):
      return Algorithm::ES384;
    case static_cast<int64_t>(Algorithm::RS256):
      return Algorithm::RS256;
    default:
      return std::nullopt;
  }
}

const char* to_string(Algorithm a) {
  switch (a) {
    case Algorithm::ES256:
      return "ES256";
    case Algorithm::EdDSA:
      return "EdDSA";
    case Algorithm::ES384:
      return "ES384";
    case Algorithm::RS256:
      return "RS256";
  }
  return "unknown";
}

std::optional<PublicKey> PublicKey::p256(ByteView x, ByteView y) {
  if (!on_curve(detail::kP256, x, y)) return std::nullopt;
  return PublicKey(Algorithm::ES256, Bytes(x.begin(), x.end()), Bytes(y.begin(), y.end()));
}

std::optional<PublicKey> PublicKey::p384(ByteView x, ByteView y) {
  if (!on_curve(detail::kP384, x, y)) return std::nullopt;
  return PublicKey(Algorithm::ES384, Bytes(x.begin(), x.end()), Bytes(y.begin(), y.end()));
}

std::optional<PublicKey> PublicKey::rsa(ByteView n, ByteView e) {
  Bytes modulus = strip_leading_zeros(n), exponent = strip_leading_zeros(e);
  // A 2048-bit modulus, and an odd exponent > 1 (what RS256 credentials use).
  if (modulus.size() != kRsaBits / 8 || (modulus[0] & 0x80) == 0) return std::nullopt;
  if (exponent.empty() || exponent.size() > 8 || (exponent.back() & 1) == 0 ||
      (exponent.size() == 1 && exponent[0] < 3))
    return std::nullopt;
  return PublicKey(Algorithm::RS256, std::move(modulus), std::move(exponent));
}

std::optional<PublicKey> PublicKey::ed25519(ByteView x) {
  if (x.size() != kEd25519KeySize) return std::nullopt;
  return PublicKey(Algorithm::EdDSA, Bytes(x.begin(), x.end()), Bytes{});
}

std::optional<PublicKey> PublicKey::from_spki_der(ByteView der) {
  const unsigned char* p = data_or_empty(der);
  detail::EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  // Trailing bytes after the SPKI mean the input is not one SPKI.
  if (!pkey || p != der.data() + der.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  return detail::public_from_evp(pkey.get());
}

Bytes PublicKey::uncompressed_point() const {
  if (alg_ != Algorithm::ES256) throw std::logic_error("uncompressed_point: not a P-256 key");
  return concat(Bytes{0x04}, x_, y_);
}

Bytes PublicKey::spki_der() const {
  auto pkey = detail::to_evp(*this);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey.get(), &der);
  if (len <= 0) throw_openssl("i2d_PUBKEY");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

bool PublicKey::verify(ByteView message, ByteView signature) const {
  auto pkey = detail::to_evp(*this);
  switch (alg_) {
    case Algorithm::EdDSA:
      if (signature.size() != kEd25519SigSize) return false;
      return verify_with(pkey.get(), nullptr, message, signature);
    case Algorithm::ES384: return verify_with(pkey.get(), detail::sha384_md(), message, signature);
    case Algorithm::ES256:
    case Algorithm::RS256:
      break;
  }
  // OpenSSL's ECDSA verify re-encodes the parsed signature and rejects any
  // non-canonical DER, so malleated encodings fail here too. RSA keys default
  // to PKCS#1 v1.5 padding.
  return verify_with(pkey.get(), detail::sha256_md(), message, signature);
}

namespace detail {

const Curve kP256{"prime256v1", NID_X9_62_prime256v1, 32, Algorithm::ES256};
const Curve kP384{"secp384r1", NID_secp384r1, 48, Algorithm::ES384};

EvpPkeyPtr to_evp(const PublicKey& key) {
  switch (key.algorithm()) {
    case Algorithm::ES256: return ec_public_evp(kP256, concat(Bytes{0x04}, key.x(), key.y()));
    case Algorithm::ES384: return ec_public_evp(kP384, concat(Bytes{0x04}, key.x(), key.y()));
    case Algorithm::RS256: return rsa_public_evp(key.n(), key.e());
    case Algorithm::EdDSA: break;
  }
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.x().data(), key.x().size()));
  if (!pkey) throw_openssl("EVP_PKEY_new_raw_public_key(Ed25519)");
  return pkey;
}

std::optional<PublicKey> public_from_evp(const EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC:
      return ec_from_evp(pkey);
    case EVP_PKEY_RSA:
      return rsa_from_evp(pkey);
    case EVP_PKEY_ED25519:
      return ed25519_from_evp(pkey);
    default:
      return std::nullopt;
  }
}

}  // namespace detail

}  // namespace vauth::crypto
