// authenticatorBioEnrollment (CTAP 2.1 §6.7, and the FIDO_2_1_PRE command 0x40)
// against the simulated sensor: sensor info, enrollment with a configurable
// number of samples (good and poor ones), cancel, enumerate, rename, remove,
// the be permission, and persistence through the store.
#include <doctest/doctest.h>

#include "tests/unit/ctap_platform2.h"

using namespace vauth;
using namespace vauth::ctaptest;
using Mode = ctap::ControlledUserVerifier::Mode;

namespace {

constexpr const char* kPin = "1234";

struct Fixture {
  explicit Fixture(ctap::Profile profile = {}) : h(std::move(profile)), p(h) { REQUIRE(p.set_pin(kPin).ok()); }
  Bytes be_token() {
    auto t = p.pin_token(kPin, kPermBe);
    REQUIRE(t);
    return *t;
  }
  Response bio(int sub, const std::optional<Map>& params, const std::optional<Bytes>& token,
               uint8_t cmd = kBioEnrollment) {
    return h.call(cmd, bio_request(sub, params, token));
  }
  Harness h;
  Platform2 p;
};

}  // namespace

TEST_CASE("getFingerprintSensorInfo and getModality need no token") {
  ctap::Profile profile;
  profile.bio_samples_required = 3;
  Fixture f(profile);
  Response info = f.bio(7, std::nullopt, std::nullopt);
  REQUIRE(info.ok());
  CHECK(*info.get(1) == cbor::Value(1));   // modality: fingerprint
  CHECK(*info.get(2) == cbor::Value(1));   // fingerprintKind: touch
  CHECK(*info.get(3) == cbor::Value(3));   // maxCaptureSamplesRequiredForEnroll
  CHECK(*info.get(8) == cbor::Value(64));  // maxTemplateFriendlyName
  Response modality = f.h.call(kBioEnrollment, Map{{6, true}});
  REQUIRE(modality.ok());
  CHECK(*modality.get(1) == cbor::Value(1));
}

TEST_CASE("enrollment: begin and capture until no samples remain; poor samples do not count") {
  ctap::Profile profile;
  profile.bio_samples_required = 3;
  Fixture f(profile);
  const Bytes token = f.be_token();
  Response begin = f.bio(1, Map{{3, 10000}}, token);
  REQUIRE(begin.ok());
  REQUIRE(begin.get(4));
  const Bytes id = begin.get(4)->as_bytes();
  CHECK(*begin.get(5) == cbor::Value(0));  // FP_GOOD
  CHECK(*begin.get(6) == cbor::Value(2));
  CHECK(f.h.uv.last_request()->operation == "enrollSample");

  f.h.uv.set_mode(Mode::NoMatch);
  Response poor = f.bio(2, Map{{1, id}}, token);
  REQUIRE(poor.ok());
  CHECK(*poor.get(5) == cbor::Value(7));  // FP_POOR_QUALITY
  CHECK(*poor.get(6) == cbor::Value(2));
  CHECK_FALSE(poor.get(4));
  CHECK(f.h.state().enrollments.empty());

  f.h.uv.set_mode(Mode::Match);
  CHECK(*f.bio(2, Map{{1, id}}, token).get(6) == cbor::Value(1));
  CHECK(f.h.state().enrollments.empty());
  CHECK(*f.bio(2, Map{{1, id}}, token).get(6) == cbor::Value(0));
  REQUIRE(f.h.state().enrollments.size() == 1);
  CHECK(f.h.state().enrollments[0].template_id == id);
  CHECK(f.h.state().uv_retries == 8);  // enrollment readings spend no UV retries

  // Finished: the template ID no longer continues anything.
  CHECK(f.bio(2, Map{{1, id}}, token).status == Status::InvalidParameter);
}

TEST_CASE("enrollment errors: token required, be permission, wrong template, cancel") {
  Fixture f;
  CHECK(f.bio(1, std::nullopt, std::nullopt).status == Status::PuatRequired);
  auto mc = f.p.pin_token(kPin, kPermMc);
  REQUIRE(mc);
  CHECK(f.bio(1, std::nullopt, mc).status == Status::PinAuthInvalid);
  const Bytes token = f.be_token();
  Map wrong_mac = bio_request(1, std::nullopt, token);
  wrong_mac[5] = Bytes(32, 0);
  CHECK(f.h.call(kBioEnrollment, wrong_mac).status == Status::PinAuthInvalid);
  Map no_protocol = bio_request(1, std::nullopt, token);
  no_protocol.erase(cbor::Value(4));
  CHECK(f.h.call(kBioEnrollment, no_protocol).status == Status::MissingParameter);

  Response begin = f.bio(1, std::nullopt, token);
  REQUIRE(begin.ok());
  const Bytes id = begin.get(4)->as_bytes();
  CHECK(f.bio(2, Map{{1, Bytes{0xde, 0xad}}}, token).status == Status::InvalidParameter);
  CHECK(f.bio(2, std::nullopt, token).status == Status::MissingParameter);
  CHECK(f.bio(3, std::nullopt, std::nullopt).ok());  // cancel needs no token
  CHECK(f.bio(2, Map{{1, id}}, token).status == Status::InvalidParameter);
  CHECK(f.h.state().enrollments.empty());

  // Malformed requests.
  CHECK(f.h.call(kBioEnrollment, Map{{2, 7}}).status == Status::MissingParameter);
  CHECK(f.h.call(kBioEnrollment, Map{{1, 1}}).status == Status::MissingParameter);
  CHECK(f.h.call(kBioEnrollment, Map{{1, 2}, {2, 7}}).status == Status::InvalidParameter);
  CHECK(f.h.call(kBioEnrollment, Map{{1, 1}, {2, 9}}).status == Status::InvalidSubcommand);
  CHECK(f.h.call(kBioEnrollment, Map{{1, "one"}, {2, 7}}).status == Status::CborUnexpectedType);
  CHECK(f.h.call(kBioEnrollment, Map{{1, 1}, {2, 7}, {3, Bytes{1}}}).status == Status::CborUnexpectedType);
}

TEST_CASE("manual sensor: a sample waits, times out (enrollment dropped) or is cancelled") {
  Fixture f;
  const Bytes token = f.be_token();
  f.h.uv.set_mode(Mode::Wait);
  f.h.uv.set_timeout(2s);
  Pending begin = f.h.start(kBioEnrollment, bio_request(1, std::nullopt, token));
  CHECK_FALSE(begin.done());
  CHECK(f.h.auth->waiting_for_user());
  f.h.advance(3s);
  REQUIRE(begin.done());
  CHECK(begin.get().status == Status::UserActionTimeout);

  Pending again = f.h.start(kBioEnrollment, bio_request(1, std::nullopt, token));
  f.h.auth->cancel();
  REQUIRE(again.done());
  CHECK(again.get().status == Status::KeepaliveCancel);

  Pending good = f.h.start(kBioEnrollment, bio_request(1, std::nullopt, token));
  CHECK(f.h.uv.match());
  REQUIRE(good.done());
  CHECK(good.get().ok());
}

TEST_CASE("enumerate, setFriendlyName, removeEnrollment; INVALID_OPTION for unknown or none") {
  Fixture f;
  const Bytes token = f.be_token();
  CHECK(f.bio(4, std::nullopt, token).status == Status::InvalidOption);  // nothing enrolled
  const Bytes a = enroll_finger(f.h, f.p, kPin);
  const Bytes b = enroll_finger(f.h, f.p, kPin);
  CHECK(a != b);
  const Bytes t = f.be_token();
  Response list = f.bio(4, std::nullopt, t);
  REQUIRE(list.ok());
  REQUIRE(list.get(7)->as_array().size() == 2);
  CHECK(*list.get(7)->as_array()[0].find(1) == cbor::Value(a));
  CHECK(*list.get(7)->as_array()[0].find(2) == cbor::Value(""));  // no name yet: empty

  CHECK(f.bio(5, Map{{1, a}, {2, "left thumb"}}, t).ok());
  CHECK(f.h.state().enrollments[0].friendly_name == "left thumb");
  CHECK(f.bio(5, Map{{1, Bytes{9, 9}}, {2, "x"}}, t).status == Status::InvalidOption);
  CHECK(f.bio(5, Map{{1, a}}, t).status == Status::MissingParameter);
  CHECK(f.bio(5, Map{{1, a}, {2, std::string(65, 'n')}}, t).status == Status::InvalidLength);
  list = f.bio(4, std::nullopt, t);
  CHECK(*list.get(7)->as_array()[0].find(2) == cbor::Value("left thumb"));

  CHECK(f.bio(6, Map{{1, Bytes{9, 9}}}, t).status == Status::InvalidOption);
  CHECK(f.bio(6, Map{{1, a}}, t).ok());
  REQUIRE(f.h.state().enrollments.size() == 1);
  CHECK(f.h.state().enrollments[0].template_id == b);
  CHECK(f.bio(6, Map{{1, b}}, t).ok());
  CHECK(*info_option(get_info(f.h), "bioEnroll") == cbor::Value(false));
  CHECK(*info_option(get_info(f.h), "uv") == cbor::Value(false));
}

TEST_CASE("FP_DATABASE_FULL when every slot is taken") {
  ctap::Profile profile;
  profile.max_fingerprints = 2;
  Fixture f(profile);
  enroll_finger(f.h, f.p, kPin);
  enroll_finger(f.h, f.p, kPin);
  CHECK(f.bio(1, std::nullopt, f.be_token()).status == Status::FpDatabaseFull);
}

TEST_CASE("the preview command 0x40 behaves the same") {
  Fixture f;
  const Bytes token = f.be_token();
  Response begin = f.bio(1, std::nullopt, token, kBioEnrollmentPreview);
  REQUIRE(begin.ok());
  CHECK(*f.bio(7, std::nullopt, std::nullopt, kBioEnrollmentPreview).get(2) == cbor::Value(1));
}

TEST_CASE("authenticatorReset forgets the fingers") {
  Fixture f;
  enroll_finger(f.h, f.p, kPin);
  REQUIRE(f.h.call(kReset).ok());
  CHECK(f.h.state().enrollments.empty());
  CHECK(*info_option(get_info(f.h), "uv") == cbor::Value(false));
}
