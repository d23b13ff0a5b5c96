// PrivateKey: generation, import/export, signing and P-256 ECDH.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include <stdexcept>
#include <utility>

#include "vauth/crypto/keys.h"
#include "vauth/crypto/openssl_util.h"
#include "vauth/crypto/primitives.h"

namespace vauth::crypto {

namespace {

constexpr size_t kScalarSize = 32;
constexpr size_t kEd25519SeedSize = 32;
// A scalar drawn uniformly from 32 bytes is out of range with probability
// ~2^-32; this many failures in a row means the Rng is broken, not unlucky.
constexpr int kMaxScalarAttempts = 64;

using detail::throw_openssl;

EVP_PKEY* as_pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

// Parses a big-endian scalar, returning null unless 0 < d < n.
detail::SecretBnPtr p256_scalar(const EC_GROUP* group, ByteView raw) {
  detail::SecretBnPtr d(BN_secure_new());
  if (!d || !BN_bin2bn(raw.data(), static_cast<int>(raw.size()), d.get())) throw_openssl("BN_bin2bn");
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group)) >= 0) return nullptr;
  return d;
}

// Q = d·G, uncompressed (0x04 || x || y).
Bytes p256_public_point(const EC_GROUP* group, const BIGNUM* d) {
  detail::BnCtxPtr bn_ctx(BN_CTX_secure_new());
  detail::EcPointPtr q(EC_POINT_new(group));
  if (!bn_ctx || !q || EC_POINT_mul(group, q.get(), d, nullptr, nullptr, bn_ctx.get()) != 1)
    throw_openssl("EC_POINT_mul");
  Bytes out(1 + 2 * kScalarSize);
  if (EC_POINT_point2oct(group, q.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(),
                         bn_ctx.get()) != out.size())
    throw_openssl("EC_POINT_point2oct");
  return out;
}

EVP_PKEY* p256_keypair(const BIGNUM* d, const Bytes& public_point) {
  using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, detail::Deleter<OSSL_PARAM_BLD_free>>;
  // `d` is a secure BIGNUM, so the builder keeps its copy of the scalar in
  // secure memory, which OSSL_PARAM_free clears before releasing.
  using ParamPtr = std::unique_ptr<OSSL_PARAM, detail::Deleter<OSSL_PARAM_free>>;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, public_point.data(),
                                       public_point.size()) != 1)
    throw_openssl("OSSL_PARAM_BLD (EC key pair)");
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  detail::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1)
    throw_openssl("EVP_PKEY_fromdata (EC key pair)");
  return pkey;
}

Bytes p256_private_bytes(const EVP_PKEY* pkey) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) throw_openssl("get EC private key");
  detail::SecretBnPtr d(raw);
  Bytes out(kScalarSize);
  if (BN_bn2binpad(d.get(), out.data(), static_cast<int>(out.size())) < 0) throw_openssl("BN_bn2binpad");
  return out;
}

Bytes ed25519_private_bytes(const EVP_PKEY* pkey) {
  Bytes out(kEd25519SeedSize);
  size_t len = out.size();
  if (EVP_PKEY_get_raw_private_key(pkey, out.data(), &len) != 1 || len != kEd25519SeedSize)
    throw_openssl("EVP_PKEY_get_raw_private_key");
  return out;
}

}  // namespace

// Takes ownership of `pkey`, also when it throws.
PrivateKey::PrivateKey(Algorithm alg, void* pkey) : alg_(alg), pkey_(nullptr) {
  detail::EvpPkeyPtr owned(as_pkey(pkey));
  auto pub = detail::public_from_evp(owned.get());
  if (!pub || pub->algorithm() != alg) throw std::logic_error("PrivateKey: unsupported key type");
  pub_ = std::make_shared<const PublicKey>(std::move(*pub));
  pkey_ = owned.release();
}

PrivateKey PrivateKey::generate(Algorithm alg, Rng& rng) {
  size_t size = alg == Algorithm::ES256 ? kScalarSize : kEd25519SeedSize;
  for (int attempt = 0; attempt < kMaxScalarAttempts; ++attempt) {
    Bytes raw = rng.bytes(size);
    auto key = from_bytes(alg, raw);
    cleanse(raw);
    // Ed25519 accepts any seed; P-256 retries until 0 < d < n.
    if (key) return std::move(*key);
  }
  throw std::runtime_error("PrivateKey::generate: Rng produced no valid P-256 scalar");
}

std::optional<PrivateKey> PrivateKey::from_bytes(Algorithm alg, ByteView raw) {
  if (alg == Algorithm::EdDSA) {
    if (raw.size() != kEd25519SeedSize) return std::nullopt;
    EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
    if (!pkey) throw_openssl("EVP_PKEY_new_raw_private_key(Ed25519)");
    return PrivateKey(alg, pkey);
  }
  if (raw.size() != kScalarSize) return std::nullopt;
  auto group = detail::p256_group();
  auto d = p256_scalar(group.get(), raw);
  if (!d) return std::nullopt;
  // Import the complete pair: whether EVP_PKEY_fromdata derives a missing
  // public point differs between OpenSSL 3.x releases.
  return PrivateKey(alg, p256_keypair(d.get(), p256_public_point(group.get(), d.get())));
}

PrivateKey::PrivateKey(const PrivateKey& other) : alg_(other.alg_), pkey_(other.pkey_), pub_(other.pub_) {
  if (pkey_) EVP_PKEY_up_ref(as_pkey(pkey_));
}

PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
  // Take the new reference before dropping ours so self-assignment is safe.
  if (other.pkey_) EVP_PKEY_up_ref(as_pkey(other.pkey_));
  EVP_PKEY_free(as_pkey(pkey_));
  alg_ = other.alg_;
  pkey_ = other.pkey_;
  pub_ = other.pub_;
  return *this;
}

PrivateKey::PrivateKey(PrivateKey&& other) noexcept
    : alg_(other.alg_), pkey_(std::exchange(other.pkey_, nullptr)), pub_(std::move(other.pub_)) {}

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(as_pkey(pkey_));
    alg_ = other.alg_;
    pkey_ = std::exchange(other.pkey_, nullptr);
    pub_ = std::move(other.pub_);
  }
  return *this;
}

PrivateKey::~PrivateKey() { EVP_PKEY_free(as_pkey(pkey_)); }

Bytes PrivateKey::private_bytes() const {
  return alg_ == Algorithm::ES256 ? p256_private_bytes(as_pkey(pkey_)) : ed25519_private_bytes(as_pkey(pkey_));
}

Bytes PrivateKey::sign(ByteView message) const {
  // Ed25519 hashes internally (PureEdDSA), so it takes no digest.
  const EVP_MD* md = alg_ == Algorithm::ES256 ? EVP_sha256() : nullptr;
  detail::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, as_pkey(pkey_)) != 1)
    throw_openssl("EVP_DigestSignInit");
  const unsigned char* msg = detail::data_or_empty(message);
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) throw_openssl("EVP_DigestSign (size)");
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, msg, message.size()) != 1) throw_openssl("EVP_DigestSign");
  sig.resize(len);  // DER ECDSA signatures vary in length
  return sig;
}

std::optional<Bytes> PrivateKey::ecdh_x(const PublicKey& peer) const {
  if (alg_ != Algorithm::ES256 || peer.algorithm() != Algorithm::ES256) return std::nullopt;
  auto peer_pkey = detail::to_evp(peer);
  detail::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, as_pkey(pkey_), nullptr));
  // set_peer_ex(..., validate=1) re-checks the peer point against our group.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer_pkey.get(), 1) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  Bytes shared(kScalarSize);
  size_t len = shared.size();
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != kScalarSize)
    throw_openssl("EVP_PKEY_derive");
  return shared;
}

}  // namespace vauth::crypto
