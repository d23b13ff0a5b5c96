// PrivateKey: generation, import/export, signing and P-256 ECDH.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "vauth/crypto/fetched.h"
#include "vauth/crypto/keys.h"
#include "vauth/crypto/openssl_util.h"
#include "vauth/crypto/primitives.h"

namespace vauth::crypto {

namespace {

constexpr size_t kEd25519SeedSize = 32;
constexpr size_t kRsaSeedSize = 32;
constexpr size_t kRsaPrimeSize = 128;  // bytes: two 1024-bit primes make RSA-2048
constexpr unsigned long kRsaExponent = 65537;
constexpr size_t kRsaCacheSize = 64;
constexpr size_t kImportCacheSize = 32;
// A scalar drawn uniformly from 32 bytes is out of range with probability
// ~2^-32; this many failures in a row means the Rng is broken, not unlucky.
constexpr int kMaxScalarAttempts = 64;

using detail::throw_openssl;

EVP_PKEY* as_pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

const detail::Curve* curve_for(Algorithm alg) {
  if (alg == Algorithm::ES256) return &detail::kP256;
  if (alg == Algorithm::ES384) return &detail::kP384;
  return nullptr;
}

// Parses a big-endian scalar, returning null unless 0 < d < n.
detail::SecretBnPtr ec_scalar(const EC_GROUP* group, ByteView raw) {
  detail::SecretBnPtr d(BN_secure_new());
  if (!d || !BN_bin2bn(raw.data(), static_cast<int>(raw.size()), d.get())) throw_openssl("BN_bin2bn");
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group)) >= 0) return nullptr;
  return d;
}

// Q = d·G, uncompressed (0x04 || x || y).
Bytes ec_public_point(const detail::Curve& curve, const EC_GROUP* group, const BIGNUM* d) {
  detail::BnCtxPtr bn_ctx(BN_CTX_secure_new());
  detail::EcPointPtr q(EC_POINT_new(group));
  if (!bn_ctx || !q || EC_POINT_mul(group, q.get(), d, nullptr, nullptr, bn_ctx.get()) != 1)
    throw_openssl("EC_POINT_mul");
  Bytes out(1 + 2 * curve.coordinate_size);
  if (EC_POINT_point2oct(group, q.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(),
                         bn_ctx.get()) != out.size())
    throw_openssl("EC_POINT_point2oct");
  return out;
}

EVP_PKEY* ec_keypair(const detail::Curve& curve, const BIGNUM* d, const Bytes& public_point) {
  using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, detail::Deleter<OSSL_PARAM_BLD_free>>;
  // `d` is a secure BIGNUM, so the builder keeps its copy of the scalar in
  // secure memory, which OSSL_PARAM_free clears before releasing.
  using ParamPtr = std::unique_ptr<OSSL_PARAM, detail::Deleter<OSSL_PARAM_free>>;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.group_name, 0) != 1 ||
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

Bytes ed25519_private_bytes(const EVP_PKEY* pkey) {
  Bytes out(kEd25519SeedSize);
  size_t len = out.size();
  if (EVP_PKEY_get_raw_private_key(pkey, out.data(), &len) != 1 || len != kEd25519SeedSize)
    throw_openssl("EVP_PKEY_get_raw_private_key");
  return out;
}

detail::SecretBnPtr secure_bn() {
  detail::SecretBnPtr bn(BN_secure_new());
  if (!bn) throw_openssl("BN_secure_new");
  return bn;
}

// The first prime p >= start (start = HKDF(seed, label) with the top two and
// the lowest bit set) with gcd(p - 1, e) = 1. Deterministic: primality is a
// property of the number, and OpenSSL's test errs with negligible probability.
detail::SecretBnPtr derive_prime(ByteView seed, const char* label, BN_CTX* ctx) {
  Bytes start = hkdf_sha256(seed, {}, to_bytes(label), kRsaPrimeSize);
  start[0] |= 0xc0;  // so that p·q has exactly 2048 bits
  start.back() |= 0x01;
  detail::SecretBnPtr p = secure_bn();
  const bool parsed = BN_bin2bn(start.data(), static_cast<int>(start.size()), p.get()) != nullptr;
  cleanse(start);
  if (!parsed) throw_openssl("BN_bin2bn");
  for (;;) {
    const int prime = BN_check_prime(p.get(), ctx, nullptr);
    if (prime < 0) throw_openssl("BN_check_prime");
    if (prime == 1 && BN_mod_word(p.get(), kRsaExponent) != 1) return p;
    if (BN_add_word(p.get(), 2) != 1) throw_openssl("BN_add_word");
  }
}

// RSA-2048 with e = 65537 from a 32-byte seed (see keys.h).
EVP_PKEY* rsa_from_seed(ByteView seed) {
  detail::BnCtxPtr ctx(BN_CTX_secure_new());
  if (!ctx) throw_openssl("BN_CTX_secure_new");
  auto p = derive_prime(seed, "vauth RS256 p", ctx.get());
  auto q = derive_prime(seed, "vauth RS256 q", ctx.get());
  if (BN_cmp(p.get(), q.get()) == 0) throw std::runtime_error("RS256: equal primes");  // 2^-1000
  detail::BnPtr e(BN_new());
  auto n = secure_bn(), d = secure_bn(), p1 = secure_bn(), q1 = secure_bn(), phi = secure_bn(), g = secure_bn(),
       lambda = secure_bn(), dp = secure_bn(), dq = secure_bn(), qinv = secure_bn(), rem = secure_bn();
  // d = e^-1 mod lcm(p-1, q-1); the CRT values dP, dQ, qInv as OpenSSL expects them.
  if (!e || BN_set_word(e.get(), kRsaExponent) != 1 || BN_mul(n.get(), p.get(), q.get(), ctx.get()) != 1 ||
      !BN_copy(p1.get(), p.get()) || BN_sub_word(p1.get(), 1) != 1 || !BN_copy(q1.get(), q.get()) ||
      BN_sub_word(q1.get(), 1) != 1 || BN_mul(phi.get(), p1.get(), q1.get(), ctx.get()) != 1 ||
      BN_gcd(g.get(), p1.get(), q1.get(), ctx.get()) != 1 ||
      BN_div(lambda.get(), rem.get(), phi.get(), g.get(), ctx.get()) != 1 ||
      !BN_mod_inverse(d.get(), e.get(), lambda.get(), ctx.get()) ||
      BN_mod(dp.get(), d.get(), p1.get(), ctx.get()) != 1 || BN_mod(dq.get(), d.get(), q1.get(), ctx.get()) != 1 ||
      !BN_mod_inverse(qinv.get(), q.get(), p.get(), ctx.get()))
    throw_openssl("RSA key arithmetic");
  using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, detail::Deleter<OSSL_PARAM_BLD_free>>;
  using ParamPtr = std::unique_ptr<OSSL_PARAM, detail::Deleter<OSSL_PARAM_free>>;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get()) != 1)
    throw_openssl("OSSL_PARAM_BLD (RSA key pair)");
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  detail::EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !pctx || EVP_PKEY_fromdata_init(pctx.get()) != 1 ||
      EVP_PKEY_fromdata(pctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1)
    throw_openssl("EVP_PKEY_fromdata (RSA key pair)");
  return pkey;
}

// Deriving RSA-2048 takes tens of milliseconds, and a non-discoverable
// credential's key is re-derived from its ID at every assertion: keep the
// most recent ones (by SHA-256 of the seed; the daemon may sign from several threads in tests).
class RsaCache {
 public:
  EVP_PKEY* get(ByteView seed) {
    const Bytes tag = sha256(seed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = keys_.find(tag);
      if (it != keys_.end()) {
        EVP_PKEY_up_ref(it->second);
        return it->second;
      }
    }
    EVP_PKEY* pkey = rsa_from_seed(seed);
    std::lock_guard<std::mutex> lock(mutex_);
    if (keys_.size() >= kRsaCacheSize) {
      EVP_PKEY_free(keys_.begin()->second);
      keys_.erase(keys_.begin());
    }
    if (keys_.emplace(tag, pkey).second) EVP_PKEY_up_ref(pkey);
    return pkey;
  }

 private:
  std::mutex mutex_;
  std::map<Bytes, EVP_PKEY*> keys_;  // each holds one reference; never freed at exit (process lifetime)
};

RsaCache& rsa_cache() {
  static RsaCache* cache = new RsaCache;  // intentionally leaked: outlives every PrivateKey
  return *cache;
}

// Hot path: every assertion imports its key again (from the store for a
// discoverable credential, from the unwrapped credential ID otherwise), and
// every attestation imports the batch key. Importing an EC key costs a scalar
// multiplication (d·G) and, at its first signature, a provider import and a
// prepared signing context; so the most recently imported keys are kept,
// bounded, as PrivateKey copies that share all of that with the caller.
// Keyed by SHA-256(alg || secret): only a caller holding the secret finds an
// entry, so devices sharing a daemon cannot reach each other's keys, and a hit
// returns the very key the caller would have imported. Eviction drops the
// cache's copy; the secret is wiped when the last copy goes (EcKey's scalar by
// cleanse, OpenSSL's copy by BN_clear_free).
class ImportCache {
 public:
  static Bytes tag(Algorithm alg, ByteView raw) {
    Bytes tagged;
    put_u16_be(tagged, static_cast<uint16_t>(static_cast<int32_t>(alg)));
    append(tagged, raw);
    Bytes out = sha256(tagged);
    cleanse(tagged);
    return out;
  }

  std::optional<PrivateKey> find(const Bytes& tag) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = keys_.find(tag);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }

  void insert(const Bytes& tag, const PrivateKey& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (keys_.size() >= kImportCacheSize && !keys_.contains(tag)) keys_.erase(keys_.begin());  // any one: bounded
    keys_.insert_or_assign(tag, key);
  }

 private:
  std::mutex mutex_;
  std::map<Bytes, PrivateKey> keys_;
};

ImportCache& import_cache() {
  static ImportCache* cache = new ImportCache;  // intentionally leaked, like rsa_cache()
  return *cache;
}

}  // namespace

// An ECDSA key, shared by every copy of a PrivateKey. Hot path: makeCredential
// generates a key only to publish its public key and wrap its scalar, so the
// OpenSSL key (a provider import that rebuilds the curve group, costlier than
// the scalar multiplication itself) is made only on the first signature, ECDH
// or X.509 use. Signing then duplicates a context prepared once, instead of
// EVP_DigestSignInit's per-call fetch of the digest and signature algorithms.
struct PrivateKey::EcKey {
  const detail::Curve* curve;
  Bytes scalar;  // big-endian d, 0 < d < n; wiped when the last copy goes
  Bytes point;   // d·G, uncompressed
  std::once_flag imported, prepared;
  detail::EvpPkeyPtr pkey;
  detail::EvpPkeyCtxPtr prototype;  // EVP_PKEY_sign_init done; holds a reference to pkey

  EcKey(const detail::Curve* c, ByteView d, Bytes q) : curve(c), scalar(d.begin(), d.end()), point(std::move(q)) {}
  EcKey(const EcKey&) = delete;
  EcKey& operator=(const EcKey&) = delete;
  ~EcKey() { cleanse(scalar); }

  EVP_PKEY* evp() {
    std::call_once(imported, [&] {
      auto d = ec_scalar(detail::shared_group(*curve), scalar);
      if (!d) throw std::logic_error("EcKey: scalar out of range");
      pkey.reset(ec_keypair(*curve, d.get(), point));
    });
    return pkey.get();
  }

  const EVP_PKEY_CTX* signing_context() {
    EVP_PKEY* key = evp();
    std::call_once(prepared, [&] {
      detail::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
      if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1) throw_openssl("EVP_PKEY_sign_init");
      prototype = std::move(ctx);
    });
    return prototype.get();
  }
};

// Takes ownership of `pkey`, also when it throws.
PrivateKey::PrivateKey(Algorithm alg, void* pkey) : alg_(alg), pkey_(nullptr) {
  detail::EvpPkeyPtr owned(as_pkey(pkey));
  auto pub = detail::public_from_evp(owned.get());
  if (!pub || pub->algorithm() != alg) throw std::logic_error("PrivateKey: unsupported key type");
  pub_ = std::make_shared<const PublicKey>(std::move(*pub));
  pkey_ = owned.release();
}

PrivateKey::PrivateKey(Algorithm alg, std::shared_ptr<EcKey> ec, PublicKey pub)
    : alg_(alg), pkey_(nullptr), pub_(std::make_shared<const PublicKey>(std::move(pub))), ec_(std::move(ec)) {}

void* PrivateKey::native() const {
  return ec_ ? ec_->evp() : pkey_;
}

PrivateKey PrivateKey::generate(Algorithm alg, Rng& rng) {
  const detail::Curve* curve = curve_for(alg);
  const size_t size = curve ? curve->coordinate_size : (alg == Algorithm::RS256 ? kRsaSeedSize : kEd25519SeedSize);
  for (int attempt = 0; attempt < kMaxScalarAttempts; ++attempt) {
    Bytes raw = rng.bytes(size);
    auto key = import(alg, raw);
    cleanse(raw);
    // Ed25519 and RSA accept any seed; ECDSA retries until 0 < d < n.
    if (key) return std::move(*key);
  }
  throw std::runtime_error("PrivateKey::generate: Rng produced no valid P-256 scalar");
}

std::optional<PrivateKey> PrivateKey::from_bytes(Algorithm alg, ByteView raw) {
  if (alg == Algorithm::RS256) return import(alg, raw);  // RsaCache already keeps the derived keys
  const Bytes tag = ImportCache::tag(alg, raw);
  if (auto cached = import_cache().find(tag)) return cached;
  auto key = import(alg, raw);
  if (key) import_cache().insert(tag, *key);
  return key;
}

std::optional<PrivateKey> PrivateKey::import(Algorithm alg, ByteView raw) {
  if (alg == Algorithm::EdDSA) {
    if (raw.size() != kEd25519SeedSize) return std::nullopt;
    EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
    if (!pkey) throw_openssl("EVP_PKEY_new_raw_private_key(Ed25519)");
    return PrivateKey(alg, pkey);
  }
  if (alg == Algorithm::RS256) {
    if (raw.size() != kRsaSeedSize) return std::nullopt;
    PrivateKey key(alg, rsa_cache().get(raw));
    key.seed_ = std::make_shared<const Bytes>(raw.begin(), raw.end());
    return key;
  }
  const detail::Curve* curve = curve_for(alg);
  if (!curve || raw.size() != curve->coordinate_size) return std::nullopt;
  const EC_GROUP* group = detail::shared_group(*curve);
  auto d = ec_scalar(group, raw);
  if (!d) return std::nullopt;
  // The public point d·G is on the curve by construction, so the PublicKey is
  // built from it directly instead of exported from OpenSSL and checked again.
  // The OpenSSL key is imported later, as a complete pair (whether
  // EVP_PKEY_fromdata derives a missing public point differs between OpenSSL
  // 3.x releases).
  Bytes point = ec_public_point(*curve, group, d.get());
  const size_t n = curve->coordinate_size;
  const auto x = ByteView(point).subspan(1, n), y = ByteView(point).subspan(1 + n, n);
  PublicKey pub(alg, Bytes(x.begin(), x.end()), Bytes(y.begin(), y.end()));
  return PrivateKey(alg, std::make_shared<EcKey>(curve, raw, std::move(point)), std::move(pub));
}

PrivateKey::PrivateKey(const PrivateKey& other)
    : alg_(other.alg_), pkey_(other.pkey_), pub_(other.pub_), seed_(other.seed_), ec_(other.ec_) {
  if (pkey_) EVP_PKEY_up_ref(as_pkey(pkey_));
}

PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
  // Take the new reference before dropping ours so self-assignment is safe.
  if (other.pkey_) EVP_PKEY_up_ref(as_pkey(other.pkey_));
  EVP_PKEY_free(as_pkey(pkey_));
  alg_ = other.alg_;
  pkey_ = other.pkey_;
  pub_ = other.pub_;
  seed_ = other.seed_;
  ec_ = other.ec_;
  return *this;
}

PrivateKey::PrivateKey(PrivateKey&& other) noexcept
    : alg_(other.alg_),
      pkey_(std::exchange(other.pkey_, nullptr)),
      pub_(std::move(other.pub_)),
      seed_(std::move(other.seed_)),
      ec_(std::move(other.ec_)) {}

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(as_pkey(pkey_));
    alg_ = other.alg_;
    pkey_ = std::exchange(other.pkey_, nullptr);
    pub_ = std::move(other.pub_);
    seed_ = std::move(other.seed_);
    ec_ = std::move(other.ec_);
  }
  return *this;
}

PrivateKey::~PrivateKey() { EVP_PKEY_free(as_pkey(pkey_)); }

Bytes PrivateKey::private_bytes() const {
  if (alg_ == Algorithm::RS256) return *seed_;
  if (ec_) return ec_->scalar;
  return ed25519_private_bytes(as_pkey(pkey_));
}

Bytes PrivateKey::sign(ByteView message) const {
  if (ec_) {
    // ECDSA over the digest, with a copy of this key's prepared context.
    const EVP_MD* md = alg_ == Algorithm::ES384 ? detail::sha384_md() : detail::sha256_md();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(detail::data_or_empty(message), message.size(), digest, &digest_len, md, nullptr) != 1)
      throw_openssl("EVP_Digest");
    detail::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_dup(ec_->signing_context()));
    size_t len = 0;
    if (!ctx || EVP_PKEY_sign(ctx.get(), nullptr, &len, digest, digest_len) != 1) throw_openssl("EVP_PKEY_sign (size)");
    Bytes sig(len);
    if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest, digest_len) != 1) throw_openssl("EVP_PKEY_sign");
    sig.resize(len);  // DER ECDSA signatures vary in length
    return sig;
  }
  // Ed25519 hashes internally (PureEdDSA), so it takes no digest.
  const EVP_MD* md = alg_ == Algorithm::EdDSA ? nullptr : detail::sha256_md();
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
  detail::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, as_pkey(native()), nullptr));
  // set_peer_ex(..., validate=1) re-checks the peer point against our group.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer_pkey.get(), 1) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  Bytes shared(detail::kP256.coordinate_size);
  size_t len = shared.size();
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != shared.size())
    throw_openssl("EVP_PKEY_derive");
  return shared;
}

}  // namespace vauth::crypto
