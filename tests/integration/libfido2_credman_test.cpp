// libfido2 (Debian libfido2 1.12) manages the discoverable credentials of an
// in-process vauth key through authenticatorCredentialManagement, the way
// `fido2-token -I/-L/-D/-S` do: metadata, RPs, credentials, deletion and
// updateUserInformation, each authorised with a PIN-derived pinUvAuthToken.
#include <doctest/doctest.h>
#include <fido.h>
#include <fido/credman.h>
#include <fido/eddsa.h>
#include <fido/es256.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/libfido2_fixture.h"
#include "vauth/crypto/primitives.h"

using namespace vauth;

namespace {

const unsigned char kClientDataHash[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
constexpr const char* kPin = "1234";
constexpr size_t kMaxResident = 50;

ctap::Profile credman_profile() {
  ctap::Profile p;
  p.max_resident_credentials = kMaxResident;
  p.no_credentials_immediately = true;
  return p;
}

// A key with room for kMaxResident discoverable credentials, opened by libfido2.
class Fixture : public test::Libfido2Key {
 public:
  explicit Fixture(ctap::Profile profile = credman_profile(), uint64_t seed = 42)
      : test::Libfido2Key(std::move(profile), seed) {}
};

using test::Assert;
using test::Blob;
using test::Cred;

struct Metadata {
  fido_credman_metadata_t* m = fido_credman_metadata_new();
  ~Metadata() { fido_credman_metadata_free(&m); }
};
struct Rps {
  fido_credman_rp_t* r = fido_credman_rp_new();
  ~Rps() { fido_credman_rp_free(&r); }
};
struct Rks {
  fido_credman_rk_t* r = fido_credman_rk_new();
  ~Rks() { fido_credman_rk_free(&r); }
};

struct Account {
  const char* rp_id;
  const char* rp_name;
  std::string user_id, name, display_name;
  int alg;
};

const Account kAlice{"example.org", "Example", "uid-alice", "alice", "Alice A.", COSE_ES256};
const Account kBob{"example.org", "Example", "uid-bob", "bob", "Bob B.", COSE_EDDSA};
const Account kCarol{"other.example", "Other", "uid-carol", "carol", "Carol C.", COSE_ES256};

const unsigned char* bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int make_resident(fido_dev_t* dev, Cred& cred, const Account& a, const char* pin = nullptr) {
  REQUIRE(fido_cred_set_type(cred.c, a.alg) == FIDO_OK);
  REQUIRE(fido_cred_set_clientdata_hash(cred.c, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_cred_set_rp(cred.c, a.rp_id, a.rp_name) == FIDO_OK);
  REQUIRE(fido_cred_set_user(cred.c, bytes(a.user_id), a.user_id.size(), a.name.c_str(), a.display_name.c_str(),
                             nullptr) == FIDO_OK);
  REQUIRE(fido_cred_set_rk(cred.c, FIDO_OPT_TRUE) == FIDO_OK);
  return fido_dev_make_cred(dev, cred.c, pin);
}

// Verifies assertion `idx` against a COSE_ES256 or COSE_EDDSA public key in libfido2's raw form.
int verify_with(const Assert& a, size_t idx, int alg, const Blob& pubkey) {
  if (alg == COSE_ES256) {
    es256_pk_t* pk = es256_pk_new();
    REQUIRE(es256_pk_from_ptr(pk, pubkey.data(), pubkey.size()) == FIDO_OK);
    const int r = fido_assert_verify(a.a, idx, COSE_ES256, pk);
    es256_pk_free(&pk);
    return r;
  }
  eddsa_pk_t* pk = eddsa_pk_new();
  REQUIRE(eddsa_pk_from_ptr(pk, pubkey.data(), pubkey.size()) == FIDO_OK);
  const int r = fido_assert_verify(a.a, idx, COSE_EDDSA, pk);
  eddsa_pk_free(&pk);
  return r;
}

std::string str(const char* s) {
  return s ? s : "(null)";
}
std::string user_id_of(const fido_cred_t* c) {
  return {reinterpret_cast<const char*>(fido_cred_user_id_ptr(c)), fido_cred_user_id_len(c)};
}
Blob id_of(const fido_cred_t* c) {
  return {fido_cred_id_ptr(c), fido_cred_id_ptr(c) + fido_cred_id_len(c)};
}
Blob pubkey_of(const fido_cred_t* c) {
  return {fido_cred_pubkey_ptr(c), fido_cred_pubkey_ptr(c) + fido_cred_pubkey_len(c)};
}

// A key holding alice and bob on example.org and carol on other.example, then a PIN.
struct Populated {
  Fixture f;
  Cred alice, bob, carol;
  Populated() {
    REQUIRE(make_resident(f.dev(), alice, kAlice) == FIDO_OK);
    REQUIRE(make_resident(f.dev(), bob, kBob) == FIDO_OK);
    REQUIRE(make_resident(f.dev(), carol, kCarol) == FIDO_OK);
    REQUIRE(fido_dev_set_pin(f.dev(), kPin, nullptr) == FIDO_OK);
  }
};

// The credentials of `rp_id` as libfido2 enumerates them, or the error.
int get_rks(fido_dev_t* dev, const char* rp_id, Rks& rks, const char* pin = kPin) {
  return fido_credman_get_dev_rk(dev, rp_id, rks.r, pin);
}

}  // namespace

TEST_CASE("libfido2 sees a CTAP 2.1 key with credential management") {
  Fixture f;
  CHECK(fido_dev_supports_credman(f.dev()));
  CHECK(fido_dev_supports_permissions(f.dev()));
}

TEST_CASE("libfido2 credman: metadata counts") {
  Populated p;
  Metadata md;
  REQUIRE(fido_credman_get_dev_metadata(p.f.dev(), md.m, kPin) == FIDO_OK);
  CHECK(fido_credman_rk_existing(md.m) == 3);
  CHECK(fido_credman_rk_remaining(md.m) == kMaxResident - 3);

  Metadata wrong;
  CHECK(fido_credman_get_dev_metadata(p.f.dev(), wrong.m, "9999") == FIDO_ERR_PIN_INVALID);
}

TEST_CASE("libfido2 credman: RPs with names and ID hashes") {
  Populated p;
  Rps rps;
  REQUIRE(fido_credman_get_dev_rp(p.f.dev(), rps.r, kPin) == FIDO_OK);
  REQUIRE(fido_credman_rp_count(rps.r) == 2);
  std::map<std::string, std::string> seen;
  for (size_t i = 0; i < fido_credman_rp_count(rps.r); ++i) {
    const std::string id = str(fido_credman_rp_id(rps.r, i));
    seen[id] = str(fido_credman_rp_name(rps.r, i));
    const Bytes hash = crypto::sha256(to_bytes(id));
    REQUIRE(fido_credman_rp_id_hash_len(rps.r, i) == 32);
    CHECK(std::memcmp(fido_credman_rp_id_hash_ptr(rps.r, i), hash.data(), 32) == 0);
  }
  CHECK(seen == std::map<std::string, std::string>{{"example.org", "Example"}, {"other.example", "Other"}});
}

TEST_CASE("libfido2 credman: an RP's credentials with user, ID, public key and credProtect") {
  Populated p;
  Rks rks;
  REQUIRE(get_rks(p.f.dev(), "example.org", rks) == FIDO_OK);
  REQUIRE(fido_credman_rk_count(rks.r) == 2);
  std::map<std::string, const fido_cred_t*> by_user;
  for (size_t i = 0; i < fido_credman_rk_count(rks.r); ++i) {
    const fido_cred_t* c = fido_credman_rk(rks.r, i);
    REQUIRE(c != nullptr);
    by_user[user_id_of(c)] = c;
  }
  REQUIRE(by_user.size() == 2);
  for (const auto& entry : {std::pair{&kAlice, &p.alice}, std::pair{&kBob, &p.bob}}) {
    // (not a structured binding: CAPTURE's lambda cannot capture one under clang 14)
    const auto* account = entry.first;
    const auto* made = entry.second;
    CAPTURE(account->name);
    REQUIRE(by_user.count(account->user_id) == 1);
    const fido_cred_t* c = by_user[account->user_id];
    CHECK(str(fido_cred_user_name(c)) == account->name);
    CHECK(str(fido_cred_display_name(c)) == account->display_name);
    CHECK(id_of(c) == made->id());
    CHECK(fido_cred_type(c) == account->alg);
    CHECK(pubkey_of(c) == made->pubkey());
    CHECK(fido_cred_prot(c) == FIDO_CRED_PROT_UV_OPTIONAL);

    // The enumerated key verifies a fresh assertion by that credential.
    Assert a;
    REQUIRE(fido_assert_set_clientdata_hash(a.a, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
    REQUIRE(fido_assert_set_rp(a.a, "example.org") == FIDO_OK);
    REQUIRE(fido_assert_allow_cred(a.a, fido_cred_id_ptr(c), fido_cred_id_len(c)) == FIDO_OK);
    REQUIRE(fido_dev_get_assert(p.f.dev(), a.a, nullptr) == FIDO_OK);
    CHECK(verify_with(a, 0, fido_cred_type(c), pubkey_of(c)) == FIDO_OK);
  }

  Rks other;
  REQUIRE(get_rks(p.f.dev(), "other.example", other) == FIDO_OK);
  REQUIRE(fido_credman_rk_count(other.r) == 1);
  CHECK(user_id_of(fido_credman_rk(other.r, 0)) == kCarol.user_id);

  // An RP without credentials: NO_CREDENTIALS from the key, which libfido2 passes on.
  Rks none;
  const int r = get_rks(p.f.dev(), "nobody.example", none);
  CHECK((r == FIDO_ERR_NO_CREDENTIALS || (r == FIDO_OK && fido_credman_rk_count(none.r) == 0)));
}

TEST_CASE("libfido2 credman: delete a credential; it no longer asserts") {
  Populated p;
  const Blob bob = p.bob.id();
  REQUIRE(fido_credman_del_dev_rk(p.f.dev(), bob.data(), bob.size(), kPin) == FIDO_OK);
  CHECK(p.f.key().store.state().credentials.size() == 2);

  Rks rks;
  REQUIRE(get_rks(p.f.dev(), "example.org", rks) == FIDO_OK);
  REQUIRE(fido_credman_rk_count(rks.r) == 1);
  CHECK(user_id_of(fido_credman_rk(rks.r, 0)) == kAlice.user_id);

  Assert a;
  REQUIRE(fido_assert_set_clientdata_hash(a.a, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_assert_set_rp(a.a, "example.org") == FIDO_OK);
  REQUIRE(fido_assert_allow_cred(a.a, bob.data(), bob.size()) == FIDO_OK);
  CHECK(fido_dev_get_assert(p.f.dev(), a.a, nullptr) == FIDO_ERR_NO_CREDENTIALS);

  CHECK(fido_credman_del_dev_rk(p.f.dev(), bob.data(), bob.size(), kPin) == FIDO_ERR_NO_CREDENTIALS);

  // Deleting the last credential of an RP removes the RP.
  const Blob carol = p.carol.id();
  REQUIRE(fido_credman_del_dev_rk(p.f.dev(), carol.data(), carol.size(), kPin) == FIDO_OK);
  Rps rps;
  REQUIRE(fido_credman_get_dev_rp(p.f.dev(), rps.r, kPin) == FIDO_OK);
  REQUIRE(fido_credman_rp_count(rps.r) == 1);
  CHECK(str(fido_credman_rp_id(rps.r, 0)) == "example.org");
}

TEST_CASE("libfido2 credman: updateUserInformation renames an account without re-registering") {
  Populated p;
  const Blob alice = p.alice.id();
  {
    Cred update;
    REQUIRE(fido_cred_set_id(update.c, alice.data(), alice.size()) == FIDO_OK);
    REQUIRE(fido_cred_set_user(update.c, bytes(kAlice.user_id), kAlice.user_id.size(), "alice.smith", "Alice Smith",
                               nullptr) == FIDO_OK);
    REQUIRE(fido_credman_set_dev_rk(p.f.dev(), update.c, kPin) == FIDO_OK);
  }
  Rks rks;
  REQUIRE(get_rks(p.f.dev(), "example.org", rks) == FIDO_OK);
  REQUIRE(fido_credman_rk_count(rks.r) == 2);
  bool found = false;
  for (size_t i = 0; i < fido_credman_rk_count(rks.r); ++i) {
    const fido_cred_t* c = fido_credman_rk(rks.r, i);
    if (user_id_of(c) != kAlice.user_id) continue;
    found = true;
    CHECK(str(fido_cred_user_name(c)) == "alice.smith");
    CHECK(str(fido_cred_display_name(c)) == "Alice Smith");
    CHECK(id_of(c) == alice);
    CHECK(pubkey_of(c) == p.alice.pubkey());
  }
  CHECK(found);

  // A discoverable sign-in with the PIN (user verified, two accounts) shows the new name,
  // signed by the key registered at the start.
  Assert a;
  REQUIRE(fido_assert_set_clientdata_hash(a.a, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_assert_set_rp(a.a, "example.org") == FIDO_OK);
  REQUIRE(fido_dev_get_assert(p.f.dev(), a.a, kPin) == FIDO_OK);
  REQUIRE(fido_assert_count(a.a) == 2);
  bool signed_in = false;
  for (size_t i = 0; i < fido_assert_count(a.a); ++i) {
    const std::string uid(reinterpret_cast<const char*>(fido_assert_user_id_ptr(a.a, i)),
                          fido_assert_user_id_len(a.a, i));
    if (uid != kAlice.user_id) continue;
    signed_in = true;
    CHECK(str(fido_assert_user_name(a.a, i)) == "alice.smith");
    CHECK(str(fido_assert_user_display_name(a.a, i)) == "Alice Smith");
    CHECK(verify_with(a, i, COSE_ES256, p.alice.pubkey()) == FIDO_OK);
  }
  CHECK(signed_in);

  // The user handle is the account: another one is refused and nothing changes.
  Cred wrong;
  REQUIRE(fido_cred_set_id(wrong.c, alice.data(), alice.size()) == FIDO_OK);
  REQUIRE(fido_cred_set_user(wrong.c, bytes(kBob.user_id), kBob.user_id.size(), "mallory", nullptr, nullptr) ==
          FIDO_OK);
  CHECK(fido_credman_set_dev_rk(p.f.dev(), wrong.c, kPin) == FIDO_ERR_INVALID_PARAMETER);
  CHECK(p.f.key().store.state().find_credential(Bytes(alice.begin(), alice.end()))->user_name == "alice.smith");
}

TEST_CASE("libfido2 credman: a key without discoverable credentials") {
  Fixture f;
  REQUIRE(fido_dev_set_pin(f.dev(), kPin, nullptr) == FIDO_OK);
  Metadata md;
  REQUIRE(fido_credman_get_dev_metadata(f.dev(), md.m, kPin) == FIDO_OK);
  CHECK(fido_credman_rk_existing(md.m) == 0);
  CHECK(fido_credman_rk_remaining(md.m) == kMaxResident);
  Rps rps;
  const int r = fido_credman_get_dev_rp(f.dev(), rps.r, kPin);
  CHECK((r == FIDO_ERR_NO_CREDENTIALS || (r == FIDO_OK && fido_credman_rp_count(rps.r) == 0)));
}
