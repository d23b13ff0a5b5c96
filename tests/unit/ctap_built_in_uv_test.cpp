// Built-in user verification with the simulated fingerprint sensor (CTAP 2.1
// §6.1.2 / §6.2.2 "uv" option, §6.5.5.7.3 getPinUvAuthTokenUsingUvWithPermissions,
// §6.5.5.? getUVRetries): configured only once a finger is enrolled, uvRetries
// spent durably and reset by a match or the PIN, UV_INVALID then UV_BLOCKED.
#include <doctest/doctest.h>

#include "tests/unit/ctap_platform2.h"

using namespace vauth;
using namespace vauth::ctaptest;
using Mode = ctap::ControlledUserVerifier::Mode;

namespace {

constexpr const char* kPin = "1234";

// A key with a PIN and one enrolled finger.
struct Enrolled {
  Harness h;
  Platform2 p{h};
  Bytes finger;
  Enrolled() {
    REQUIRE(p.set_pin(kPin).ok());
    finger = enroll_finger(h, p, kPin);
  }
};

Response uv_retries(Harness& h) { return h.call(kClientPin, Map{{1, 2}, {2, 7}}); }

MakeCredentialRequest with_uv(bool rk = false) {
  MakeCredentialRequest req;
  req.options = Map{{"uv", true}};
  if (rk) req.rk();
  return req;
}

}  // namespace

TEST_CASE("getInfo: uv is false until a finger is enrolled, true after; absent without the sensor") {
  Harness h;
  Platform2 p(h);
  Response info = get_info(h);
  REQUIRE(info_option(info, "uv"));
  CHECK(*info_option(info, "uv") == cbor::Value(false));
  CHECK(*info_option(info, "bioEnroll") == cbor::Value(false));
  CHECK(*info_option(info, "uvBioEnroll") == cbor::Value(true));
  REQUIRE(info.get(0x12));
  CHECK(*info.get(0x12) == cbor::Value(2));  // uvModality: fingerprint
  CHECK(*info.get(0x11) == cbor::Value(3));  // preferredPlatformUVAttempts

  REQUIRE(p.set_pin(kPin).ok());
  enroll_finger(h, p, kPin);
  info = get_info(h);
  CHECK(*info_option(info, "uv") == cbor::Value(true));
  CHECK(*info_option(info, "bioEnroll") == cbor::Value(true));

  ctap::Profile none;
  none.built_in_uv = false;
  Harness plain(none);
  Response bare = get_info(plain);
  CHECK_FALSE(info_option(bare, "uv"));
  CHECK_FALSE(info_option(bare, "bioEnroll"));
  CHECK_FALSE(bare.get(0x12));
  CHECK(plain.call(kBioEnrollment, bio_request(7, std::nullopt, std::nullopt)).status == Status::InvalidCommand);
  CHECK(plain.call(kClientPin, Map{{1, 2}, {2, 7}}).status == Status::InvalidSubcommand);
}

TEST_CASE("uv=true without an enrolled finger is INVALID_OPTION (makeCredential and getAssertion)") {
  Harness h;
  CHECK(h.call(kMakeCredential, with_uv().build()).status == Status::InvalidOption);
  GetAssertionRequest ga;
  ga.option("uv", true);
  CHECK(h.call(kGetAssertion, ga.build()).status == Status::InvalidOption);
  CHECK(h.uv.request_count() == 0);
}

TEST_CASE("makeCredential and getAssertion with uv=true read the sensor: UV and UP set, no button press") {
  Enrolled e;
  const size_t touches = e.h.presence.request_count();
  Credential c = make_credential(e.h, with_uv(true));
  CHECK(c.auth_data.uv());
  CHECK(c.auth_data.up());
  CHECK(e.h.uv.last_request()->operation == "makeCredential");
  CHECK(e.h.uv.last_request()->rp_id == "example.com");

  GetAssertionRequest ga;
  ga.option("uv", true);
  Assertion a = unpack_assertion(e.h.call(kGetAssertion, ga.build()));
  CHECK(a.auth_data.uv());
  CHECK(a.auth_data.up());
  CHECK(verifies(c.public_key, a, ga.client_data_hash));
  CHECK(e.h.presence.request_count() == touches);  // the finger was the touch
}

TEST_CASE("a discoverable credential on a finger-protected key needs UV (PUAT_REQUIRED without it)") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin(kPin).ok());
  enroll_finger(h, p, kPin);
  CHECK(h.call(kMakeCredential, MakeCredentialRequest{}.rk().build()).status == Status::PuatRequired);
  CHECK(h.call(kMakeCredential, with_uv(true).build()).ok());
}

TEST_CASE("no match: UV_INVALID and one retry less, durably; the last one is UV_BLOCKED; then at once") {
  Enrolled e;
  e.h.uv.set_mode(Mode::NoMatch);
  for (int left = 7; left >= 1; --left) {
    CAPTURE(left);
    CHECK(e.h.call(kMakeCredential, with_uv().build()).status == Status::UvInvalid);
    CHECK(e.h.state().uv_retries == left);
    Response r = uv_retries(e.h);
    REQUIRE(r.ok());
    CHECK(*r.get(5) == cbor::Value(left));
  }
  CHECK(e.h.call(kMakeCredential, with_uv().build()).status == Status::UvBlocked);
  CHECK(e.h.state().uv_retries == 0);
  const size_t readings = e.h.uv.request_count();
  e.h.uv.set_mode(Mode::Match);
  CHECK(e.h.call(kMakeCredential, with_uv().build()).status == Status::UvBlocked);
  CHECK(e.h.uv.request_count() == readings);  // blocked: no reading at all
  CHECK(e.p.uv_token(kPermMc).has_value() == false);
  CHECK(e.p.status() == Status::UvBlocked);

  // Falling back to the PIN: the right PIN unblocks the sensor.
  REQUIRE(e.p.pin_token(kPin, kPermMc));
  CHECK(e.h.state().uv_retries == 8);
  CHECK(e.h.call(kMakeCredential, with_uv().build()).ok());
}

TEST_CASE("a match resets uvRetries") {
  Enrolled e;
  e.h.uv.set_mode(Mode::NoMatch);
  CHECK(e.h.call(kMakeCredential, with_uv().build()).status == Status::UvInvalid);
  CHECK(e.h.state().uv_retries == 7);
  e.h.uv.set_mode(Mode::Match);
  CHECK(e.h.call(kMakeCredential, with_uv().build()).ok());
  CHECK(e.h.state().uv_retries == 8);
}

TEST_CASE("manual sensor: the request waits (user action pending), times out or is cancelled; the attempt comes back") {
  Enrolled e;
  e.h.uv.set_mode(Mode::Wait);
  e.h.uv.set_timeout(5s);
  Pending p = e.h.start(kMakeCredential, with_uv().build());
  CHECK_FALSE(p.done());
  CHECK(e.h.auth->waiting_for_user());
  CHECK(e.h.uv.pending());
  e.h.advance(6s);
  REQUIRE(p.done());
  CHECK(p.get().status == Status::UserActionTimeout);
  CHECK(e.h.state().uv_retries == 8);

  Pending q = e.h.start(kMakeCredential, with_uv().build());
  e.h.auth->cancel();
  REQUIRE(q.done());
  CHECK(q.get().status == Status::KeepaliveCancel);
  CHECK(e.h.state().uv_retries == 8);

  Pending ok = e.h.start(kMakeCredential, with_uv().build());
  CHECK(e.h.uv.match());
  REQUIRE(ok.done());
  CHECK(unpack_credential(ok.get())->auth_data.uv());
}

TEST_CASE("getPinUvAuthTokenUsingUvWithPermissions: a token from a finger, with permissions and RP binding") {
  Enrolled e;
  auto token = e.p.uv_token(kPermMc | kPermGa, "example.com");
  REQUIRE(token);
  CHECK(e.h.uv.last_request()->operation == "getPinUvAuthToken");
  const size_t touches = e.h.presence.request_count();
  MakeCredentialRequest req;
  req.pin_protocol = 2;
  req.pin_auth = Platform2::auth(*token, req.client_data_hash);
  Credential c = make_credential(e.h, req);
  CHECK(c.auth_data.uv());
  CHECK(e.h.presence.request_count() == touches);  // the token carried the finger's touch

  // Bound to example.com: another RP is refused.
  auto other = e.p.uv_token(kPermMc, "example.com");
  REQUIRE(other);
  MakeCredentialRequest elsewhere;
  elsewhere.rp_id = "other.example";
  elsewhere.pin_protocol = 2;
  elsewhere.pin_auth = Platform2::auth(*other, elsewhere.client_data_hash);
  CHECK(e.h.call(kMakeCredential, elsewhere.build()).status == Status::PinAuthInvalid);
}

TEST_CASE("getPinUvAuthTokenUsingUvWithPermissions: the errors, in the spec's order") {
  Harness h;
  Platform2 p(h);
  // Missing parameters.
  CHECK(h.call(kClientPin, Map{{1, 2}, {2, 6}, {3, p.platform_key()}}).status == Status::MissingParameter);
  CHECK(h.call(kClientPin, Map{{1, 2}, {2, 6}, {9, 1}}).status == Status::MissingParameter);
  CHECK(h.call(kClientPin, Map{{2, 6}, {3, p.platform_key()}, {9, 1}}).status == Status::MissingParameter);
  CHECK(h.call(kClientPin, Map{{1, 3}, {2, 6}, {3, p.platform_key()}, {9, 1}}).status == Status::InvalidParameter);
  CHECK(h.call(kClientPin, Map{{1, 2}, {2, 6}, {3, p.platform_key()}, {9, 0}}).status == Status::InvalidParameter);
  // 0x80 is no permission at all (0x40, pcmr, is granted since CTAP 2.2 support).
  CHECK(h.call(kClientPin, Map{{1, 2}, {2, 6}, {3, p.platform_key()}, {9, 0x80}}).status ==
        Status::UnauthorizedPermission);
  // No finger enrolled: NOT_ALLOWED.
  CHECK_FALSE(p.uv_token(kPermMc));
  CHECK(p.status() == Status::NotAllowed);
  CHECK(h.uv.request_count() == 0);
}

TEST_CASE("a be token from built-in UV enrolls more fingers (uvBioEnroll)") {
  Enrolled e;
  auto token = e.p.uv_token(kPermBe);
  REQUIRE(token);
  Response r = e.h.call(kBioEnrollment, bio_request(4, std::nullopt, token));
  REQUIRE(r.ok());
  CHECK(r.get(7)->as_array().size() == 1);
}

TEST_CASE("uvRetries survive the store: a fresh authenticator on the same state sees them") {
  Enrolled e;
  e.h.uv.set_mode(Mode::NoMatch);
  CHECK(e.h.call(kMakeCredential, with_uv().build()).status == Status::UvInvalid);
  e.h.auth->power_cycle();
  CHECK(*uv_retries(e.h).get(5) == cbor::Value(7));
}
