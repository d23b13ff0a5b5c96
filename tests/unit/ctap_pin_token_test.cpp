// CTAP 2.1 pinUvAuthTokens (§6.5.5.7, §6.5.2.1): permissions, RP binding,
// single use of mc/ga, expiry, revocation, and PIN/UV auth protocol 2 end to
// end. The platform side of protocol 2 is written here from the spec with raw
// primitives, not with the authenticator's PinProtocolV2.
#include <doctest/doctest.h>

#include "tests/unit/ctap_test_support.h"

using namespace vauth;
using namespace vauth::ctaptest;
using namespace std::chrono_literals;

namespace {

constexpr int kMc = 0x01, kGa = 0x02, kCm = 0x04, kBe = 0x08, kAcfg = 0x20;

class Platform2 {
 public:
  explicit Platform2(Harness& h) : h_(h), rng_(0x2222), key_(crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng_)) {}

  // getKeyAgreement; shared secret = HKDF(Z, "CTAP2 HMAC key") || HKDF(Z, "CTAP2 AES key").
  void refresh() {
    Response r = h_.call(kClientPin, Map{{1, 2}, {2, 2}});
    REQUIRE(r.ok());
    const cbor::Value* ka = r.get(1);
    REQUIRE(ka);
    auto peer = crypto::PublicKey::p256(ka->find(-2)->as_bytes(), ka->find(-3)->as_bytes());
    REQUIRE(peer);
    auto z = key_.ecdh_x(*peer);
    REQUIRE(z);
    const Bytes salt(32, 0);
    hmac_key_ = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 HMAC key"), 32);
    aes_key_ = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 AES key"), 32);
  }
  Map platform_key() const {
    return Map{{1, 2}, {3, -25}, {-1, 1}, {-2, key_.public_key().x()}, {-3, key_.public_key().y()}};
  }
  Bytes encrypt(ByteView plain) {
    Bytes iv = rng_.bytes(16);
    append(iv, *crypto::aes256_cbc_encrypt(aes_key_, ByteView(iv).first(16), plain));
    return iv;
  }
  std::optional<Bytes> decrypt(ByteView c) const {
    if (c.size() < 16) return std::nullopt;
    return crypto::aes256_cbc_decrypt(aes_key_, c.first(16), c.subspan(16));
  }

  Response set_pin(std::string_view pin) {
    refresh();
    Bytes padded = to_bytes(pin);
    padded.resize(64, 0);
    const Bytes enc = encrypt(padded);
    return h_.call(kClientPin, Map{{1, 2}, {2, 3}, {3, platform_key()}, {4, crypto::hmac_sha256(hmac_key_, enc)},
                                   {5, enc}});
  }

  Response token_raw(std::string_view pin, std::optional<int> permissions, std::optional<std::string> rp_id,
                     int subcommand = 9) {
    refresh();
    Bytes hash = crypto::sha256(to_bytes(pin));
    hash.resize(16);
    Map m{{1, 2}, {2, subcommand}, {3, platform_key()}, {6, encrypt(hash)}};
    if (permissions) m[9] = *permissions;
    if (rp_id) m[0x0a] = *rp_id;
    return h_.call(kClientPin, m);
  }
  // The decrypted token, or the failing status.
  std::optional<Bytes> token(std::string_view pin, int permissions, std::optional<std::string> rp_id = {}) {
    Response r = token_raw(pin, permissions, std::move(rp_id));
    status_ = r.status;
    if (!r.ok()) return std::nullopt;
    auto t = decrypt(r.get(2)->as_bytes());
    REQUIRE(t);
    REQUIRE(t->size() == 32);
    return t;
  }
  Status status() const { return status_; }

  // Protocol 2 pinUvAuthParam: the full 32-byte HMAC.
  static Bytes auth(ByteView token, ByteView msg) { return crypto::hmac_sha256(token, msg); }

 private:
  Harness& h_;
  crypto::SeededRng rng_;
  crypto::PrivateKey key_;
  Bytes hmac_key_, aes_key_;
  Status status_ = Status::Other;
};

Response make_with(Harness& h, const Bytes& token, std::string rp = "example.com", bool resident = false) {
  MakeCredentialRequest req;
  req.rp_id = std::move(rp);
  if (resident) req.rk();
  req.pin_protocol = 2;
  req.pin_auth = Platform2::auth(token, req.client_data_hash);
  return h.call(kMakeCredential, req.build());
}

Response assert_with(Harness& h, const Bytes& token, std::string rp = "example.com") {
  GetAssertionRequest req;
  req.rp_id = std::move(rp);
  req.pin_protocol = 2;
  req.pin_auth = Platform2::auth(token, req.client_data_hash);
  return h.call(kGetAssertion, req.build());
}

}  // namespace

TEST_CASE("protocol 2: set a PIN, get a token with permissions, make and get a UV credential") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  CHECK(h.state().pin_hash.has_value());

  auto t = p.token("4321", kMc | kGa, "example.com");
  REQUIRE(t);
  Response mc = make_with(h, *t, "example.com", true);
  REQUIRE(mc.ok());
  Credential c = unpack_credential(mc).value();
  CHECK(c.auth_data.uv());

  auto t2 = p.token("4321", kGa, "example.com");
  REQUIRE(t2);
  Response ga = assert_with(h, *t2);
  REQUIRE(ga.ok());
  Assertion a = unpack_assertion(ga);
  CHECK(a.auth_data.uv());
}

TEST_CASE("getPinUvAuthTokenUsingPinWithPermissions: permission checks") {
  // Without the sensor and authenticatorConfig, be and acfg cannot be granted.
  ctap::Profile profile;
  profile.built_in_uv = false;
  profile.authenticator_config = false;
  Harness h(profile);
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  SUBCASE("no permissions") {
    CHECK_FALSE(p.token("4321", 0));
    CHECK(p.status() == Status::InvalidParameter);
  }
  SUBCASE("permissions this key cannot grant") {
    for (int perm : {kBe, kAcfg, kMc | kBe}) {
      CAPTURE(perm);
      CHECK_FALSE(p.token("4321", perm));
      CHECK(p.status() == Status::UnauthorizedPermission);
    }
    CHECK(h.state().pin_retries == 8);  // refused before the PIN was even checked
  }
  SUBCASE("missing permissions") {
    Response r = p.token_raw("4321", std::nullopt, std::nullopt);
    CHECK(r.status == Status::MissingParameter);
  }
  SUBCASE("getPinToken takes neither permissions nor rpId") {
    CHECK(p.token_raw("4321", kMc, std::nullopt, 5).status == Status::InvalidParameter);
    CHECK(p.token_raw("4321", std::nullopt, "example.com", 5).status == Status::InvalidParameter);
  }
  SUBCASE("wrong PIN spends a retry") {
    CHECK_FALSE(p.token("0000", kMc));
    CHECK(p.status() == Status::PinInvalid);
    CHECK(h.state().pin_retries == 7);
  }
  SUBCASE("cm is granted") { CHECK(p.token("4321", kCm)); }
}

TEST_CASE("a token without the needed permission is PIN_AUTH_INVALID") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  auto ga_only = p.token("4321", kGa);
  REQUIRE(ga_only);
  CHECK(make_with(h, *ga_only).status == Status::PinAuthInvalid);
  auto mc_only = p.token("4321", kMc);
  REQUIRE(mc_only);
  make_credential(h);  // something to assert
  CHECK(assert_with(h, *mc_only).status == Status::PinAuthInvalid);
}

TEST_CASE("a token given an rpId works for that RP only") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  auto t = p.token("4321", kMc, "a.example");
  REQUIRE(t);
  CHECK(make_with(h, *t, "b.example").status == Status::PinAuthInvalid);
  CHECK(make_with(h, *t, "a.example").status == Status::Ok);
}

TEST_CASE("mc and ga permissions are used up by one request") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  auto t = p.token("4321", kMc | kGa);
  REQUIRE(t);
  REQUIRE(make_with(h, *t, "example.com", true).ok());
  CHECK(make_with(h, *t).status == Status::PinAuthInvalid);
  CHECK(assert_with(h, *t).status == Status::PinAuthInvalid);
}

TEST_CASE("an unused token expires after the initial usage limit (30 s)") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  auto t = p.token("4321", kMc);
  REQUIRE(t);
  SUBCASE("within the limit") {
    h.advance(29s);
    CHECK(make_with(h, *t).status == Status::Ok);
  }
  SUBCASE("after it") {
    h.advance(31s);
    CHECK(make_with(h, *t).status == Status::PinAuthInvalid);
  }
}

TEST_CASE("tokens stop working: new grant, PIN change, power cycle, other protocol") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  auto t = p.token("4321", kMc);
  REQUIRE(t);
  SUBCASE("a new grant replaces it") {
    REQUIRE(p.token("4321", kMc));
    CHECK(make_with(h, *t).status == Status::PinAuthInvalid);
  }
  SUBCASE("power cycle") {
    h.auth->power_cycle();
    CHECK(make_with(h, *t).status == Status::PinAuthInvalid);
  }
  SUBCASE("protocol 1 with a protocol 2 token") {
    MakeCredentialRequest req;
    req.pin_protocol = 1;
    Bytes mac = Platform2::auth(*t, req.client_data_hash);
    mac.resize(16);
    req.pin_auth = mac;
    CHECK(h.call(kMakeCredential, req.build()).status == Status::PinAuthInvalid);
  }
  SUBCASE("unsupported protocol") {
    MakeCredentialRequest req;
    req.pin_protocol = 3;
    req.pin_auth = Platform2::auth(*t, req.client_data_hash);
    CHECK(h.call(kMakeCredential, req.build()).status == Status::InvalidParameter);
  }
  SUBCASE("changePIN (protocol 1 platform)") {
    PinClient p1(h);
    REQUIRE(p1.change_pin("4321", "5678").ok());
    CHECK(make_with(h, *t).status == Status::PinAuthInvalid);
  }
}

TEST_CASE("protocol 2: a malformed pinHashEnc is refused without spending a retry") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin("4321").ok());
  p.refresh();
  Map m{{1, 2}, {2, 9}, {3, p.platform_key()}, {6, Bytes(20, 0x41)}, {9, kMc}};
  CHECK(h.call(kClientPin, m).status == Status::InvalidParameter);
  CHECK(h.state().pin_retries == 8);
}
