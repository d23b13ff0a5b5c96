// libfido2 (Debian libfido2 1.12) drives built-in user verification, bio
// enrollment (fido_bio_*, through the 0x40 preview command it always sends)
// and authenticatorConfig (fido_dev_enable_entattest, fido_dev_toggle_always_uv,
// fido_dev_set_pin_minlen(_rpid), fido_dev_force_pin_change) of an in-process
// vauth key, and reads the CTAP 2.1 getInfo fields back with fido_cbor_info_*.
#include <doctest/doctest.h>
#include <fido.h>
#include <fido/bio.h>
#include <fido/config.h>

#include <cstring>
#include <string>

#include "tests/integration/libfido2_fixture.h"

using namespace vauth;
using Mode = ctap::ControlledUserVerifier::Mode;

namespace {

const unsigned char kClientDataHash[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
constexpr const char* kPin = "1234";
const unsigned char kUserId[4] = {1, 2, 3, 4};

struct Info {
  fido_cbor_info_t* i = fido_cbor_info_new();
  explicit Info(fido_dev_t* dev) { REQUIRE(fido_dev_get_cbor_info(dev, i) == FIDO_OK); }
  ~Info() { fido_cbor_info_free(&i); }
  // The option's value, or -1 when getInfo does not list it.
  int option(const char* name) const {
    char** names = fido_cbor_info_options_name_ptr(i);
    const bool* values = fido_cbor_info_options_value_ptr(i);
    for (size_t k = 0; k < fido_cbor_info_options_len(i); ++k) {
      if (std::strcmp(names[k], name) == 0) return values[k] ? 1 : 0;
    }
    return -1;
  }
  bool has_version(const char* v) const {
    char** versions = fido_cbor_info_versions_ptr(i);
    for (size_t k = 0; k < fido_cbor_info_versions_len(i); ++k) {
      if (std::strcmp(versions[k], v) == 0) return true;
    }
    return false;
  }
};

struct Bio {
  fido_bio_template_t* t = fido_bio_template_new();
  fido_bio_enroll_t* e = fido_bio_enroll_new();
  ~Bio() {
    fido_bio_template_free(&t);
    fido_bio_enroll_free(&e);
  }
};

struct Templates {
  fido_bio_template_array_t* a = fido_bio_template_array_new();
  ~Templates() { fido_bio_template_array_free(&a); }
};

// makeCredential; `minlen` asks for the minPinLength extension. libfido2 1.12's
// fido_cred_pin_minlen() returns the requested value, not authData's, so the
// test reads the raw authData.
int make_cred(fido_dev_t* dev, const char* rp, const char* pin, fido_opt_t uv = FIDO_OPT_OMIT, size_t minlen = 0,
              test::Blob* authdata_out = nullptr, uint8_t* flags_out = nullptr, test::Blob* id_out = nullptr) {
  test::Cred c;
  REQUIRE(fido_cred_set_type(c.c, COSE_ES256) == FIDO_OK);
  REQUIRE(fido_cred_set_clientdata_hash(c.c, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_cred_set_rp(c.c, rp, nullptr) == FIDO_OK);
  REQUIRE(fido_cred_set_user(c.c, kUserId, sizeof kUserId, "alice", "Alice", nullptr) == FIDO_OK);
  REQUIRE(fido_cred_set_uv(c.c, uv) == FIDO_OK);
  if (minlen) REQUIRE(fido_cred_set_pin_minlen(c.c, minlen) == FIDO_OK);
  const int r = fido_dev_make_cred(dev, c.c, pin);
  if (authdata_out) {
    *authdata_out = test::Blob(fido_cred_authdata_raw_ptr(c.c), fido_cred_authdata_raw_ptr(c.c) + fido_cred_authdata_raw_len(c.c));
  }
  if (flags_out) *flags_out = fido_cred_flags(c.c);
  if (id_out) *id_out = c.id();
  return r;
}

// Enrolls one finger the way `fido2-token -S -e` does: begin, then continue until no samples remain.
void enroll(fido_dev_t* dev, Bio& b) {
  REQUIRE(fido_bio_dev_enroll_begin(dev, b.t, b.e, 10000, kPin) == FIDO_OK);
  while (fido_bio_enroll_remaining_samples(b.e) > 0) {
    REQUIRE(fido_bio_dev_enroll_continue(dev, b.t, b.e, 10000) == FIDO_OK);
  }
}

}  // namespace

TEST_CASE("fido_cbor_info: the CTAP 2.1 fields libfido2 knows") {
  test::Libfido2Key k;
  Info info(k.dev());
  CHECK(info.has_version("FIDO_2_1"));
  CHECK(info.option("uv") == 0);
  CHECK(info.option("bioEnroll") == 0);
  CHECK(info.option("authnrCfg") == 1);
  CHECK(info.option("setMinPINLength") == 1);
  CHECK(info.option("alwaysUv") == 0);
  CHECK(info.option("ep") == 0);
  CHECK(fido_cbor_info_minpinlen(info.i) == 4);
  CHECK(fido_cbor_info_maxrpid_minpinlen(info.i) == 8);
  CHECK(fido_cbor_info_uv_modality(info.i) == 2);
  CHECK(fido_cbor_info_uv_attempts(info.i) == 3);
  CHECK(fido_cbor_info_fwversion(info.i) == 0x00010000);
  CHECK(fido_cbor_info_rk_remaining(info.i) == 100000);
  CHECK_FALSE(fido_cbor_info_new_pin_required(info.i));
  CHECK(fido_dev_has_uv(k.dev()) == false);  // capable, not configured yet
}

TEST_CASE("fido_bio_*: sensor info, enroll, enumerate, rename, remove; then uv=true works without a PIN") {
  test::Libfido2Key k;
  REQUIRE(fido_dev_set_pin(k.dev(), kPin, nullptr) == FIDO_OK);
  fido_bio_info_t* bi = fido_bio_info_new();
  REQUIRE(fido_bio_dev_get_info(k.dev(), bi) == FIDO_OK);
  CHECK(fido_bio_info_type(bi) == 1);
  CHECK(fido_bio_info_max_samples(bi) == 4);
  fido_bio_info_free(&bi);

  Bio finger;
  REQUIRE(fido_bio_dev_enroll_begin(k.dev(), finger.t, finger.e, 10000, kPin) == FIDO_OK);
  CHECK(fido_bio_enroll_last_status(finger.e) == 0);
  CHECK(fido_bio_enroll_remaining_samples(finger.e) == 3);
  CHECK(fido_bio_template_id_len(finger.t) == 2);
  k.key().uv.set_mode(Mode::NoMatch);  // a poor sample: nothing gained
  REQUIRE(fido_bio_dev_enroll_continue(k.dev(), finger.t, finger.e, 10000) == FIDO_OK);
  CHECK(fido_bio_enroll_last_status(finger.e) == 7);
  CHECK(fido_bio_enroll_remaining_samples(finger.e) == 3);
  k.key().uv.set_mode(Mode::Match);
  while (fido_bio_enroll_remaining_samples(finger.e) > 0) {
    REQUIRE(fido_bio_dev_enroll_continue(k.dev(), finger.t, finger.e, 10000) == FIDO_OK);
  }
  CHECK(k.key().store.state().enrollments.size() == 1);

  REQUIRE(fido_bio_template_set_name(finger.t, "right index") == FIDO_OK);
  REQUIRE(fido_bio_dev_set_template_name(k.dev(), finger.t, kPin) == FIDO_OK);
  Templates list;
  REQUIRE(fido_bio_dev_get_template_array(k.dev(), list.a, kPin) == FIDO_OK);
  REQUIRE(fido_bio_template_array_count(list.a) == 1);
  CHECK(std::string(fido_bio_template_name(fido_bio_template(list.a, 0))) == "right index");

  // Configured now: getInfo says uv, and uv=true needs no PIN (libfido2 gets a token from the sensor).
  k.reopen();
  CHECK(fido_dev_has_uv(k.dev()));
  const size_t readings = k.key().uv.request_count();
  test::Blob id;
  CHECK(make_cred(k.dev(), "example.org", nullptr, FIDO_OPT_TRUE, 0, nullptr, nullptr, &id) == FIDO_OK);
  CHECK(k.key().uv.request_count() > readings);
  test::Assert a;
  REQUIRE(fido_assert_allow_cred(a.a, id.data(), id.size()) == FIDO_OK);
  REQUIRE(fido_assert_set_clientdata_hash(a.a, kClientDataHash, sizeof kClientDataHash) == FIDO_OK);
  REQUIRE(fido_assert_set_rp(a.a, "example.org") == FIDO_OK);
  REQUIRE(fido_assert_set_uv(a.a, FIDO_OPT_TRUE) == FIDO_OK);
  REQUIRE(fido_dev_get_assert(k.dev(), a.a, nullptr) == FIDO_OK);
  CHECK((fido_assert_flags(a.a, 0) & 0x04) != 0);  // UV

  Bio second;
  enroll(k.dev(), second);
  REQUIRE(fido_bio_dev_enroll_remove(k.dev(), finger.t, kPin) == FIDO_OK);
  Templates after;
  REQUIRE(fido_bio_dev_get_template_array(k.dev(), after.a, kPin) == FIDO_OK);
  CHECK(fido_bio_template_array_count(after.a) == 1);
  CHECK(fido_bio_dev_enroll_remove(k.dev(), finger.t, kPin) == FIDO_ERR_INVALID_OPTION);
  Bio third;
  REQUIRE(fido_bio_dev_enroll_begin(k.dev(), third.t, third.e, 10000, kPin) == FIDO_OK);
  CHECK(fido_bio_dev_enroll_cancel(k.dev()) == FIDO_OK);
  CHECK(fido_bio_dev_enroll_continue(k.dev(), third.t, third.e, 10000) == FIDO_ERR_INVALID_PARAMETER);
}

TEST_CASE("fido_dev_get_uv_retry_count: failures count down, UV_BLOCKED, the PIN restores them") {
  test::Libfido2Key k;
  REQUIRE(fido_dev_set_pin(k.dev(), kPin, nullptr) == FIDO_OK);
  Bio finger;
  enroll(k.dev(), finger);
  k.reopen();
  int retries = -1;
  REQUIRE(fido_dev_get_uv_retry_count(k.dev(), &retries) == FIDO_OK);
  CHECK(retries == 8);
  k.key().uv.set_mode(Mode::NoMatch);
  CHECK(make_cred(k.dev(), "example.org", nullptr, FIDO_OPT_TRUE) == FIDO_ERR_UV_INVALID);
  REQUIRE(fido_dev_get_uv_retry_count(k.dev(), &retries) == FIDO_OK);
  CHECK(retries == 7);
  for (int i = 0; i < 6; ++i) CHECK(make_cred(k.dev(), "example.org", nullptr, FIDO_OPT_TRUE) == FIDO_ERR_UV_INVALID);
  CHECK(make_cred(k.dev(), "example.org", nullptr, FIDO_OPT_TRUE) == FIDO_ERR_UV_BLOCKED);
  k.key().uv.set_mode(Mode::Match);
  CHECK(make_cred(k.dev(), "example.org", nullptr, FIDO_OPT_TRUE) == FIDO_ERR_UV_BLOCKED);
  CHECK(make_cred(k.dev(), "example.org", kPin) == FIDO_OK);  // the PIN fallback
  REQUIRE(fido_dev_get_uv_retry_count(k.dev(), &retries) == FIDO_OK);
  CHECK(retries == 8);
}

TEST_CASE("fido_dev_set_pin_minlen(_rpid), fido_dev_force_pin_change, and the minPinLength extension") {
  test::Libfido2Key k;
  REQUIRE(fido_dev_set_pin(k.dev(), kPin, nullptr) == FIDO_OK);
  const char* rps[] = {"listed.example"};
  REQUIRE(fido_dev_set_pin_minlen_rpid(k.dev(), rps, 1, kPin) == FIDO_OK);
  test::Blob authdata;
  uint8_t flags = 0;
  CHECK(make_cred(k.dev(), "listed.example", kPin, FIDO_OPT_OMIT, 4, &authdata, &flags) == FIDO_OK);
  CHECK((flags & 0x80) != 0);
  // authData ends with the extensions map {"minPinLength": 4}.
  const std::string ext = "\xa1\x6cminPinLength\x04";
  REQUIRE(authdata.size() > ext.size());
  CHECK(std::string(authdata.end() - static_cast<std::ptrdiff_t>(ext.size()), authdata.end()) == ext);
  CHECK(make_cred(k.dev(), "other.example", kPin, FIDO_OPT_OMIT, 4, nullptr, &flags) == FIDO_OK);
  CHECK((flags & 0x80) == 0);  // no extension output for an RP not on the list

  REQUIRE(fido_dev_set_pin_minlen(k.dev(), 6, kPin) == FIDO_OK);
  CHECK(fido_dev_set_pin_minlen(k.dev(), 5, kPin) == FIDO_ERR_PIN_POLICY_VIOLATION);
  {
    Info info(k.dev());
    CHECK(fido_cbor_info_minpinlen(info.i) == 6);
    CHECK(fido_cbor_info_new_pin_required(info.i));  // "1234" is now too short
  }
  CHECK(make_cred(k.dev(), "example.org", kPin) == FIDO_ERR_PIN_POLICY_VIOLATION);
  CHECK(fido_dev_set_pin(k.dev(), "12345", kPin) == FIDO_ERR_PIN_POLICY_VIOLATION);
  REQUIRE(fido_dev_set_pin(k.dev(), "123456", kPin) == FIDO_OK);
  CHECK(make_cred(k.dev(), "example.org", "123456") == FIDO_OK);

  REQUIRE(fido_dev_force_pin_change(k.dev(), "123456") == FIDO_OK);
  CHECK(make_cred(k.dev(), "example.org", "123456") == FIDO_ERR_PIN_POLICY_VIOLATION);
  REQUIRE(fido_dev_set_pin(k.dev(), "654321", "123456") == FIDO_OK);
  CHECK(make_cred(k.dev(), "example.org", "654321") == FIDO_OK);
}

TEST_CASE("fido_dev_toggle_always_uv and fido_dev_enable_entattest") {
  test::Libfido2Key k;
  REQUIRE(fido_dev_set_pin(k.dev(), kPin, nullptr) == FIDO_OK);
  REQUIRE(fido_dev_toggle_always_uv(k.dev(), kPin) == FIDO_OK);
  {
    Info info(k.dev());
    CHECK(info.option("alwaysUv") == 1);
    CHECK(info.option("makeCredUvNotRqd") == 0);
  }
  CHECK(make_cred(k.dev(), "example.org", nullptr) == FIDO_ERR_PIN_REQUIRED);
  CHECK(make_cred(k.dev(), "example.org", kPin) == FIDO_OK);
  REQUIRE(fido_dev_toggle_always_uv(k.dev(), kPin) == FIDO_OK);
  CHECK(make_cred(k.dev(), "example.org", nullptr) == FIDO_OK);

  REQUIRE(fido_dev_enable_entattest(k.dev(), kPin) == FIDO_OK);
  Info info(k.dev());
  CHECK(info.option("ep") == 1);
  CHECK(fido_dev_enable_entattest(k.dev(), "9999") == FIDO_ERR_PIN_INVALID);
}
