// authenticatorClientPIN with PIN protocol 1 (CTAP 2.0 §5.5), played from the
// platform side: ECDH with our own P-256 key, sharedSecret = SHA-256(Z.x),
// AES-256-CBC with a zero IV, pinAuth = LEFT(HMAC-SHA-256(key, msg), 16).
#include "ctap_test_support.h"

namespace vauth::ctaptest {
namespace {

uint64_t retries_of(Harness& h) {
  Response r = h.call(kClientPin, Map{{1, 1}, {2, 1}});
  REQUIRE(r.ok());
  const cbor::Value* v = r.get(3);
  REQUIRE(v);
  REQUIRE(v->is_unsigned());
  return v->as_unsigned();
}

bool info_client_pin(Harness& h) {
  Response r = h.call(kGetInfo);
  REQUIRE(r.ok());
  const cbor::Value* opts = r.get(4);
  REQUIRE(opts);
  const cbor::Value* cp = opts->find("clientPin");
  REQUIRE(cp);
  REQUIRE(cp->is_bool());
  return cp->as_bool();
}

// makeCredential with pinAuth made from `token`.
Status make_credential_with_token(Harness& h, const Bytes& token) {
  MakeCredentialRequest req;
  req.pin_protocol = 1;
  req.pin_auth = PinClient::pin_auth(token, req.client_data_hash);
  return h.call(kMakeCredential, req.build()).status;
}

TEST_CASE("clientPIN getRetries starts at 8, with powerCycleState false") {
  Harness h;
  Response r = h.call(kClientPin, Map{{1, 1}, {2, 1}});
  REQUIRE(r.ok());
  REQUIRE(r.body.has_value());
  CHECK(r.body->as_map().size() == 2);
  REQUIRE(r.get(3));
  CHECK(*r.get(3) == cbor::Value(8));
  REQUIRE(r.get(4));
  CHECK(*r.get(4) == cbor::Value(false));
  // CTAP 2.1: getPINRetries needs no pinUvAuthProtocol.
  CHECK(h.call(kClientPin, Map{{2, 1}}).status == Status::Ok);
}

TEST_CASE("clientPIN getKeyAgreement returns a P-256 COSE key (alg -25), stable until power cycle") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.refresh().ok());
  const Map key = pin.authenticator_key();
  CHECK(key.at(cbor::Value(1)) == cbor::Value(2));     // kty EC2
  CHECK(key.at(cbor::Value(3)) == cbor::Value(-25));   // ECDH-ES+HKDF-256
  CHECK(key.at(cbor::Value(-1)) == cbor::Value(1));    // P-256
  CHECK(key.at(cbor::Value(-2)).as_bytes().size() == 32);
  CHECK(key.at(cbor::Value(-3)).as_bytes().size() == 32);

  REQUIRE(pin.refresh().ok());
  CHECK(pin.authenticator_key() == key);
  h.auth->power_cycle();
  REQUIRE(pin.refresh().ok());
  CHECK(pin.authenticator_key() != key);
}

TEST_CASE("clientPIN setPIN, then getPINToken") {
  Harness h;
  PinClient pin(h);
  CHECK_FALSE(info_client_pin(h));
  Response r = pin.set_pin("1234");
  CHECK(r.status == Status::Ok);
  CHECK(r.raw.size() == 1);
  CHECK(info_client_pin(h));
  REQUIRE(h.state().pin_hash.has_value());
  CHECK(*h.state().pin_hash == PinClient::pin_hash16(to_bytes("1234")));
  CHECK(h.state().pin_retries == 8);
  CHECK(retries_of(h) == 8);

  auto token = pin.get_pin_token("1234");
  REQUIRE(token.has_value());
  CHECK(token->size() >= 16);
  CHECK(token->size() % 16 == 0);
  CHECK(make_credential_with_token(h, *token) == Status::Ok);
}

TEST_CASE("clientPIN setPIN length policy: 4 code points minimum, 63 bytes maximum") {
  Harness h;
  PinClient pin(h);

  SUBCASE("3 ASCII characters") {
    CHECK(pin.set_pin("123").status == Status::PinPolicyViolation);
    CHECK_FALSE(h.state().pin_hash.has_value());
  }
  SUBCASE("3 code points in 9 bytes") {
    CHECK(pin.set_pin("\u20ac\u20ac\u20ac").status == Status::PinPolicyViolation);  // €€€
    CHECK_FALSE(h.state().pin_hash.has_value());
  }
  SUBCASE("empty") {
    CHECK(pin.set_pin("").status == Status::PinPolicyViolation);
    CHECK_FALSE(h.state().pin_hash.has_value());
  }
  SUBCASE("4 multibyte code points") {
    const std::string p = "\u00fc\u20ac\U0001d11e\u00df";  // ü € 𝄞 ß: 11 bytes
    REQUIRE(p.size() == 11);
    CHECK(pin.set_pin(p).status == Status::Ok);
    CHECK(pin.get_pin_token(p).has_value());
  }
  SUBCASE("63 bytes") {
    const std::string p(63, '7');
    CHECK(pin.set_pin(p).status == Status::Ok);
    CHECK(pin.get_pin_token(p).has_value());
  }
  SUBCASE("64 bytes") {
    CHECK(pin.set_pin(std::string(64, '7')).status == Status::PinPolicyViolation);
    CHECK_FALSE(h.state().pin_hash.has_value());
  }
  SUBCASE("70 bytes padded to 80") {
    // CTAP 2.1 §6.5.5.5: the padded PIN is exactly 64 bytes; anything else is malformed.
    CHECK(pin.set_pin(std::string(70, '7')).status == Status::InvalidParameter);
    CHECK_FALSE(h.state().pin_hash.has_value());
  }
}

TEST_CASE("clientPIN setPIN when a PIN exists is refused and the PIN stays") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  Response again = pin.set_pin("5678");
  CHECK(again.replied);
  CHECK(again.status != Status::Ok);
  CHECK(pin.get_pin_token("1234").has_value());
  CHECK_FALSE(pin.get_pin_token("5678").has_value());
}

TEST_CASE("clientPIN setPIN with a bad pinAuth → PIN_AUTH_INVALID") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.refresh().ok());
  const Bytes new_pin_enc = pin.encrypt(PinClient::pad_pin(to_bytes("1234")));
  Bytes auth = PinClient::left16_hmac(pin.shared_secret(), new_pin_enc);
  auth[0] ^= 1;
  Response r = h.call(kClientPin, Map{{1, 1}, {2, 3}, {3, pin.platform_key()}, {4, auth}, {5, new_pin_enc}});
  CHECK(r.status == Status::PinAuthInvalid);
  CHECK_FALSE(h.state().pin_hash.has_value());
}

TEST_CASE("clientPIN setPIN with a newPinEnc shorter than 64 bytes is refused") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.refresh().ok());
  Bytes padded = to_bytes("1234");
  padded.resize(32, 0);
  const Bytes new_pin_enc = pin.encrypt(padded);
  Response r = h.call(kClientPin, Map{{1, 1},
                                      {2, 3},
                                      {3, pin.platform_key()},
                                      {4, PinClient::left16_hmac(pin.shared_secret(), new_pin_enc)},
                                      {5, new_pin_enc}});
  CHECK(r.status != Status::Ok);
  CHECK_FALSE(h.state().pin_hash.has_value());
}

TEST_CASE("clientPIN setPIN missing parameters → MISSING_PARAMETER") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.refresh().ok());
  const Bytes new_pin_enc = pin.encrypt(PinClient::pad_pin(to_bytes("1234")));
  Map m{{1, 1}, {2, 3}, {3, pin.platform_key()}, {4, PinClient::left16_hmac(pin.shared_secret(), new_pin_enc)},
        {5, new_pin_enc}};
  SUBCASE("keyAgreement") { m.erase(cbor::Value(3)); }
  SUBCASE("pinAuth") { m.erase(cbor::Value(4)); }
  SUBCASE("newPinEnc") { m.erase(cbor::Value(5)); }
  CHECK(h.call(kClientPin, m).status == Status::MissingParameter);
  CHECK_FALSE(h.state().pin_hash.has_value());
}

TEST_CASE("clientPIN keyAgreement that is not a P-256 point → INVALID_PARAMETER") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.refresh().ok());
  const Bytes new_pin_enc = pin.encrypt(PinClient::pad_pin(to_bytes("1234")));
  Map bad = pin.platform_key();
  bad[cbor::Value(-3)] = Bytes(32, 0x01);  // (x, 1) is not on the curve
  Response r = h.call(kClientPin, Map{{1, 1},
                                      {2, 3},
                                      {3, bad},
                                      {4, PinClient::left16_hmac(pin.shared_secret(), new_pin_enc)},
                                      {5, new_pin_enc}});
  CHECK(r.status == Status::InvalidParameter);
  CHECK_FALSE(h.state().pin_hash.has_value());
}

TEST_CASE("clientPIN getPINToken without a PIN → PIN_NOT_SET") {
  Harness h;
  PinClient pin(h);
  CHECK_FALSE(pin.get_pin_token("1234").has_value());
  CHECK(pin.last_status() == Status::PinNotSet);
}

TEST_CASE("clientPIN wrong PIN: PIN_INVALID, retries decremented and persisted; right PIN restores") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  const size_t commits = h.store.commit_count();

  CHECK_FALSE(pin.get_pin_token("9999").has_value());
  CHECK(pin.last_status() == Status::PinInvalid);
  CHECK(h.state().pin_retries == 7);
  CHECK(h.store.commit_count() > commits);
  CHECK(retries_of(h) == 7);

  CHECK_FALSE(pin.get_pin_token("12345").has_value());
  CHECK(pin.last_status() == Status::PinInvalid);
  CHECK(h.state().pin_retries == 6);
  CHECK(retries_of(h) == 6);

  CHECK(pin.get_pin_token("1234").has_value());
  CHECK(h.state().pin_retries == 8);
  CHECK(retries_of(h) == 8);
}

TEST_CASE("clientPIN: 3 wrong PINs in a row → PIN_AUTH_BLOCKED until power cycle") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());

  CHECK_FALSE(pin.get_pin_token("0000").has_value());
  CHECK(pin.last_status() == Status::PinInvalid);
  CHECK_FALSE(pin.get_pin_token("0001").has_value());
  CHECK(pin.last_status() == Status::PinInvalid);
  CHECK_FALSE(pin.get_pin_token("0002").has_value());
  CHECK(pin.last_status() == Status::PinAuthBlocked);
  CHECK(h.state().pin_retries == 5);

  // Blocked: even the right PIN is refused, and blocked attempts do not cost retries.
  CHECK_FALSE(pin.get_pin_token("1234").has_value());
  CHECK(pin.last_status() == Status::PinAuthBlocked);
  CHECK(h.state().pin_retries == 5);
  CHECK(pin.change_pin("1234", "5678").status == Status::PinAuthBlocked);
  CHECK(h.state().pin_retries == 5);

  h.auth->power_cycle();
  CHECK(retries_of(h) == 5);
  auto token = pin.get_pin_token("1234");
  CHECK(token.has_value());
  CHECK(h.state().pin_retries == 8);
}

TEST_CASE("clientPIN: a right PIN in between resets the consecutive count") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  for (int round = 0; round < 3; ++round) {
    CHECK_FALSE(pin.get_pin_token("0000").has_value());
    CHECK(pin.last_status() == Status::PinInvalid);
    CHECK_FALSE(pin.get_pin_token("0000").has_value());
    CHECK(pin.last_status() == Status::PinInvalid);
    CHECK(pin.get_pin_token("1234").has_value());
  }
}

TEST_CASE("clientPIN: 8 wrong PINs in total → PIN_BLOCKED, and then even the right PIN") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());

  std::vector<Status> seen;
  for (int attempt = 1; attempt <= 8; ++attempt) {
    CHECK_FALSE(pin.get_pin_token("0000").has_value());
    seen.push_back(pin.last_status());
    if (attempt % 3 == 0) h.auth->power_cycle();  // get past PIN_AUTH_BLOCKED
  }
  const std::vector<Status> expected{Status::PinInvalid, Status::PinInvalid, Status::PinAuthBlocked,
                                     Status::PinInvalid, Status::PinInvalid, Status::PinAuthBlocked,
                                     Status::PinInvalid, Status::PinBlocked};
  CHECK(seen == expected);
  CHECK(h.state().pin_retries == 0);
  CHECK(retries_of(h) == 0);

  CHECK_FALSE(pin.get_pin_token("1234").has_value());
  CHECK(pin.last_status() == Status::PinBlocked);
  h.auth->power_cycle();
  CHECK_FALSE(pin.get_pin_token("1234").has_value());
  CHECK(pin.last_status() == Status::PinBlocked);
  CHECK(pin.change_pin("1234", "5678").status == Status::PinBlocked);
  CHECK(h.state().pin_retries == 0);
}

TEST_CASE("clientPIN changePIN: new PIN works, old PIN and old token stop working") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  auto old_token = pin.get_pin_token("1234");
  REQUIRE(old_token.has_value());
  REQUIRE(make_credential_with_token(h, *old_token) == Status::Ok);

  Response r = pin.change_pin("1234", "abcdef");
  CHECK(r.status == Status::Ok);
  CHECK(*h.state().pin_hash == PinClient::pin_hash16(to_bytes("abcdef")));
  CHECK(h.state().pin_retries == 8);

  CHECK(make_credential_with_token(h, *old_token) == Status::PinAuthInvalid);
  CHECK_FALSE(pin.get_pin_token("1234").has_value());
  CHECK(pin.last_status() == Status::PinInvalid);
  auto new_token = pin.get_pin_token("abcdef");
  REQUIRE(new_token.has_value());
  CHECK(make_credential_with_token(h, *new_token) == Status::Ok);
}

TEST_CASE("clientPIN changePIN failures") {
  Harness h;
  PinClient pin(h);

  SUBCASE("no PIN set → PIN_NOT_SET") {
    CHECK(pin.change_pin("1234", "5678").status == Status::PinNotSet);
    CHECK_FALSE(h.state().pin_hash.has_value());
  }
  SUBCASE("wrong current PIN → PIN_INVALID, retries decremented, PIN unchanged") {
    REQUIRE(pin.set_pin("1234").ok());
    CHECK(pin.change_pin("4321", "5678").status == Status::PinInvalid);
    CHECK(h.state().pin_retries == 7);
    CHECK(*h.state().pin_hash == PinClient::pin_hash16(to_bytes("1234")));
  }
  SUBCASE("bad pinAuth → PIN_AUTH_INVALID before any retry is spent") {
    REQUIRE(pin.set_pin("1234").ok());
    REQUIRE(pin.refresh().ok());
    const Bytes new_pin_enc = pin.encrypt(PinClient::pad_pin(to_bytes("5678")));
    const Bytes pin_hash_enc = pin.encrypt(PinClient::pin_hash16(to_bytes("1234")));
    Bytes auth = PinClient::left16_hmac(pin.shared_secret(), new_pin_enc);  // not over pinHashEnc
    Response r = h.call(kClientPin, Map{{1, 1}, {2, 4}, {3, pin.platform_key()}, {4, auth}, {5, new_pin_enc},
                                        {6, pin_hash_enc}});
    CHECK(r.status == Status::PinAuthInvalid);
    CHECK(h.state().pin_retries == 8);
    CHECK(*h.state().pin_hash == PinClient::pin_hash16(to_bytes("1234")));
  }
  SUBCASE("new PIN too short → PIN_POLICY_VIOLATION, old PIN stays") {
    REQUIRE(pin.set_pin("1234").ok());
    CHECK(pin.change_pin("1234", "12").status == Status::PinPolicyViolation);
    CHECK(*h.state().pin_hash == PinClient::pin_hash16(to_bytes("1234")));
    CHECK(pin.get_pin_token("1234").has_value());
  }
  SUBCASE("missing pinHashEnc → MISSING_PARAMETER") {
    REQUIRE(pin.set_pin("1234").ok());
    REQUIRE(pin.refresh().ok());
    const Bytes new_pin_enc = pin.encrypt(PinClient::pad_pin(to_bytes("5678")));
    Response r = h.call(kClientPin, Map{{1, 1}, {2, 4}, {3, pin.platform_key()},
                                        {4, PinClient::left16_hmac(pin.shared_secret(), new_pin_enc)},
                                        {5, new_pin_enc}});
    CHECK(r.status == Status::MissingParameter);
    CHECK(h.state().pin_retries == 8);
  }
}

TEST_CASE("clientPIN: a failed PIN check regenerates the key agreement key") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  REQUIRE(pin.refresh().ok());
  const Map before = pin.authenticator_key();

  CHECK_FALSE(pin.get_pin_token("0000", /*refresh_first=*/false).has_value());
  CHECK(pin.last_status() == Status::PinInvalid);
  // The old shared secret no longer decrypts: the right PIN under it fails too.
  CHECK_FALSE(pin.get_pin_token("1234", /*refresh_first=*/false).has_value());
  CHECK(pin.last_status() == Status::PinInvalid);
  CHECK(h.state().pin_retries == 6);

  REQUIRE(pin.refresh().ok());
  CHECK(pin.authenticator_key() != before);
  CHECK(pin.get_pin_token("1234", /*refresh_first=*/false).has_value());
}

TEST_CASE("clientPIN: the same shared secret keeps working after a success") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  REQUIRE(pin.refresh().ok());
  auto t1 = pin.get_pin_token("1234", false);
  auto t2 = pin.get_pin_token("1234", false);
  REQUIRE(t1.has_value());
  REQUIRE(t2.has_value());
}

TEST_CASE("clientPIN: the PIN token does not survive a power cycle") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  auto token = pin.get_pin_token("1234");
  REQUIRE(token.has_value());
  CHECK(make_credential_with_token(h, *token) == Status::Ok);
  h.auth->power_cycle();
  CHECK(make_credential_with_token(h, *token) == Status::PinAuthInvalid);
  auto fresh = pin.get_pin_token("1234");
  REQUIRE(fresh.has_value());
  CHECK(*fresh != *token);
  CHECK(make_credential_with_token(h, *fresh) == Status::Ok);
}

TEST_CASE("clientPIN request errors") {
  Harness h;
  SUBCASE("unknown subcommand → INVALID_SUBCOMMAND") {
    CHECK(h.call(kClientPin, Map{{1, 1}, {2, 0x10}}).status == Status::InvalidSubcommand);
    CHECK(h.call(kClientPin, Map{{1, 1}, {2, 0}}).status == Status::InvalidSubcommand);
    CHECK(h.call(kClientPin, Map{{1, 1}, {2, 8}}).status == Status::InvalidSubcommand);
    // Without built-in user verification, getUVRetries does not exist (ctap_built_in_uv_test has the rest).
    ctap::Profile no_uv;
    no_uv.built_in_uv = false;
    Harness plain(no_uv);
    CHECK(plain.call(kClientPin, Map{{1, 1}, {2, 7}}).status == Status::InvalidSubcommand);
  }
  SUBCASE("unsupported protocol → INVALID_PARAMETER") {
    CHECK(h.call(kClientPin, Map{{1, 3}, {2, 1}}).status == Status::InvalidParameter);
    CHECK(h.call(kClientPin, Map{{1, 0}, {2, 2}}).status == Status::InvalidParameter);
    CHECK(h.call(kClientPin, Map{{1, 99}, {2, 5}}).status == Status::InvalidParameter);
  }
  SUBCASE("missing pinProtocol or subCommand → MISSING_PARAMETER") {
    CHECK(h.call(kClientPin, Map{{2, 2}}).status == Status::MissingParameter);
    CHECK(h.call(kClientPin, Map{{1, 1}}).status == Status::MissingParameter);
    CHECK(h.call(kClientPin, Map{}).status == Status::MissingParameter);
  }
  SUBCASE("wrong types → CBOR_UNEXPECTED_TYPE") {
    CHECK(h.call(kClientPin, Map{{1, "1"}, {2, 1}}).status == Status::CborUnexpectedType);
    CHECK(h.call(kClientPin, Map{{1, 1}, {2, Bytes{1}}}).status == Status::CborUnexpectedType);
    PinClient pin(h);
    REQUIRE(pin.refresh().ok());
    CHECK(h.call(kClientPin, Map{{1, 1}, {2, 5}, {3, Array{}}, {6, Bytes(16, 0)}}).status != Status::Ok);
  }
}

}  // namespace
}  // namespace vauth::ctaptest
