// libfido2 (Debian libfido2 1.12) against an in-process vauth key: the
// hmac-secret, credBlob and largeBlobKey extensions, the large-blob array
// (fido_dev_largeblob_*), and ES384/RS256 credentials verified by libfido2.
#include <doctest/doctest.h>
#include <fido.h>
#include <fido/es256.h>
#include <fido/es384.h>
#include <fido/rs256.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tests/integration/libfido2_fixture.h"
#include "vauth/crypto/rng.h"

using namespace vauth;
using test::Assert;
using test::Blob;
using test::Cred;

namespace {

const unsigned char kClientDataHash[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
constexpr const char* kRp = "ext.example";
constexpr const char* kPin = "1234";

void prepare(Cred& cred, int alg = COSE_ES256, bool rk = false, const char* user = "alice") {
  REQUIRE(fido_cred_set_type(cred.c, alg) == FIDO_OK);
  REQUIRE(fido_cred_set_clientdata_hash(cred.c, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_cred_set_rp(cred.c, kRp, "Ext") == FIDO_OK);
  REQUIRE(fido_cred_set_user(cred.c, reinterpret_cast<const unsigned char*>(user), std::strlen(user), user, user,
                             nullptr) == FIDO_OK);
  if (rk) REQUIRE(fido_cred_set_rk(cred.c, FIDO_OPT_TRUE) == FIDO_OK);
}

void prepare(Assert& a, const Blob* allow = nullptr) {
  REQUIRE(fido_assert_set_clientdata_hash(a.a, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_assert_set_rp(a.a, kRp) == FIDO_OK);
  if (allow) REQUIRE(fido_assert_allow_cred(a.a, allow->data(), allow->size()) == FIDO_OK);
}

Blob hmac_secret(fido_dev_t* dev, const Blob& id, const Blob& salt, const char* pin = nullptr) {
  Assert a;
  prepare(a, &id);
  REQUIRE(fido_assert_set_extensions(a.a, FIDO_EXT_HMAC_SECRET) == FIDO_OK);
  REQUIRE(fido_assert_set_hmac_salt(a.a, salt.data(), salt.size()) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(dev, a.a, pin) == FIDO_OK);
  REQUIRE(fido_assert_count(a.a) == 1);
  const unsigned char* p = fido_assert_hmac_secret_ptr(a.a, 0);
  REQUIRE(p);
  return Blob(p, p + fido_assert_hmac_secret_len(a.a, 0));
}

}  // namespace

TEST_CASE("libfido2: hmac-secret with one and two salts, with and without user verification") {
  test::Libfido2Key f;
  for (bool rk : {false, true}) {
    CAPTURE(rk);
    Cred cred;
    prepare(cred, COSE_ES256, rk);
    REQUIRE(fido_cred_set_extensions(cred.c, FIDO_EXT_HMAC_SECRET) == FIDO_OK);
    REQUIRE(fido_dev_make_cred(f.dev(), cred.c, nullptr) == FIDO_OK);
    CHECK((fido_cred_flags(cred.c) & 0x80) != 0);  // ED: the authenticator answered the extension
    const Blob id = cred.id();

    const Blob salt(32, 0x5a), two_salts = [] {
      Blob b(64, 0x5a);
      std::fill(b.begin() + 32, b.end(), 0xa5);
      return b;
    }();
    const Blob one = hmac_secret(f.dev(), id, salt);
    CHECK(one.size() == 32);
    CHECK(hmac_secret(f.dev(), id, salt) == one);
    const Blob two = hmac_secret(f.dev(), id, two_salts);
    REQUIRE(two.size() == 64);
    CHECK(Blob(two.begin(), two.begin() + 32) == one);
  }
}

TEST_CASE("libfido2: hmac-secret with a PIN (user verified) uses the other CredRandom") {
  test::Libfido2Key f;
  REQUIRE(fido_dev_set_pin(f.dev(), kPin, nullptr) == FIDO_OK);
  Cred cred;
  prepare(cred);
  REQUIRE(fido_cred_set_extensions(cred.c, FIDO_EXT_HMAC_SECRET) == FIDO_OK);
  REQUIRE(fido_dev_make_cred(f.dev(), cred.c, kPin) == FIDO_OK);
  const Blob salt(32, 0x11);
  const Blob with_uv = hmac_secret(f.dev(), cred.id(), salt, kPin);
  const Blob without_uv = hmac_secret(f.dev(), cred.id(), salt);
  CHECK(with_uv.size() == 32);
  CHECK(without_uv.size() == 32);
  CHECK(with_uv != without_uv);
  CHECK(hmac_secret(f.dev(), cred.id(), salt, kPin) == with_uv);
}

TEST_CASE("libfido2: credBlob stored with a resident credential and read back") {
  test::Libfido2Key f;
  Cred cred;
  prepare(cred, COSE_ES256, true);
  const Blob blob{'s', 'e', 'c', 'r', 'e', 't'};
  REQUIRE(fido_cred_set_blob(cred.c, blob.data(), blob.size()) == FIDO_OK);
  REQUIRE(fido_dev_make_cred(f.dev(), cred.c, nullptr) == FIDO_OK);

  Assert a;
  prepare(a);
  REQUIRE(fido_assert_set_extensions(a.a, FIDO_EXT_CRED_BLOB) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_OK);
  REQUIRE(fido_assert_blob_len(a.a, 0) == blob.size());
  CHECK(Blob(fido_assert_blob_ptr(a.a, 0), fido_assert_blob_ptr(a.a, 0) + blob.size()) == blob);
}

TEST_CASE("libfido2: largeBlobKey and the large-blob array (set, get, remove) with a PIN") {
  test::Libfido2Key f;
  REQUIRE(fido_dev_set_pin(f.dev(), kPin, nullptr) == FIDO_OK);
  Blob keys[2];
  for (int i = 0; i < 2; ++i) {
    Cred cred;
    prepare(cred, COSE_ES256, true, i == 0 ? "alice" : "bob");
    REQUIRE(fido_cred_set_extensions(cred.c, FIDO_EXT_LARGEBLOB_KEY) == FIDO_OK);
    REQUIRE(fido_dev_make_cred(f.dev(), cred.c, kPin) == FIDO_OK);
    REQUIRE(fido_cred_largeblob_key_len(cred.c) == 32);
    keys[i] = Blob(fido_cred_largeblob_key_ptr(cred.c), fido_cred_largeblob_key_ptr(cred.c) + 32);
  }
  CHECK(keys[0] != keys[1]);

  // The key also comes back with an assertion.
  Assert a;
  prepare(a);
  REQUIRE(fido_assert_set_extensions(a.a, FIDO_EXT_LARGEBLOB_KEY) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(f.dev(), a.a, kPin) == FIDO_OK);
  REQUIRE(fido_assert_count(a.a) == 2);
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE(fido_assert_largeblob_key_len(a.a, i) == 32);
    const Blob k(fido_assert_largeblob_key_ptr(a.a, i), fido_assert_largeblob_key_ptr(a.a, i) + 32);
    CHECK((k == keys[0] || k == keys[1]));
  }

  unsigned char* out = nullptr;
  size_t out_len = 0;
  CHECK(fido_dev_largeblob_get(f.dev(), keys[0].data(), 32, &out, &out_len) == FIDO_ERR_NOTFOUND);

  // libfido2 compresses each blob: random bytes keep their size.
  crypto::SeededRng rng(99);
  const Bytes random = rng.bytes(2000);
  const Blob alice_blob(random.begin(), random.end());
  Blob bob_blob(500);
  for (size_t i = 0; i < bob_blob.size(); ++i) bob_blob[i] = static_cast<unsigned char>(i * 7);
  REQUIRE(fido_dev_largeblob_set(f.dev(), keys[0].data(), 32, alice_blob.data(), alice_blob.size(), kPin) == FIDO_OK);
  REQUIRE(fido_dev_largeblob_set(f.dev(), keys[1].data(), 32, bob_blob.data(), bob_blob.size(), kPin) == FIDO_OK);
  REQUIRE(fido_dev_largeblob_get(f.dev(), keys[0].data(), 32, &out, &out_len) == FIDO_OK);
  CHECK(Blob(out, out + out_len) == alice_blob);
  std::free(out);
  REQUIRE(fido_dev_largeblob_get(f.dev(), keys[1].data(), 32, &out, &out_len) == FIDO_OK);
  CHECK(Blob(out, out + out_len) == bob_blob);
  std::free(out);

  // A wrong PIN cannot write.
  CHECK(fido_dev_largeblob_remove(f.dev(), keys[0].data(), 32, "9999") == FIDO_ERR_PIN_INVALID);
  REQUIRE(fido_dev_largeblob_remove(f.dev(), keys[0].data(), 32, kPin) == FIDO_OK);
  CHECK(fido_dev_largeblob_get(f.dev(), keys[0].data(), 32, &out, &out_len) == FIDO_ERR_NOTFOUND);
  REQUIRE(fido_dev_largeblob_get(f.dev(), keys[1].data(), 32, &out, &out_len) == FIDO_OK);
  CHECK(Blob(out, out + out_len) == bob_blob);
  std::free(out);

  // The raw array is what the authenticator stores.
  unsigned char* array = nullptr;
  size_t array_len = 0;
  REQUIRE(fido_dev_largeblob_get_array(f.dev(), &array, &array_len) == FIDO_OK);
  CHECK(array_len > 0);
  std::free(array);
}

TEST_CASE("libfido2: an array larger than maxSerializedLargeBlobArray is refused") {
  ctap::Profile p;
  p.max_serialized_large_blob_array = 1024;
  test::Libfido2Key f(p);
  REQUIRE(fido_dev_set_pin(f.dev(), kPin, nullptr) == FIDO_OK);
  Cred cred;
  prepare(cred, COSE_ES256, true);
  REQUIRE(fido_cred_set_extensions(cred.c, FIDO_EXT_LARGEBLOB_KEY) == FIDO_OK);
  REQUIRE(fido_dev_make_cred(f.dev(), cred.c, kPin) == FIDO_OK);
  crypto::SeededRng rng(98);
  const Bytes random = rng.bytes(4000);  // incompressible, so the array exceeds 1024 bytes
  const Blob big(random.begin(), random.end());
  CHECK(fido_dev_largeblob_set(f.dev(), fido_cred_largeblob_key_ptr(cred.c), 32, big.data(), big.size(), kPin) ==
        FIDO_ERR_LARGEBLOB_STORAGE_FULL);
}

TEST_CASE("libfido2: ES384 and RS256 credentials, attested and verified by libfido2") {
  test::Libfido2Key f;
  for (int alg : {COSE_ES384, COSE_RS256}) {
    CAPTURE(alg);
    Cred cred;
    prepare(cred, alg);
    REQUIRE(fido_dev_make_cred(f.dev(), cred.c, nullptr) == FIDO_OK);
    CHECK(fido_cred_verify(cred.c) == FIDO_OK);  // packed attestation over the new credential
    const Blob id = cred.id(), pub = cred.pubkey();

    Assert a;
    prepare(a, &id);
    REQUIRE(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_OK);
    if (alg == COSE_ES384) {
      es384_pk_t* pk = es384_pk_new();
      REQUIRE(es384_pk_from_ptr(pk, pub.data(), pub.size()) == FIDO_OK);
      CHECK(fido_assert_verify(a.a, 0, COSE_ES384, pk) == FIDO_OK);
      es384_pk_free(&pk);
    } else {
      rs256_pk_t* pk = rs256_pk_new();
      REQUIRE(rs256_pk_from_ptr(pk, pub.data(), pub.size()) == FIDO_OK);
      CHECK(fido_assert_verify(a.a, 0, COSE_RS256, pk) == FIDO_OK);
      rs256_pk_free(&pk);
    }
  }
}
