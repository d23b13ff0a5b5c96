// Quirks: each one changes exactly the behaviour it names (docs/faults.md).
#include "ctap_test_support.h"

#include "vauth/ctap/quirks.h"

namespace vauth::ctaptest {
namespace {

ctap::Profile with(const char* quirk) {
  ctap::Profile p;
  auto err = ctap::apply_quirk(p, quirk);
  REQUIRE_MESSAGE(!err.has_value(), quirk);
  return p;
}

}  // namespace

TEST_CASE("apply_quirk knows every documented name and refuses others") {
  ctap::Profile p;
  for (const std::string& name : ctap::quirk_names()) {
    const std::string plain = name.substr(0, name.find('['));
    CHECK_MESSAGE(!ctap::apply_quirk(p, plain).has_value(), plain);
  }
  CHECK(p.quirks.reject_large_lists);
  CHECK(p.quirks.truncate_user_name == 64);
  CHECK(p.no_credentials_immediately);
  CHECK(!ctap::apply_quirk(p, "reject-silent=false").has_value());
  CHECK(!p.quirks.reject_silent);
  CHECK(ctap::apply_quirk(p, "be-weird").has_value());
  CHECK(ctap::apply_quirk(p, "reject-silent=maybe").has_value());
  CHECK(ctap::apply_quirk(p, "truncate-user-name=lots").has_value());
}

TEST_CASE("reject-large-lists: allow and exclude lists longer than one → LIMIT_EXCEEDED") {
  Harness h(with("reject-large-lists"));
  const Credential c = make_credential(h);
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).allow(Bytes(16, 1)).build()).status ==
        Status::LimitExceeded);
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).build()).ok());
  MakeCredentialRequest mc;
  mc.exclude_list = Array{descriptor(Bytes(16, 1)), descriptor(Bytes(16, 2))};
  CHECK(h.call(kMakeCredential, mc.build()).status == Status::LimitExceeded);
}

TEST_CASE("invalid-credential-before-touch: no allowList match → INVALID_CREDENTIAL, no prompt") {
  Harness h(with("invalid-credential-before-touch"));
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.allow(Bytes(16, 1)).build()).status == Status::InvalidCredential);
  CHECK(h.presence.request_count() == 0);
  Harness normal;
  CHECK(normal.call(kGetAssertion, GetAssertionRequest{}.allow(Bytes(16, 1)).build()).status == Status::NoCredentials);
  CHECK(normal.presence.request_count() == 1);
}

TEST_CASE("reject-silent: up=false → UNSUPPORTED_OPTION") {
  Harness h(with("reject-silent"));
  const Credential c = make_credential(h);
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).option("up", false).build()).status ==
        Status::UnsupportedOption);
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).build()).ok());
}

TEST_CASE("omit-user-entity and omit-single-credential trim assertions") {
  Harness h2([] {
    ctap::Profile p = with("omit-user-entity");
    REQUIRE(!ctap::apply_quirk(p, "omit-single-credential"));
    return p;
  }());
  MakeCredentialRequest rk;
  rk.rk();
  const Credential c = make_credential(h2, rk);
  const Response discoverable = h2.call(kGetAssertion, GetAssertionRequest{}.build());
  REQUIRE(discoverable.ok());
  CHECK(discoverable.get(4) == nullptr);  // no user entity
  CHECK(discoverable.get(1) != nullptr);  // no allowList: the credential is needed
  const Response single = h2.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).build());
  REQUIRE(single.ok());
  CHECK(single.get(1) == nullptr);
  CHECK(single.get(2) != nullptr);
}

TEST_CASE("reject-empty-display-name: a user without displayName → MISSING_PARAMETER") {
  Harness h(with("reject-empty-display-name"));
  MakeCredentialRequest mc;
  mc.user_display_name = "";
  CHECK(h.call(kMakeCredential, mc.build()).status == Status::MissingParameter);
  CHECK(h.call(kMakeCredential, MakeCredentialRequest{}.build()).ok());
}

TEST_CASE("u2f-invisible-to-ctap2: a U2F registration is unknown to getAssertion") {
  for (bool quirk : {false, true}) {
    CAPTURE(quirk);
    Harness h(quirk ? with("u2f-invisible-to-ctap2") : ctap::Profile{});
    Bytes data(32, 0xc1);
    append(data, crypto::sha256(to_bytes("example.com")));
    const Bytes reply = h.msg(apdu_short(0x01, 0x00, data));
    REQUIRE(status_word(reply) == 0x9000);
    const Bytes d = data_of(reply);
    const Bytes handle(d.begin() + 67, d.begin() + 67 + d[66]);
    const Status st = h.call(kGetAssertion, GetAssertionRequest{}.allow(handle).build()).status;
    CHECK(st == (quirk ? Status::NoCredentials : Status::Ok));
  }
}

TEST_CASE("truncate-user-name cuts stored names at a byte count, UTF-8 or not") {
  Harness h(with("truncate-user-name=5"));
  MakeCredentialRequest mc;
  mc.rk();
  mc.user_name = "h\xc3\xa9h\xc3\xa9!";  // "héhé!": byte 5 is inside the second é
  make_credential(h, mc);
  REQUIRE(h.state().credentials.size() == 1);
  const store::Credential& c = h.state().credentials.begin()->second;
  CHECK(c.user_name == "h\xc3\xa9h\xc3");
  CHECK(c.user_display_name == "Alice");
}

TEST_CASE("reject-extensions: any extension on makeCredential or getAssertion → UNSUPPORTED_EXTENSION") {
  Harness h(with("reject-extensions"));
  MakeCredentialRequest mc;
  mc.extensions = Map{{"credProtect", 2}};
  CHECK(h.call(kMakeCredential, mc.build()).status == Status::UnsupportedExtension);
  CHECK(h.state().credentials.empty());
  const Credential c = make_credential(h);
  Map ga = GetAssertionRequest{}.allow(c.id).build();
  ga[4] = Map{{"hmac-secret", Map{}}};
  CHECK(h.call(kGetAssertion, ga).status == Status::UnsupportedExtension);
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).build()).ok());
  Harness normal;
  CHECK(normal.call(kMakeCredential, mc.build()).ok());
}

TEST_CASE("attested-data-in-assertion: getAssertion authData carries AT and the credential") {
  Harness h(with("attested-data-in-assertion"));
  const Credential c = make_credential(h);
  const Assertion a = unpack_assertion(h.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).build()));
  CHECK(a.auth_data.at());
  CHECK(a.auth_data.credential_id == c.id);
  REQUIRE(a.auth_data.public_key.has_value());
  CHECK(a.auth_data.public_key->verify(concat(a.raw_auth_data, GetAssertionRequest{}.client_data_hash), a.signature));
  Harness normal;
  const Credential n = make_credential(normal);
  CHECK(!unpack_assertion(normal.call(kGetAssertion, GetAssertionRequest{}.allow(n.id).build())).auth_data.at());
}

TEST_CASE("always-ep-att: makeCredential claims enterprise attestation nobody asked for") {
  Harness h(with("always-ep-att"));
  const Response r = h.call(kMakeCredential, MakeCredentialRequest{}.build());
  REQUIRE(r.ok());
  REQUIRE(r.get(4) != nullptr);
  CHECK(*r.get(4) == cbor::Value(true));
  Harness normal;
  CHECK(normal.call(kMakeCredential, MakeCredentialRequest{}.build()).get(4) == nullptr);
}

TEST_CASE("never-include-credential: assertions leave out the credential even without an allowList") {
  Harness h(with("never-include-credential"));
  MakeCredentialRequest rk;
  rk.rk();
  const Credential c = make_credential(h, rk);
  const Response discoverable = h.call(kGetAssertion, GetAssertionRequest{}.build());
  REQUIRE(discoverable.ok());
  CHECK(discoverable.get(1) == nullptr);
  CHECK(discoverable.get(3) != nullptr);
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.allow(c.id).build()).get(1) == nullptr);
}

}  // namespace vauth::ctaptest
