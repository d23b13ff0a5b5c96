// libfido2 (Debian libfido2 1.12) as the client of an in-process vauth key: the
// same library fido2-token, ssh and many relying-party tools use. Every check is
// libfido2's own reading of our answers: its CBOR parsing, its attestation and
// assertion verification, its PIN protocol.
#include <doctest/doctest.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/libfido2_fixture.h"
#include "vauth/crypto/primitives.h"

using namespace vauth;

namespace {

const unsigned char kClientDataHash[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
constexpr const char* kRp = "example.org";

using Fixture = test::Libfido2Key;
using test::Assert;
using test::Cred;

int make_credential(fido_dev_t* dev, Cred& cred, int cose_alg, bool resident, const char* pin = nullptr,
                    const std::string& user = "alice", const char* rp = kRp) {
  REQUIRE(fido_cred_set_type(cred.c, cose_alg) == FIDO_OK);
  REQUIRE(fido_cred_set_clientdata_hash(cred.c, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_cred_set_rp(cred.c, rp, "Example") == FIDO_OK);
  const std::string uid = "uid-" + user;
  REQUIRE(fido_cred_set_user(cred.c, reinterpret_cast<const unsigned char*>(uid.data()), uid.size(), user.c_str(),
                             (user + " Display").c_str(), nullptr) == FIDO_OK);
  REQUIRE(fido_cred_set_rk(cred.c, resident ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) == FIDO_OK);
  return fido_dev_make_cred(dev, cred.c, pin);
}

void prepare_assert(Assert& a, const char* rp = kRp) {
  REQUIRE(fido_assert_set_clientdata_hash(a.a, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_assert_set_rp(a.a, rp) == FIDO_OK);
}

// Verifies assertion `idx` with libfido2 against the credential's public key.
int verify_assert(const Assert& a, size_t idx, const Cred& cred) {
  const int alg = fido_cred_type(cred.c);
  if (alg == COSE_ES256) {
    es256_pk_t* pk = es256_pk_new();
    REQUIRE(es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(cred.c), fido_cred_pubkey_len(cred.c)) == FIDO_OK);
    const int r = fido_assert_verify(a.a, idx, COSE_ES256, pk);
    es256_pk_free(&pk);
    return r;
  }
  eddsa_pk_t* pk = eddsa_pk_new();
  REQUIRE(eddsa_pk_from_ptr(pk, fido_cred_pubkey_ptr(cred.c), fido_cred_pubkey_len(cred.c)) == FIDO_OK);
  const int r = fido_assert_verify(a.a, idx, COSE_EDDSA, pk);
  eddsa_pk_free(&pk);
  return r;
}

int retries(fido_dev_t* dev) {
  int n = -1;
  REQUIRE(fido_dev_get_retry_count(dev, &n) == FIDO_OK);
  return n;
}

}  // namespace

TEST_CASE("libfido2 reads getInfo") {
  Fixture f;
  CHECK(fido_dev_is_fido2(f.dev()));
  fido_cbor_info_t* info = fido_cbor_info_new();
  REQUIRE(fido_dev_get_cbor_info(f.dev(), info) == FIDO_OK);
  std::vector<std::string> versions;
  for (size_t i = 0; i < fido_cbor_info_versions_len(info); ++i) versions.emplace_back(fido_cbor_info_versions_ptr(info)[i]);
  CHECK(versions == std::vector<std::string>{"U2F_V2", "FIDO_2_0", "FIDO_2_1"});
  const auto& aaguid = f.key().authenticator.profile().aaguid;
  REQUIRE(fido_cbor_info_aaguid_len(info) == 16);
  CHECK(std::memcmp(fido_cbor_info_aaguid_ptr(info), aaguid.data(), 16) == 0);
  CHECK(fido_cbor_info_maxmsgsiz(info) == 7609);
  std::vector<std::string> extensions;
  for (size_t i = 0; i < fido_cbor_info_extensions_len(info); ++i) {
    extensions.emplace_back(fido_cbor_info_extensions_ptr(info)[i]);
  }
  CHECK(extensions == std::vector<std::string>{"credProtect", "hmac-secret", "hmac-secret-mc", "credBlob",
                                               "largeBlobKey", "minPinLength", "thirdPartyPayment",
                                               "pinComplexityPolicy"});
  REQUIRE(fido_cbor_info_algorithm_count(info) == 4);
  CHECK(fido_cbor_info_algorithm_cose(info, 0) == COSE_ES256);
  CHECK(fido_cbor_info_algorithm_cose(info, 1) == COSE_EDDSA);
  CHECK(fido_cbor_info_algorithm_cose(info, 2) == COSE_ES384);
  CHECK(fido_cbor_info_algorithm_cose(info, 3) == COSE_RS256);
  CHECK(fido_cbor_info_maxcredbloblen(info) == 32);
  CHECK(fido_cbor_info_maxlargeblob(info) == 4096);
  bool rk = false, client_pin = true, per_cred_mgmt_ro = false;
  for (size_t i = 0; i < fido_cbor_info_options_len(info); ++i) {
    const std::string name = fido_cbor_info_options_name_ptr(info)[i];
    if (name == "rk") rk = fido_cbor_info_options_value_ptr(info)[i];
    if (name == "clientPin") client_pin = fido_cbor_info_options_value_ptr(info)[i];
    if (name == "perCredMgmtRO") per_cred_mgmt_ro = fido_cbor_info_options_value_ptr(info)[i];
  }
  CHECK(rk);
  CHECK_FALSE(client_pin);
  // CTAP 2.2 (pcmr); the 2.2/2.3 keys 0x16–0x1F, which libfido2 1.12 does not
  // know, must not keep it from parsing the rest (it got here).
  CHECK(per_cred_mgmt_ro);
  // PIN/UV auth protocols, most preferred first.
  REQUIRE(fido_cbor_info_protocols_len(info) == 2);
  CHECK(fido_cbor_info_protocols_ptr(info)[0] == 2);
  CHECK(fido_cbor_info_protocols_ptr(info)[1] == 1);
  fido_cbor_info_free(&info);
}

TEST_CASE("libfido2 registers and signs in with ES256 and EdDSA credentials") {
  for (int alg : {COSE_ES256, COSE_EDDSA}) {
    CAPTURE(alg);
    Fixture f;
    Cred cred;
    REQUIRE(make_credential(f.dev(), cred, alg, false) == FIDO_OK);
    // libfido2 checks the packed attestation signature with the x5c certificate.
    CHECK(std::string(fido_cred_fmt(cred.c)) == "packed");
    CHECK(fido_cred_verify(cred.c) == FIDO_OK);
    CHECK(fido_cred_x5c_len(cred.c) > 0);
    CHECK((fido_cred_flags(cred.c) & 0x41) == 0x41);  // UP and AT
    const uint32_t registered_count = fido_cred_sigcount(cred.c);

    uint32_t last = registered_count;
    for (int i = 0; i < 3; ++i) {
      Assert a;
      prepare_assert(a);
      REQUIRE(fido_assert_allow_cred(a.a, cred.id().data(), cred.id().size()) == FIDO_OK);
      REQUIRE(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_OK);
      REQUIRE(fido_assert_count(a.a) == 1);
      CHECK(verify_assert(a, 0, cred) == FIDO_OK);
      CHECK((fido_assert_flags(a.a, 0) & 0x01) == 0x01);
      CHECK(fido_assert_sigcount(a.a, 0) > last);  // the counter only goes up
      last = fido_assert_sigcount(a.a, 0);
    }
  }
}

TEST_CASE("an assertion signature does not verify under another credential's key") {
  Fixture f;
  Cred one, two;
  REQUIRE(make_credential(f.dev(), one, COSE_ES256, false) == FIDO_OK);
  REQUIRE(make_credential(f.dev(), two, COSE_ES256, false, nullptr, "bob") == FIDO_OK);
  Assert a;
  prepare_assert(a);
  REQUIRE(fido_assert_allow_cred(a.a, one.id().data(), one.id().size()) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_OK);
  CHECK(verify_assert(a, 0, one) == FIDO_OK);
  CHECK(verify_assert(a, 0, two) == FIDO_ERR_INVALID_SIG);
}

TEST_CASE("credentials are bound to their RP and to this key") {
  Fixture f;
  Cred cred;
  REQUIRE(make_credential(f.dev(), cred, COSE_ES256, false) == FIDO_OK);
  {
    Assert a;
    prepare_assert(a, "other.example");
    REQUIRE(fido_assert_allow_cred(a.a, cred.id().data(), cred.id().size()) == FIDO_OK);
    CHECK(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_ERR_NO_CREDENTIALS);
  }
  {
    auto forged = cred.id();
    forged[20] ^= 0x01;
    Assert a;
    prepare_assert(a);
    REQUIRE(fido_assert_allow_cred(a.a, forged.data(), forged.size()) == FIDO_OK);
    CHECK(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_ERR_NO_CREDENTIALS);
  }
  {
    Fixture other({}, 7);  // another key (another master secret)
    Assert a;
    prepare_assert(a);
    REQUIRE(fido_assert_allow_cred(a.a, cred.id().data(), cred.id().size()) == FIDO_OK);
    CHECK(fido_dev_get_assert(other.dev(), a.a, nullptr) == FIDO_ERR_NO_CREDENTIALS);
  }
}

TEST_CASE("discoverable credentials: one per account, newest first, all verifiable") {
  Fixture f;
  Cred alice, bob, alice_again;
  REQUIRE(make_credential(f.dev(), alice, COSE_ES256, true, nullptr, "alice") == FIDO_OK);
  REQUIRE(make_credential(f.dev(), bob, COSE_EDDSA, true, nullptr, "bob") == FIDO_OK);
  Assert a;
  prepare_assert(a);
  REQUIRE(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_OK);
  REQUIRE(fido_assert_count(a.a) == 2);
  // Newest first: bob, then alice. Without user verification only the user ID is returned.
  CHECK(std::string(reinterpret_cast<const char*>(fido_assert_user_id_ptr(a.a, 0)), fido_assert_user_id_len(a.a, 0)) ==
        "uid-bob");
  CHECK(std::string(reinterpret_cast<const char*>(fido_assert_user_id_ptr(a.a, 1)), fido_assert_user_id_len(a.a, 1)) ==
        "uid-alice");
  CHECK(fido_assert_user_name(a.a, 0) == nullptr);
  CHECK(verify_assert(a, 0, bob) == FIDO_OK);
  CHECK(verify_assert(a, 1, alice) == FIDO_OK);

  // Registering alice again replaces her old credential.
  REQUIRE(make_credential(f.dev(), alice_again, COSE_ES256, true, nullptr, "alice") == FIDO_OK);
  Assert b;
  prepare_assert(b);
  REQUIRE(fido_dev_get_assert(f.dev(), b.a, nullptr) == FIDO_OK);
  REQUIRE(fido_assert_count(b.a) == 2);
  CHECK(verify_assert(b, 0, alice_again) == FIDO_OK);
  CHECK(verify_assert(b, 1, bob) == FIDO_OK);
  CHECK(f.key().store.state().credentials.size() == 2);
}

TEST_CASE("excludeList: a key that already holds the credential refuses to make another") {
  Fixture f;
  Cred first;
  REQUIRE(make_credential(f.dev(), first, COSE_ES256, false) == FIDO_OK);
  Cred second;
  REQUIRE(fido_cred_exclude(second.c, first.id().data(), first.id().size()) == FIDO_OK);
  const size_t touches = f.key().presence.request_count();
  CHECK(make_credential(f.dev(), second, COSE_ES256, false) == FIDO_ERR_CREDENTIAL_EXCLUDED);
  CHECK(f.key().presence.request_count() == touches + 1);  // only after a touch
}

TEST_CASE("PIN: set, required, used, changed, wrong until blocked") {
  Fixture f;
  CHECK(retries(f.dev()) == 8);
  REQUIRE(fido_dev_set_pin(f.dev(), "1234", nullptr) == FIDO_OK);
  CHECK(f.key().store.state().pin_hash.has_value());

  // makeCredUvNotRqd: a non-discoverable credential needs no PIN (and has no UV flag);
  // a discoverable one does.
  Cred without_pin;
  CHECK(make_credential(f.dev(), without_pin, COSE_ES256, false) == FIDO_OK);
  CHECK((fido_cred_flags(without_pin.c) & 0x04) == 0);
  Cred resident_without_pin;
  CHECK(make_credential(f.dev(), resident_without_pin, COSE_ES256, true) == FIDO_ERR_PIN_REQUIRED);

  Cred with_pin;
  REQUIRE(make_credential(f.dev(), with_pin, COSE_ES256, false, "1234") == FIDO_OK);
  CHECK((fido_cred_flags(with_pin.c) & 0x04) == 0x04);  // UV
  CHECK(fido_cred_verify(with_pin.c) == FIDO_OK);

  REQUIRE(fido_dev_set_pin(f.dev(), "5678", "1234") == FIDO_OK);
  Cred old_pin;
  CHECK(make_credential(f.dev(), old_pin, COSE_ES256, false, "1234") == FIDO_ERR_PIN_INVALID);
  CHECK(retries(f.dev()) == 7);
  Cred new_pin;
  CHECK(make_credential(f.dev(), new_pin, COSE_ES256, false, "5678") == FIDO_OK);
  CHECK(retries(f.dev()) == 8);  // a right PIN restores the retries

  // Three wrong PINs in a row block PIN use until the key is power-cycled.
  for (int i = 0; i < 2; ++i) {
    Assert a;
    prepare_assert(a);
    REQUIRE(fido_assert_allow_cred(a.a, new_pin.id().data(), new_pin.id().size()) == FIDO_OK);
    CHECK(fido_dev_get_assert(f.dev(), a.a, "0000") == FIDO_ERR_PIN_INVALID);
  }
  {
    Assert a;
    prepare_assert(a);
    CHECK(fido_dev_get_assert(f.dev(), a.a, "0000") == FIDO_ERR_PIN_AUTH_BLOCKED);
    Assert b;
    prepare_assert(b);
    CHECK(fido_dev_get_assert(f.dev(), b.a, "5678") == FIDO_ERR_PIN_AUTH_BLOCKED);
  }
  CHECK(retries(f.dev()) == 5);
  f.key().authenticator.power_cycle();
  f.reopen();
  // Five more wrong PINs (power-cycling after every third) exhaust the retries.
  int wrong = 0;
  int last = FIDO_OK;
  while (retries(f.dev()) > 0) {
    Assert a;
    prepare_assert(a);
    last = fido_dev_get_assert(f.dev(), a.a, "0000");
    if (last == FIDO_ERR_PIN_AUTH_BLOCKED) {
      f.key().authenticator.power_cycle();
      f.reopen();
    }
    REQUIRE(++wrong <= 5);
  }
  CHECK(last == FIDO_ERR_PIN_BLOCKED);
  Assert a;
  prepare_assert(a);
  CHECK(fido_dev_get_assert(f.dev(), a.a, "5678") == FIDO_ERR_PIN_BLOCKED);
  CHECK(f.key().store.state().pin_retries == 0);
}

TEST_CASE("PIN policy: too short, and at least four Unicode code points") {
  Fixture f;
  CHECK(fido_dev_set_pin(f.dev(), "123", nullptr) == FIDO_ERR_PIN_POLICY_VIOLATION);
  CHECK_FALSE(f.key().store.state().pin_hash.has_value());
  CHECK(fido_dev_set_pin(f.dev(), "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f", nullptr) == FIDO_OK);  // "äöüß"
  Cred cred;
  CHECK(make_credential(f.dev(), cred, COSE_ES256, false, "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f") == FIDO_OK);
}

TEST_CASE("reset forgets credentials and the PIN; old credential IDs stop working") {
  Fixture f;
  Cred resident, wrapped;
  REQUIRE(make_credential(f.dev(), resident, COSE_ES256, true) == FIDO_OK);
  REQUIRE(make_credential(f.dev(), wrapped, COSE_EDDSA, false) == FIDO_OK);
  REQUIRE(fido_dev_set_pin(f.dev(), "1234", nullptr) == FIDO_OK);
  REQUIRE(fido_dev_reset(f.dev()) == FIDO_OK);
  CHECK_FALSE(f.key().store.state().pin_hash.has_value());
  {
    Assert a;
    prepare_assert(a);
    CHECK(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_ERR_NO_CREDENTIALS);
  }
  {
    Assert a;
    prepare_assert(a);
    REQUIRE(fido_assert_allow_cred(a.a, wrapped.id().data(), wrapped.id().size()) == FIDO_OK);
    CHECK(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_ERR_NO_CREDENTIALS);
  }
  Cred after;
  CHECK(make_credential(f.dev(), after, COSE_ES256, false) == FIDO_OK);  // no PIN any more
}

TEST_CASE("user presence: denied, and approved late with keepalives in between") {
  Fixture f;
  f.key().presence.set_mode(ctap::ControlledPresence::Mode::Deny);
  Cred denied;
  CHECK(make_credential(f.dev(), denied, COSE_ES256, false) == FIDO_ERR_OPERATION_DENIED);

  f.key().presence.set_mode(ctap::ControlledPresence::Mode::Approve);
  f.key().presence.set_delay(Duration(350));  // > 3 keepalive intervals
  Cred late;
  CHECK(make_credential(f.dev(), late, COSE_ES256, false) == FIDO_OK);
  CHECK(fido_cred_verify(late.c) == FIDO_OK);
}

TEST_CASE("silent assertion (up=false) carries no UP flag") {
  Fixture f;
  Cred cred;
  REQUIRE(make_credential(f.dev(), cred, COSE_ES256, false) == FIDO_OK);
  const size_t touches = f.key().presence.request_count();
  Assert a;
  prepare_assert(a);
  REQUIRE(fido_assert_allow_cred(a.a, cred.id().data(), cred.id().size()) == FIDO_OK);
  REQUIRE(fido_assert_set_up(a.a, FIDO_OPT_FALSE) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(f.dev(), a.a, nullptr) == FIDO_OK);
  CHECK((fido_assert_flags(a.a, 0) & 0x01) == 0);
  CHECK(f.key().presence.request_count() == touches);
  CHECK(verify_assert(a, 0, cred) == FIDO_OK);
}

TEST_CASE("U2F through libfido2's CTAP1 path, and the U2F key handle in CTAP2") {
  Fixture f;
  fido_dev_force_u2f(f.dev());
  Cred cred;
  REQUIRE(make_credential(f.dev(), cred, COSE_ES256, false) == FIDO_OK);
  CHECK(std::string(fido_cred_fmt(cred.c)) == "fido-u2f");
  CHECK(fido_cred_verify(cred.c) == FIDO_OK);  // the U2F registration signature by the batch key

  Assert u2f_assert;
  prepare_assert(u2f_assert);
  REQUIRE(fido_assert_allow_cred(u2f_assert.a, cred.id().data(), cred.id().size()) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(f.dev(), u2f_assert.a, nullptr) == FIDO_OK);
  CHECK(verify_assert(u2f_assert, 0, cred) == FIDO_OK);

  // The same key handle, now through CTAP2 getAssertion (rpIdHash == application parameter).
  f.reopen();
  REQUIRE(fido_dev_is_fido2(f.dev()));
  Assert ctap2_assert;
  prepare_assert(ctap2_assert);
  REQUIRE(fido_assert_allow_cred(ctap2_assert.a, cred.id().data(), cred.id().size()) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(f.dev(), ctap2_assert.a, nullptr) == FIDO_OK);
  CHECK(verify_assert(ctap2_assert, 0, cred) == FIDO_OK);
  CHECK(fido_assert_sigcount(ctap2_assert.a, 0) > fido_assert_sigcount(u2f_assert.a, 0));
}

TEST_CASE("self and none attestation, as configured") {
  {
    ctap::Profile p;
    p.attestation = ctap::AttestationMode::Self;
    Fixture f(p);
    Cred cred;
    REQUIRE(make_credential(f.dev(), cred, COSE_ES256, false) == FIDO_OK);
    CHECK(fido_cred_x5c_len(cred.c) == 0);
    CHECK(fido_cred_verify_self(cred.c) == FIDO_OK);
  }
  {
    ctap::Profile p;
    p.attestation = ctap::AttestationMode::None;
    Fixture f(p);
    Cred cred;
    REQUIRE(make_credential(f.dev(), cred, COSE_EDDSA, false) == FIDO_OK);
    CHECK(std::string(fido_cred_fmt(cred.c)) == "none");
  }
}

TEST_CASE("credProtect userVerificationRequired: libfido2 reads the level; no PIN, no credential") {
  Fixture f;
  REQUIRE(fido_dev_set_pin(f.dev(), "1234", nullptr) == FIDO_OK);
  Cred cred;
  REQUIRE(fido_cred_set_prot(cred.c, FIDO_CRED_PROT_UV_REQUIRED) == FIDO_OK);
  REQUIRE(make_credential(f.dev(), cred, COSE_ES256, true, "1234") == FIDO_OK);
  CHECK(fido_cred_prot(cred.c) == FIDO_CRED_PROT_UV_REQUIRED);
  CHECK((fido_cred_flags(cred.c) & 0x80) == 0x80);  // ED: the extension output is in authData
  CHECK(fido_cred_verify(cred.c) == FIDO_OK);

  for (bool allow : {false, true}) {
    CAPTURE(allow);
    Assert without_pin;
    prepare_assert(without_pin);
    if (allow) REQUIRE(fido_assert_allow_cred(without_pin.a, cred.id().data(), cred.id().size()) == FIDO_OK);
    CHECK(fido_dev_get_assert(f.dev(), without_pin.a, nullptr) == FIDO_ERR_NO_CREDENTIALS);

    Assert with_pin;
    prepare_assert(with_pin);
    if (allow) REQUIRE(fido_assert_allow_cred(with_pin.a, cred.id().data(), cred.id().size()) == FIDO_OK);
    REQUIRE(fido_dev_get_assert(f.dev(), with_pin.a, "1234") == FIDO_OK);
    REQUIRE(fido_assert_count(with_pin.a) == 1);
    CHECK(verify_assert(with_pin, 0, cred) == FIDO_OK);
    CHECK((fido_assert_flags(with_pin.a, 0) & 0x04) == 0x04);  // UV
  }
}
