// ES384 (P-384) and RS256 (RSA-2048) credentials: keys, signatures checked with
// OpenSSL directly (not with vauth::crypto's verify), COSE encodings (RFC 9053,
// RFC 8230), the deterministic RSA derivation, and the profile switch.
#include <doctest/doctest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "tests/unit/ctap_test_support.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

// Verifies with OpenSSL from the SubjectPublicKeyInfo, with the digest the COSE algorithm names.
bool openssl_verifies(const Bytes& spki, const EVP_MD* md, ByteView message, ByteView signature) {
  const unsigned char* p = spki.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  if (!pkey) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey) == 1;
  if (ok && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  ok = ok && EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

int bits_of(const Bytes& spki) {
  const unsigned char* p = spki.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  REQUIRE(pkey);
  const int bits = EVP_PKEY_get_bits(pkey);
  EVP_PKEY_free(pkey);
  return bits;
}

// A COSE public key parsed from the spec, independent of vauth/ctap/cose_key.cpp.
std::optional<crypto::PublicKey> cose_to_key(const cbor::Value& cose) {
  const cbor::Value* kty = cose.find(1);
  const cbor::Value* alg = cose.find(3);
  if (!kty || !alg) return std::nullopt;
  if (kty->as_int() == 2 && alg->as_int() == -35) {
    if (cose.find(-1)->as_int() != 2) return std::nullopt;  // crv P-384
    return crypto::PublicKey::p384(cose.find(-2)->as_bytes(), cose.find(-3)->as_bytes());
  }
  if (kty->as_int() == 3 && alg->as_int() == -257) {
    return crypto::PublicKey::rsa(cose.find(-1)->as_bytes(), cose.find(-2)->as_bytes());
  }
  return public_key_from_cose(cose);
}

struct Made {
  Bytes id;
  cbor::Value cose;
  crypto::PublicKey key;
};

Made make_with_algorithms(Harness& h, std::vector<int> algs, bool rk = false) {
  MakeCredentialRequest req;
  req.algorithms = std::move(algs);
  if (rk) req.rk();
  Response r = h.call(kMakeCredential, req.build());
  REQUIRE_MESSAGE(r.ok(), "makeCredential: ", r.status);
  auto ad = parse_auth_data(r.get(2)->as_bytes());
  REQUIRE(ad);
  REQUIRE(ad->cose_key);
  auto key = cose_to_key(*ad->cose_key);
  REQUIRE(key);
  return Made{ad->credential_id, *ad->cose_key, *key};
}

}  // namespace

TEST_CASE("crypto: ES384 keys sign with SHA-384 and round-trip through their scalar") {
  crypto::SeededRng rng(384);
  auto key = crypto::PrivateKey::generate(crypto::Algorithm::ES384, rng);
  CHECK(key.algorithm() == crypto::Algorithm::ES384);
  CHECK(key.private_bytes().size() == 48);
  CHECK(key.public_key().x().size() == 48);
  CHECK(key.public_key().y().size() == 48);
  const Bytes msg = to_bytes("message");
  const Bytes sig = key.sign(msg);
  const Bytes spki = key.public_key().spki_der();
  CHECK(bits_of(spki) == 384);
  CHECK(openssl_verifies(spki, EVP_sha384(), msg, sig));
  CHECK_FALSE(openssl_verifies(spki, EVP_sha256(), msg, sig));
  CHECK(key.public_key().verify(msg, sig));
  auto again = crypto::PrivateKey::from_bytes(crypto::Algorithm::ES384, key.private_bytes());
  REQUIRE(again);
  CHECK(again->public_key().x() == key.public_key().x());
  CHECK_FALSE(crypto::PrivateKey::from_bytes(crypto::Algorithm::ES384, Bytes(32, 1)));  // wrong length
  CHECK_FALSE(crypto::PrivateKey::from_bytes(crypto::Algorithm::ES384, Bytes(48, 0)));  // zero scalar
  Bytes off_curve = key.public_key().y();
  off_curve[47] ^= 1;
  CHECK_FALSE(crypto::PublicKey::p384(key.public_key().x(), off_curve));
  auto via_spki = crypto::PublicKey::from_spki_der(spki);
  REQUIRE(via_spki);
  CHECK(via_spki->algorithm() == crypto::Algorithm::ES384);
}

TEST_CASE("crypto: RS256 keys are RSA-2048, PKCS#1 v1.5 over SHA-256, derived from a 32-byte seed") {
  crypto::SeededRng rng(257);
  auto key = crypto::PrivateKey::generate(crypto::Algorithm::RS256, rng);
  CHECK(key.algorithm() == crypto::Algorithm::RS256);
  const Bytes seed = key.private_bytes();
  CHECK(seed.size() == 32);
  CHECK(key.public_key().n().size() == 256);
  CHECK(key.public_key().e() == Bytes{0x01, 0x00, 0x01});
  const Bytes spki = key.public_key().spki_der();
  CHECK(bits_of(spki) == 2048);
  const Bytes msg = to_bytes("message");
  const Bytes sig = key.sign(msg);
  CHECK(sig.size() == 256);
  CHECK(key.sign(msg) == sig);  // PKCS#1 v1.5 is deterministic
  CHECK(openssl_verifies(spki, EVP_sha256(), msg, sig));
  CHECK_FALSE(openssl_verifies(spki, EVP_sha256(), to_bytes("other"), sig));
  // The same seed always gives the same key; another seed another key.
  auto again = crypto::PrivateKey::from_bytes(crypto::Algorithm::RS256, seed);
  REQUIRE(again);
  CHECK(again->public_key().n() == key.public_key().n());
  Bytes other_seed = seed;
  other_seed[0] ^= 1;
  auto other = crypto::PrivateKey::from_bytes(crypto::Algorithm::RS256, other_seed);
  REQUIRE(other);
  CHECK(other->public_key().n() != key.public_key().n());
  CHECK(openssl_verifies(other->public_key().spki_der(), EVP_sha256(), msg, other->sign(msg)));
  CHECK_FALSE(crypto::PrivateKey::from_bytes(crypto::Algorithm::RS256, Bytes(31, 1)));
  // Only 2048-bit moduli are RS256 keys here.
  CHECK_FALSE(crypto::PublicKey::rsa(Bytes(128, 0xff), Bytes{1, 0, 1}));
  CHECK_FALSE(crypto::PublicKey::rsa(key.public_key().n(), Bytes{2}));
  auto via_spki = crypto::PublicKey::from_spki_der(spki);
  REQUIRE(via_spki);
  CHECK(via_spki->n() == key.public_key().n());
}

TEST_CASE("makeCredential/getAssertion with ES384 and RS256, discoverable or not") {
  Harness h;
  struct Case {
    int alg;
    const EVP_MD* md;
    int kty;
  };
  for (const Case& c : {Case{-35, EVP_sha384(), 2}, Case{-257, EVP_sha256(), 3}}) {
    for (bool rk : {false, true}) {
      CAPTURE(c.alg);
      CAPTURE(rk);
      Made m = make_with_algorithms(h, {c.alg}, rk);
      CHECK(m.cose.find(1)->as_int() == c.kty);
      CHECK(m.cose.find(3)->as_int() == c.alg);
      CHECK(m.id.size() <= h.auth->profile().max_credential_id_length);
      if (c.alg == -35) {
        CHECK(m.cose.find(-1)->as_int() == 2);  // crv P-384
        CHECK(m.cose.find(-2)->as_bytes().size() == 48);
      } else {
        CHECK(m.cose.find(-1)->as_bytes().size() == 256);  // n
        CHECK(m.cose.find(-2)->as_bytes() == Bytes{1, 0, 1});  // e
      }
      GetAssertionRequest req;
      if (!rk) req.allow(m.id);
      Assertion a = unpack_assertion(h.call(kGetAssertion, req.build()));
      CHECK(a.credential_id == m.id);
      CHECK(openssl_verifies(m.key.spki_der(), c.md, concat(a.raw_auth_data, req.client_data_hash), a.signature));
    }
  }
}

TEST_CASE("algorithm choice: the RP's order, the profile's list, UNSUPPORTED_ALGORITHM otherwise") {
  Harness h;
  CHECK(make_with_algorithms(h, {-257, -7}).key.algorithm() == crypto::Algorithm::RS256);
  CHECK(make_with_algorithms(h, {-35, -7}).key.algorithm() == crypto::Algorithm::ES384);
  CHECK(make_with_algorithms(h, {-36, -7}).key.algorithm() == crypto::Algorithm::ES256);  // ES512 is not ours

  ctap::Profile p;
  p.algorithms = {crypto::Algorithm::ES256};
  Harness narrow(p);
  MakeCredentialRequest req;
  req.algorithms = {-35, -257};
  CHECK(narrow.call(kMakeCredential, req.build()).status == Status::UnsupportedAlgorithm);
  req.algorithms = {-35, -257, -7};
  CHECK(narrow.call(kMakeCredential, req.build()).ok());
  Response info = narrow.call(kGetInfo);
  CHECK(*info.get(0x0a) == cbor::Value(Array{Map{{"alg", -7}, {"type", "public-key"}}}));

  ctap::Profile rsa_only;
  rsa_only.algorithms = {crypto::Algorithm::RS256};
  Harness r(rsa_only);
  req.algorithms = {-7, -8, -35};
  CHECK(r.call(kMakeCredential, req.build()).status == Status::UnsupportedAlgorithm);
  req.algorithms = {-257};
  CHECK(r.call(kMakeCredential, req.build()).ok());
}

TEST_CASE("self attestation with ES384 and RS256 names the credential's algorithm and verifies") {
  ctap::Profile p;
  p.attestation = ctap::AttestationMode::Self;
  Harness h(p);
  for (int alg : {-35, -257}) {
    CAPTURE(alg);
    MakeCredentialRequest req;
    req.algorithms = {alg};
    Response r = h.call(kMakeCredential, req.build());
    REQUIRE(r.ok());
    const cbor::Value* st = r.get(3);
    REQUIRE(st);
    CHECK(st->find("alg")->as_int() == alg);
    auto ad = parse_auth_data(r.get(2)->as_bytes());
    REQUIRE(ad);
    auto key = cose_to_key(*ad->cose_key);
    REQUIRE(key);
    CHECK(openssl_verifies(key->spki_der(), alg == -35 ? EVP_sha384() : EVP_sha256(),
                           concat(r.get(2)->as_bytes(), req.client_data_hash), st->find("sig")->as_bytes()));
  }
}
