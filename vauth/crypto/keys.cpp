// Algorithm identifiers and PublicKey. PrivateKey lives in private_key.cpp.
#include "vauth/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <cstring>
#include <stdexcept>

#include "vauth/crypto/openssl_util.h"

namespace vauth::crypto {

namespace {

constexpr size_t kCoordSize = 32;
constexpr size_t kEd25519KeySize = 32;
constexpr size_t kEd25519SigSize = 64;

using detail::data_or_empty;
using detail::throw_openssl;

detail::EvpPkeyPtr p256_public_evp(const Bytes& point) {
  using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, detail::Deleter<OSSL_PARAM_BLD_free>>;
  using ParamPtr = std::unique_ptr<OSSL_PARAM, detail::Deleter<OSSL_PARAM_free>>;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    throw_openssl("OSSL_PARAM_BLD (EC public key)");
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  detail::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    throw_openssl("EVP_PKEY_fromdata (EC public key)");
  return detail::EvpPkeyPtr(raw);
}

// Whether the EVP_PKEY is an EC key on P-256 (SPKI may carry other curves).
bool is_p256(const EVP_PKEY* pkey) {
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) {
    ERR_clear_error();
    return false;
  }
  return std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0;
}

std::optional<PublicKey> p256_from_evp(const EVP_PKEY* pkey) {
  if (!is_p256(pkey)) return std::nullopt;
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1;
  detail::BnPtr bx(x), by(y);
  if (!ok) {
    ERR_clear_error();
    return std::nullopt;
  }
  Bytes xb(kCoordSize), yb(kCoordSize);
  if (BN_bn2binpad(bx.get(), xb.data(), kCoordSize) < 0 || BN_bn2binpad(by.get(), yb.data(), kCoordSize) < 0)
    return std::nullopt;
  return PublicKey::p256(xb, yb);
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

}  // namespace

std::optional<Algorithm> algorithm_from_cose(int64_t cose_id) {
  switch (cose_id) {
    case static_cast<int64_t>(Algorithm::ES256):
      return Algorithm::ES256;
    case static_cast<int64_t>(Algorithm::EdDSA):
      return Algorithm::EdDSA;
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
  }
  return "unknown";
}

std::optional<PublicKey> PublicKey::p256(ByteView x, ByteView y) {
  if (x.size() != kCoordSize || y.size() != kCoordSize) return std::nullopt;
  Bytes encoded = concat(Bytes{0x04}, x, y);
  auto group = detail::p256_group();
  detail::EcPointPtr point(EC_POINT_new(group.get()));
  if (!point) throw_openssl("EC_POINT_new");
  // oct2point rejects coordinates >= p; the explicit curve check is the
  // invalid-curve-attack defence ECDH depends on.
  if (EC_POINT_oct2point(group.get(), point.get(), encoded.data(), encoded.size(), nullptr) != 1 ||
      EC_POINT_is_on_curve(group.get(), point.get(), nullptr) != 1 ||
      EC_POINT_is_at_infinity(group.get(), point.get())) {
    ERR_clear_error();
    return std::nullopt;
  }
  return PublicKey(Algorithm::ES256, Bytes(x.begin(), x.end()), Bytes(y.begin(), y.end()));
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
  if (alg_ == Algorithm::EdDSA) {
    if (signature.size() != kEd25519SigSize) return false;
    return verify_with(pkey.get(), nullptr, message, signature);
  }
  // OpenSSL's ECDSA verify re-encodes the parsed signature and rejects any
  // non-canonical DER, so malleated encodings fail here too.
  return verify_with(pkey.get(), EVP_sha256(), message, signature);
}

namespace detail {

EvpPkeyPtr to_evp(const PublicKey& key) {
  if (key.algorithm() == Algorithm::ES256) return p256_public_evp(concat(Bytes{0x04}, key.x(), key.y()));
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.x().data(), key.x().size()));
  if (!pkey) throw_openssl("EVP_PKEY_new_raw_public_key(Ed25519)");
  return pkey;
}

std::optional<PublicKey> public_from_evp(const EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC:
      return p256_from_evp(pkey);
    case EVP_PKEY_ED25519:
      return ed25519_from_evp(pkey);
    default:
      return std::nullopt;
  }
}

}  // namespace detail

}  // namespace vauth::crypto
