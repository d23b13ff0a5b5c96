// authenticatorGetAssertion and authenticatorGetNextAssertion (CTAP 2.0 §5.2-5.3,
// CTAP 2.1 §6.2-6.3): signatures verified with the public keys makeCredential
// returned, discoverable credential ordering and getNextAssertion state rules.
#include <set>

#include "ctap_test_support.h"

namespace vauth::ctaptest {
namespace {

using Mode = ctap::ControlledPresence::Mode;

struct Account {
  Bytes user_id;
  std::string name, display_name;
  Credential credential;
};

// Three discoverable credentials for example.com, created in order (oldest first).
// With a PinClient, each makeCredential gets a fresh pinUvAuthToken: in CTAP 2.1
// a token's mc/ga permissions are used up by one request, as clients expect.
std::vector<Account> make_three_accounts(Harness& h, PinClient* pin = nullptr, std::string_view pin_code = {}) {
  std::vector<Account> out;
  for (int i = 0; i < 3; ++i) {
    Bytes pin_token;
    if (pin) pin_token = pin->get_pin_token(pin_code).value();
    MakeCredentialRequest req;
    req.rk();
    req.user_id = {static_cast<uint8_t>(0xa0 + i), 0x55};
    req.user_name = "user" + std::to_string(i) + "@example.com";
    req.user_display_name = "User " + std::to_string(i);
    req.algorithms = {i == 1 ? -8 : -7};
    if (!pin_token.empty()) {
      req.pin_protocol = 1;
      req.pin_auth = PinClient::pin_auth(pin_token, req.client_data_hash);
    }
    out.push_back({req.user_id, req.user_name, req.user_display_name, make_credential(h, req)});
  }
  return out;
}

TEST_CASE("getAssertion with an allowList: the signature verifies with the credential's public key") {
  for (int alg : {-7, -8}) {
    CAPTURE(alg);
    Harness h;
    MakeCredentialRequest mc;
    mc.algorithms = {alg};
    Credential c = make_credential(h, mc);

    GetAssertionRequest req;
    req.allow(c.id);
    const size_t presence_before = h.presence.request_count();
    Assertion a = unpack_assertion(h.call(kGetAssertion, req.build()));
    CHECK(h.presence.request_count() == presence_before + 1);  // up defaults to true
    CHECK(a.credential_id == c.id);
    CHECK(a.auth_data.rp_id_hash == rp_hash("example.com"));
    CHECK(a.auth_data.up());
    CHECK_FALSE(a.auth_data.uv());
    CHECK_FALSE(a.auth_data.at());  // no attested credential data in assertions
    CHECK(a.raw_auth_data.size() == 37);
    CHECK(a.auth_data.sign_count > c.auth_data.sign_count);
    CHECK(verifies(c.public_key, a, req.client_data_hash));
    CHECK_FALSE(verifies(c.public_key, a, cdh(0x23)));
    CHECK_FALSE(a.number_of_credentials.has_value());
    CHECK_FALSE(a.user.has_value());  // a non-discoverable credential has no user entity
  }
}

TEST_CASE("getAssertion: the signature counter increases with every assertion") {
  Harness h;
  Credential c = make_credential(h);
  GetAssertionRequest req;
  req.allow(c.id);
  uint32_t last = c.auth_data.sign_count;
  for (int i = 0; i < 3; ++i) {
    Assertion a = unpack_assertion(h.call(kGetAssertion, req.build()));
    CHECK(a.auth_data.sign_count > last);
    last = a.auth_data.sign_count;
  }
}

TEST_CASE("getAssertion picks our credential out of an allowList with foreign entries") {
  Harness h;
  Credential c = make_credential(h);
  GetAssertionRequest req;
  req.allow(Bytes(64, 0x33));
  req.allow(Bytes{1, 2, 3});
  req.allow(c.id);
  Assertion a = unpack_assertion(h.call(kGetAssertion, req.build()));
  CHECK(a.credential_id == c.id);
  CHECK(verifies(c.public_key, a, req.client_data_hash));
}

TEST_CASE("getAssertion: foreign, tampered and other-RP credential IDs are not found") {
  Harness h;
  Credential c = make_credential(h);
  MakeCredentialRequest other;
  other.rp_id = "other.example";
  Credential theirs = make_credential(h, other);
  Harness stranger(ctap::Profile{}, /*seed=*/99);
  Credential strangers = make_credential(stranger);

  GetAssertionRequest req;
  SUBCASE("random bytes") { req.allow(Bytes(64, 0x77)); }
  SUBCASE("empty ID") { req.allow(Bytes{}); }
  SUBCASE("tampered: one bit flipped in the middle") {
    Bytes id = c.id;
    id[id.size() / 2] ^= 0x01;
    req.allow(id);
  }
  SUBCASE("tampered: last byte") {
    Bytes id = c.id;
    id.back() ^= 0x80;
    req.allow(id);
  }
  SUBCASE("truncated") {
    Bytes id = c.id;
    id.pop_back();
    req.allow(id);
  }
  SUBCASE("extended") {
    Bytes id = c.id;
    id.push_back(0);
    req.allow(id);
  }
  SUBCASE("made for another RP") { req.allow(theirs.id); }
  SUBCASE("made by another authenticator") { req.allow(strangers.id); }
  SUBCASE("our ID with another type") {
    req.allow_list = Array{descriptor(c.id, "not-public-key")};
  }

  Response r = h.call(kGetAssertion, req.build());
  CHECK(r.replied);
  CHECK(r.status == Status::NoCredentials);
  CHECK(r.raw.size() == 1);
}

TEST_CASE("getAssertion: another RP ID cannot use our credential, and the right one still can") {
  Harness h;
  Credential c = make_credential(h);
  GetAssertionRequest req;
  req.rp_id = "example.org";
  req.allow(c.id);
  CHECK(h.call(kGetAssertion, req.build()).status == Status::NoCredentials);
  req.rp_id = "example.com";
  CHECK(h.call(kGetAssertion, req.build()).status == Status::Ok);
}

TEST_CASE("getAssertion without allowList: no discoverable credentials → NO_CREDENTIALS") {
  Harness h;
  make_credential(h);  // not discoverable
  MakeCredentialRequest other;
  other.rk();
  other.rp_id = "other.example";
  make_credential(h, other);  // discoverable, but for another RP
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.build()).status == Status::NoCredentials);
}

TEST_CASE("getAssertion discoverable: newest first, numberOfCredentials, then getNextAssertion") {
  Harness h;
  std::vector<Account> accounts = make_three_accounts(h);
  GetAssertionRequest req;

  Response first = h.call(kGetAssertion, req.build());
  Assertion a = unpack_assertion(first);
  REQUIRE(a.number_of_credentials.has_value());
  CHECK(*a.number_of_credentials == 3);
  CHECK(a.credential_id == accounts[2].credential.id);
  REQUIRE(a.user.has_value());
  CHECK((*a.user)[cbor::Value("id")] == cbor::Value(accounts[2].user_id));
  CHECK(verifies(accounts[2].credential.public_key, a, req.client_data_hash));
  CHECK(a.auth_data.up());
  uint32_t last = a.auth_data.sign_count;

  for (int i = 1; i >= 0; --i) {
    CAPTURE(i);
    Assertion n = unpack_assertion(h.call(kGetNextAssertion));
    CHECK(n.credential_id == accounts[i].credential.id);
    REQUIRE(n.user.has_value());
    CHECK((*n.user)[cbor::Value("id")] == cbor::Value(accounts[i].user_id));
    CHECK(verifies(accounts[i].credential.public_key, n, req.client_data_hash));
    CHECK(n.auth_data.rp_id_hash == rp_hash("example.com"));
    CHECK(n.auth_data.up());
    CHECK(n.auth_data.sign_count > last);
    last = n.auth_data.sign_count;
    // "Omitted when returned for the authenticatorGetNextAssertion method" (CTAP 2.0 §5.2).
    CHECK_FALSE(n.number_of_credentials.has_value());
  }
  Response done = h.call(kGetNextAssertion);
  CHECK(done.replied);
  CHECK(done.status == Status::NotAllowed);
}

TEST_CASE("getAssertion discoverable: a single credential has no numberOfCredentials and no next") {
  Harness h;
  MakeCredentialRequest mc;
  mc.rk();
  Credential c = make_credential(h, mc);
  Assertion a = unpack_assertion(h.call(kGetAssertion, GetAssertionRequest{}.build()));
  CHECK(a.credential_id == c.id);
  if (a.number_of_credentials) CHECK(*a.number_of_credentials == 1);
  REQUIRE(a.user.has_value());
  CHECK(a.user->size() == 1);
  CHECK(h.call(kGetNextAssertion).status == Status::NotAllowed);
}

TEST_CASE("getNextAssertion state ends after 30 s") {
  Harness h;
  std::vector<Account> accounts = make_three_accounts(h);
  GetAssertionRequest req;

  SUBCASE("within 30 s of each call it continues") {
    unpack_assertion(h.call(kGetAssertion, req.build()));
    h.advance(29s);
    Assertion n = unpack_assertion(h.call(kGetNextAssertion));
    CHECK(n.credential_id == accounts[1].credential.id);
    h.advance(29s);  // the timer restarts with each getNextAssertion
    Assertion m = unpack_assertion(h.call(kGetNextAssertion));
    CHECK(m.credential_id == accounts[0].credential.id);
  }
  SUBCASE("more than 30 s after getAssertion → NOT_ALLOWED") {
    unpack_assertion(h.call(kGetAssertion, req.build()));
    h.advance(30s + 1ms);
    CHECK(h.call(kGetNextAssertion).status == Status::NotAllowed);
  }
  SUBCASE("more than 30 s after getNextAssertion → NOT_ALLOWED") {
    unpack_assertion(h.call(kGetAssertion, req.build()));
    unpack_assertion(h.call(kGetNextAssertion));
    h.advance(31s);
    CHECK(h.call(kGetNextAssertion).status == Status::NotAllowed);
  }
}

TEST_CASE("getNextAssertion only continues the command just before it") {
  Harness h;
  make_three_accounts(h);
  GetAssertionRequest req;

  SUBCASE("getInfo in between") {
    unpack_assertion(h.call(kGetAssertion, req.build()));
    REQUIRE(h.call(kGetInfo).ok());
  }
  SUBCASE("clientPIN getRetries in between") {
    unpack_assertion(h.call(kGetAssertion, req.build()));
    REQUIRE(h.call(kClientPin, Map{{1, 1}, {2, 1}}).ok());
  }
  SUBCASE("a failing makeCredential in between") {
    unpack_assertion(h.call(kGetAssertion, req.build()));
    REQUIRE(h.call(kMakeCredential, Map{}).status != Status::Ok);
  }
  SUBCASE("an allow-list getAssertion in between") {
    Credential c = make_credential(h);
    unpack_assertion(h.call(kGetAssertion, req.build()));
    GetAssertionRequest allow;
    allow.allow(c.id);
    unpack_assertion(h.call(kGetAssertion, allow.build()));
  }
  SUBCASE("power cycle in between") {
    unpack_assertion(h.call(kGetAssertion, req.build()));
    h.auth->power_cycle();
  }
  SUBCASE("never a getAssertion") {}

  CHECK(h.call(kGetNextAssertion).status == Status::NotAllowed);
}

TEST_CASE("getAssertion user entity: only the ID without UV; names with UV and several accounts") {
  Harness h;
  PinClient pin(h);

  SUBCASE("no UV") {
    make_three_accounts(h);
    Assertion a = unpack_assertion(h.call(kGetAssertion, GetAssertionRequest{}.build()));
    REQUIRE(a.user.has_value());
    CHECK(a.user->size() == 1);
    CHECK(a.user->count(cbor::Value("id")) == 1);
    CHECK_FALSE(a.auth_data.uv());
    Assertion n = unpack_assertion(h.call(kGetNextAssertion));
    REQUIRE(n.user.has_value());
    CHECK(n.user->size() == 1);
  }
  SUBCASE("UV through pinAuth") {
    REQUIRE(pin.set_pin("1234").ok());
    std::vector<Account> accounts = make_three_accounts(h, &pin, "1234");
    auto token = pin.get_pin_token("1234");
    REQUIRE(token.has_value());
    GetAssertionRequest req;
    req.pin_protocol = 1;
    req.pin_auth = PinClient::pin_auth(*token, req.client_data_hash);
    Assertion a = unpack_assertion(h.call(kGetAssertion, req.build()));
    CHECK(a.auth_data.uv());
    CHECK(a.auth_data.up());
    REQUIRE(a.user.has_value());
    CHECK((*a.user)[cbor::Value("id")] == cbor::Value(accounts[2].user_id));
    CHECK((*a.user)[cbor::Value("name")] == cbor::Value(accounts[2].name));
    CHECK((*a.user)[cbor::Value("displayName")] == cbor::Value(accounts[2].display_name));
    CHECK(verifies(accounts[2].credential.public_key, a, req.client_data_hash));

    Assertion n = unpack_assertion(h.call(kGetNextAssertion));
    CHECK(n.auth_data.uv());
    REQUIRE(n.user.has_value());
    CHECK((*n.user)[cbor::Value("name")] == cbor::Value(accounts[1].name));
    CHECK((*n.user)[cbor::Value("displayName")] == cbor::Value(accounts[1].display_name));
    CHECK(verifies(accounts[1].credential.public_key, n, req.client_data_hash));
  }
}

TEST_CASE("getAssertion up=false: no UP flag and no presence request") {
  Harness h;
  Credential c = make_credential(h);
  h.presence.set_mode(Mode::Wait);  // a presence request would leave the call unanswered
  const size_t before = h.presence.request_count();
  GetAssertionRequest req;
  req.allow(c.id).option("up", false);
  Response r = h.call(kGetAssertion, req.build());
  REQUIRE(r.replied);
  Assertion a = unpack_assertion(r);
  CHECK_FALSE(a.auth_data.up());
  CHECK(a.auth_data.flags == 0);
  CHECK(h.presence.request_count() == before);
  CHECK_FALSE(h.presence.pending());
  CHECK(verifies(c.public_key, a, req.client_data_hash));

  // Discoverable credentials without presence, and getNextAssertion keeps the flags.
  h.presence.set_mode(Mode::Approve);
  make_three_accounts(h);
  h.presence.set_mode(Mode::Wait);
  GetAssertionRequest disc;
  disc.option("up", false);
  Assertion d = unpack_assertion(h.call(kGetAssertion, disc.build()));
  CHECK_FALSE(d.auth_data.up());
  Assertion n = unpack_assertion(h.call(kGetNextAssertion));
  CHECK_FALSE(n.auth_data.up());
  CHECK_FALSE(h.presence.pending());
}

TEST_CASE("getAssertion up=true asks for presence and sets UP") {
  Harness h;
  Credential c = make_credential(h);
  h.presence.set_mode(Mode::Wait);
  GetAssertionRequest req;
  req.allow(c.id).option("up", true);
  Pending p = h.start(kGetAssertion, req.build());
  CHECK_FALSE(p.done());
  CHECK(h.auth->waiting_for_user());
  REQUIRE(h.presence.last_request().has_value());
  CHECK(h.presence.last_request()->rp_id == "example.com");
  h.presence.approve();
  REQUIRE(p.done());
  Assertion a = unpack_assertion(p.get());
  CHECK(a.auth_data.up());
}

TEST_CASE("getAssertion presence outcomes: denied → 0x27, timed out → 0x2F") {
  Harness h;
  Credential c = make_credential(h);
  GetAssertionRequest req;
  req.allow(c.id);
  const uint32_t count_before = h.state().sign_count;

  SUBCASE("denied") {
    h.presence.set_mode(Mode::Deny);
    CHECK(h.call(kGetAssertion, req.build()).status == Status::OperationDenied);
  }
  SUBCASE("timed out") {
    h.presence.set_mode(Mode::Wait);
    h.presence.set_timeout(10s);
    Pending p = h.start(kGetAssertion, req.build());
    h.advance(9s);
    CHECK_FALSE(p.done());
    h.advance(1s);
    REQUIRE(p.done());
    CHECK(p.get().status == Status::UserActionTimeout);
  }
  SUBCASE("discoverable, denied") {
    make_three_accounts(h);
    h.presence.set_mode(Mode::Deny);
    CHECK(h.call(kGetAssertion, GetAssertionRequest{}.build()).status == Status::OperationDenied);
    CHECK(h.call(kGetNextAssertion).status == Status::NotAllowed);
    return;
  }
  CHECK(h.state().sign_count == count_before);  // nothing was signed
}

// CTAP 2.1 §6.2.2: "rk" is not a getAssertion option (UNSUPPORTED_OPTION); "uv"
// without a pinUvAuthParam asks for built-in UV, which this key lacks (INVALID_OPTION).
TEST_CASE("getAssertion options: rk → UNSUPPORTED_OPTION, uv=true → INVALID_OPTION") {
  Harness h;
  Credential c = make_credential(h);
  const size_t before = h.presence.request_count();
  GetAssertionRequest req;
  req.allow(c.id);
  Status expected = Status::UnsupportedOption;

  SUBCASE("rk=true") { req.option("rk", true); }
  SUBCASE("rk=false") { req.option("rk", false); }
  SUBCASE("uv=true") {
    req.option("uv", true);
    expected = Status::InvalidOption;
  }

  CHECK(h.call(kGetAssertion, req.build()).status == expected);
  CHECK(h.presence.request_count() == before);
}

TEST_CASE("getAssertion parameter errors") {
  Harness h;
  Credential c = make_credential(h);
  Map m = GetAssertionRequest{}.allow(c.id).build();
  Status expected = Status::Ok;

  SUBCASE("rpId missing") {
    m.erase(cbor::Value(1));
    expected = Status::MissingParameter;
  }
  SUBCASE("clientDataHash missing") {
    m.erase(cbor::Value(2));
    expected = Status::MissingParameter;
  }
  SUBCASE("allowList entry without id") {
    m[3] = Array{Map{{"type", "public-key"}}};
    expected = Status::MissingParameter;
  }
  SUBCASE("rpId as bytes") {
    m[1] = to_bytes("example.com");
    expected = Status::CborUnexpectedType;
  }
  SUBCASE("clientDataHash as text") {
    m[2] = "hash";
    expected = Status::CborUnexpectedType;
  }
  SUBCASE("allowList as map") {
    m[3] = descriptor(c.id);
    expected = Status::CborUnexpectedType;
  }
  SUBCASE("allowList entry as bytes") {
    m[3] = Array{c.id};
    expected = Status::CborUnexpectedType;
  }
  SUBCASE("options as array") {
    m[5] = Array{"up"};
    expected = Status::CborUnexpectedType;
  }
  SUBCASE("up as integer") {
    m[5] = Map{{"up", 0}};
    expected = Status::CborUnexpectedType;
  }
  const size_t before = h.presence.request_count();
  Response r = h.call(kGetAssertion, m);
  CHECK(r.replied);
  CHECK(r.status == expected);
  CHECK(h.presence.request_count() == before);
}

TEST_CASE("getAssertion PIN handling") {
  Harness h;
  Credential c = make_credential(h);
  GetAssertionRequest req;
  req.allow(c.id);

  SUBCASE("zero-length pinAuth without PIN: touch, then PIN_NOT_SET") {
    req.pin_auth = Bytes{};
    req.pin_protocol = 1;
    h.presence.set_mode(Mode::Wait);
    Pending p = h.start(kGetAssertion, req.build());
    CHECK_FALSE(p.done());
    h.presence.approve();
    REQUIRE(p.done());
    CHECK(p.get().status == Status::PinNotSet);
  }
  SUBCASE("with a PIN") {
    PinClient pin(h);
    REQUIRE(pin.set_pin("4321").ok());
    auto token = pin.get_pin_token("4321");
    REQUIRE(token.has_value());

    // No pinAuth: allowed for getAssertion, but UV is not set.
    Assertion plain = unpack_assertion(h.call(kGetAssertion, req.build()));
    CHECK_FALSE(plain.auth_data.uv());

    req.pin_protocol = 1;
    req.pin_auth = Bytes{};
    h.presence.set_mode(Mode::Wait);
    Pending p = h.start(kGetAssertion, req.build());
    CHECK_FALSE(p.done());
    h.presence.approve();
    REQUIRE(p.done());
    CHECK(p.get().status == Status::PinInvalid);
    h.presence.set_mode(Mode::Approve);

    req.pin_auth = PinClient::pin_auth(Bytes(32, 0), req.client_data_hash);
    CHECK(h.call(kGetAssertion, req.build()).status == Status::PinAuthInvalid);

    req.pin_auth = PinClient::pin_auth(*token, req.client_data_hash);
    Assertion a = unpack_assertion(h.call(kGetAssertion, req.build()));
    CHECK(a.auth_data.uv());
    CHECK(a.auth_data.up());
    CHECK(verifies(c.public_key, a, req.client_data_hash));
  }
}

TEST_CASE("getAssertion: a resident credential can be named in the allowList") {
  Harness h;
  MakeCredentialRequest mc;
  mc.rk();
  Credential c = make_credential(h, mc);
  GetAssertionRequest req;
  req.allow(c.id);
  Assertion a = unpack_assertion(h.call(kGetAssertion, req.build()));
  CHECK(a.credential_id == c.id);
  CHECK(verifies(c.public_key, a, req.client_data_hash));
  CHECK(h.call(kGetNextAssertion).status == Status::NotAllowed);
}

TEST_CASE("getAssertion: a replaced resident credential is gone") {
  Harness h;
  MakeCredentialRequest mc;
  mc.rk();
  Credential old_one = make_credential(h, mc);
  Credential new_one = make_credential(h, mc);
  GetAssertionRequest req;
  req.allow(old_one.id);
  CHECK(h.call(kGetAssertion, req.build()).status == Status::NoCredentials);
  Assertion a = unpack_assertion(h.call(kGetAssertion, GetAssertionRequest{}.build()));
  CHECK(a.credential_id == new_one.id);
  CHECK_FALSE(a.number_of_credentials.has_value());
}

// The allow-list credential is unwrapped once, when located; a touch that comes
// later must not sign with a key the store no longer vouches for.
TEST_CASE("getAssertion: a credential deleted or reset away while waiting for the touch is gone") {
  Harness h;
  MakeCredentialRequest mc;
  SUBCASE("discoverable, deleted") {
    mc.rk();
  }
  SUBCASE("wrapped, master secret replaced by a reset") {}
  Credential c = make_credential(h, mc);
  h.presence.set_mode(Mode::Wait);
  GetAssertionRequest req;
  req.allow(c.id);
  const uint32_t count_before = h.state().sign_count;
  Pending p = h.start(kGetAssertion, req.build());
  REQUIRE_FALSE(p.done());
  store::Store& st = h.store;
  if (h.state().find_credential(c.id)) {
    st.commit(store::Mutation{store::change::DeleteCredential{c.id}});
  } else {
    st.commit(store::Mutation{store::change::Reset{Bytes(32, 0x5a)}});
  }
  h.presence.approve();
  REQUIRE(p.done());
  CHECK(p.get().status == Status::NoCredentials);
  CHECK(h.state().sign_count == count_before);  // nothing was signed
}

TEST_CASE("getAssertion: an allow-list credential still there after the touch signs") {
  Harness h;
  Credential c = make_credential(h);
  h.presence.set_mode(Mode::Wait);
  GetAssertionRequest req;
  req.allow(c.id);
  Pending p = h.start(kGetAssertion, req.build());
  REQUIRE_FALSE(p.done());
  h.presence.approve();
  REQUIRE(p.done());
  Assertion a = unpack_assertion(p.get());
  CHECK(a.credential_id == c.id);
  CHECK(verifies(c.public_key, a, req.client_data_hash));
}

}  // namespace
}  // namespace vauth::ctaptest
