// The credProtect extension (CTAP 2.1 §12.1): the makeCredential input and
// output, the level kept with the credential (store and credential ID), the
// getAssertion rules that hide protected credentials without user verification,
// and the level reported by credential management.
#include "tests/unit/ctap_test_support.h"
#include "vauth/ctap/credential_id.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

constexpr uint8_t kCredentialManagement = 0x0a;
constexpr int kEnumerateCredentialsBegin = 0x04, kEnumerateCredentialsGetNextCredential = 0x05;
constexpr const char* kPin = "1234";

// credProtect levels.
constexpr int kOptional = 1, kOptionalWithList = 2, kRequired = 3;

MakeCredentialRequest with_protect(int level, bool resident, Bytes user_id = {0x01, 0x02, 0x03, 0x04}) {
  MakeCredentialRequest req;
  req.user_id = std::move(user_id);
  req.extensions = Map{{"credProtect", level}};
  if (resident) req.rk();
  return req;
}

// The credProtect output of a makeCredential, or nullopt if authData has no extensions.
std::optional<cbor::Value> protect_output(const Credential& c) {
  if (!c.auth_data.extensions) return std::nullopt;
  CHECK((c.auth_data.flags & kFlagED) != 0);
  return *c.auth_data.extensions;
}

// The level the credential ID carries (read with the device's master secret).
uint8_t id_level(const Harness& h, const Bytes& id) {
  auto secret = ctap::unwrap_credential_id(h.state().master_secret, rp_hash("example.com"), id);
  REQUIRE(secret.has_value());
  return secret->cred_protect();
}

// A getAssertion without UV, optionally through an allow list.
Response assert_plain(Harness& h, const std::optional<Bytes>& allow = {}) {
  GetAssertionRequest req;
  if (allow) req.allow(*allow);
  return h.call(kGetAssertion, req.build());
}

// A getAssertion with UV: a fresh PIN token (getPINToken, protocol 1) and its pinAuth.
Response assert_uv(Harness& h, PinClient& pin, const std::optional<Bytes>& allow = {}) {
  auto token = pin.get_pin_token(kPin);
  REQUIRE(token.has_value());
  GetAssertionRequest req;
  if (allow) req.allow(*allow);
  req.pin_auth = PinClient::pin_auth(*token, req.client_data_hash);
  req.pin_protocol = 1;
  return h.call(kGetAssertion, req.build());
}

}  // namespace

TEST_CASE("credProtect output appears only when the request asked for it") {
  Harness h;
  SUBCASE("no extensions: no ED flag, no output, level 1") {
    Credential c = make_credential(h);
    CHECK((c.auth_data.flags & kFlagED) == 0);
    CHECK_FALSE(c.auth_data.extensions.has_value());
    CHECK(id_level(h, c.id) == 1);
  }
  SUBCASE("each valid level is echoed") {
    for (int level : {kOptional, kOptionalWithList, kRequired}) {
      CAPTURE(level);
      Credential c = make_credential(h, with_protect(level, false));
      auto out = protect_output(c);
      REQUIRE(out.has_value());
      CHECK(*out == cbor::Value(Map{{"credProtect", level}}));
      CHECK(id_level(h, c.id) == level);
    }
  }
  SUBCASE("an invalid value is ignored: level 1, no output") {
    for (const cbor::Value& bad : {cbor::Value(0), cbor::Value(4), cbor::Value(-1), cbor::Value("3")}) {
      MakeCredentialRequest req;
      req.extensions = Map{{"credProtect", bad}};
      Credential c = *unpack_credential(h.call(kMakeCredential, req.build()));
      CHECK_FALSE(c.auth_data.extensions.has_value());
      CHECK(id_level(h, c.id) == 1);
    }
  }
  SUBCASE("unknown extensions alone produce no output") {
    MakeCredentialRequest req;
    req.extensions = Map{{"somethingElse", true}};
    Credential c = make_credential(h, req);
    CHECK_FALSE(c.auth_data.extensions.has_value());
  }
}

TEST_CASE("the level is stored: in the store for discoverable credentials, in the ID for all") {
  Harness h;
  Credential resident = make_credential(h, with_protect(kOptionalWithList, true));
  Credential plain = make_credential(h, with_protect(kRequired, false));
  const store::Credential* stored = h.state().find_credential(resident.id);
  REQUIRE(stored != nullptr);
  CHECK(stored->cred_protect == kOptionalWithList);
  CHECK(id_level(h, resident.id) == kOptionalWithList);
  CHECK(h.state().find_credential(plain.id) == nullptr);
  CHECK(id_level(h, plain.id) == kRequired);
}

TEST_CASE("level 2: hidden from a discoverable getAssertion without UV, found through an allow list") {
  Harness h;
  Credential open = make_credential(h, with_protect(kOptional, true, {0x0a}));
  Credential listed = make_credential(h, with_protect(kOptionalWithList, true, {0x0b}));
  PinClient pin(h);
  REQUIRE(pin.set_pin(kPin).ok());

  // Without UV only the level-1 credential is discoverable: one account, no numberOfCredentials.
  Assertion a = unpack_assertion(assert_plain(h));
  CHECK(a.credential_id == open.id);
  CHECK_FALSE(a.number_of_credentials.has_value());
  CHECK(h.call(kGetNextAssertion).status == Status::NotAllowed);

  // Named in an allow list, the level-2 credential works without UV.
  Assertion b = unpack_assertion(assert_plain(h, listed.id));
  CHECK(b.credential_id == listed.id);
  CHECK(verifies(listed.public_key, b, cdh(0x22)));

  // With UV both are discoverable.
  Assertion c = unpack_assertion(assert_uv(h, pin));
  CHECK(c.number_of_credentials == 2u);
  CHECK(c.auth_data.uv());
}

TEST_CASE("level 2 alone: a discoverable getAssertion without UV finds nothing") {
  Harness h;
  make_credential(h, with_protect(kOptionalWithList, true));
  CHECK(assert_plain(h).status == Status::NoCredentials);
}

TEST_CASE("level 3: NO_CREDENTIALS without UV, usable with UV") {
  Harness h;
  Credential resident = make_credential(h, with_protect(kRequired, true, {0x0c}));
  Credential plain = make_credential(h, with_protect(kRequired, false, {0x0d}));
  PinClient pin(h);
  REQUIRE(pin.set_pin(kPin).ok());

  CHECK(assert_plain(h).status == Status::NoCredentials);
  CHECK(assert_plain(h, resident.id).status == Status::NoCredentials);
  CHECK(assert_plain(h, plain.id).status == Status::NoCredentials);

  Assertion d = unpack_assertion(assert_uv(h, pin));
  CHECK(d.credential_id == resident.id);
  CHECK(d.auth_data.uv());
  Assertion r = unpack_assertion(assert_uv(h, pin, resident.id));
  CHECK(r.credential_id == resident.id);
  Assertion p = unpack_assertion(assert_uv(h, pin, plain.id));
  CHECK(p.credential_id == plain.id);
  CHECK(verifies(plain.public_key, p, cdh(0x22)));
}

TEST_CASE("level 3 in an excludeList without UV behaves as absent") {
  Harness h;
  Credential protected_cred = make_credential(h, with_protect(kRequired, false));
  Credential ordinary = make_credential(h);
  MakeCredentialRequest req;
  req.exclude_list = Array{descriptor(protected_cred.id)};
  CHECK(h.call(kMakeCredential, req.build()).ok());
  req.exclude_list = Array{descriptor(ordinary.id)};
  CHECK(h.call(kMakeCredential, req.build()).status == Status::CredentialExcluded);
}

TEST_CASE("enumerateCredentials reports each credential's level") {
  Harness h;
  Credential one = make_credential(h, with_protect(kOptional, true, {0x01}));
  Credential two = make_credential(h, with_protect(kOptionalWithList, true, {0x02}));
  Credential three = make_credential(h, with_protect(kRequired, true, {0x03}));
  PinClient pin(h);
  REQUIRE(pin.set_pin(kPin).ok());

  // getPinUvAuthTokenUsingPinWithPermissions (0x09) with cm (0x04), PIN protocol 1.
  REQUIRE(pin.refresh().ok());
  Response t = h.call(kClientPin, Map{{1, 1},
                                      {2, 9},
                                      {3, pin.platform_key()},
                                      {6, pin.encrypt(PinClient::pin_hash16(to_bytes(kPin)))},
                                      {9, 0x04}});
  REQUIRE(t.ok());
  REQUIRE(t.get(2));
  auto token = pin.decrypt(t.get(2)->as_bytes());
  REQUIRE(token.has_value());

  const Map params{{1, rp_hash("example.com")}};
  Bytes message{static_cast<uint8_t>(kEnumerateCredentialsBegin)};
  append(message, cbor::encode(cbor::Value(params)));
  Response r = h.call(kCredentialManagement, Map{{1, kEnumerateCredentialsBegin},
                                                 {2, params},
                                                 {3, 1},
                                                 {4, PinClient::left16_hmac(*token, message)}});
  std::map<Bytes, cbor::Value> levels;
  for (int k = 0; k < 3; ++k) {
    REQUIRE_MESSAGE(r.ok(), "enumerateCredentials failed: ", r.status);
    REQUIRE(r.get(7));
    REQUIRE(r.get(10));
    levels[r.get(7)->find("id")->as_bytes()] = *r.get(10);
    if (k < 2) r = h.call(kCredentialManagement, Map{{1, kEnumerateCredentialsGetNextCredential}});
  }
  CHECK(levels.at(one.id) == cbor::Value(kOptional));
  CHECK(levels.at(two.id) == cbor::Value(kOptionalWithList));
  CHECK(levels.at(three.id) == cbor::Value(kRequired));
}

TEST_CASE("getInfo lists the credProtect extension") {
  Harness h;
  Response r = h.call(kGetInfo);
  REQUIRE(r.ok());
  REQUIRE(r.get(2));
  REQUIRE(r.get(2)->is_array());
  const Array& extensions = r.get(2)->as_array();
  CHECK(std::count(extensions.begin(), extensions.end(), cbor::Value("credProtect")) == 1);
}
