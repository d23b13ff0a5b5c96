// authenticatorCredentialManagement (CTAP 2.1 §6.8), judged against the spec:
// metadata, RP and credential enumeration, deleteCredential,
// updateUserInformation, and the pinUvAuthToken rules that guard them.
//
// The platform side is written here from the spec: the request maps, the
// authenticated message subCommand || CBOR(subCommandParams), and
// getPinUvAuthTokenUsingPinWithPermissions (clientPIN 0x09) under PIN
// protocols 1 and 2.
#include "tests/unit/ctap_test_support.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

constexpr uint8_t kCredentialManagement = 0x0a, kCredentialManagementPreview = 0x41;

// subCommand values (§6.8).
constexpr int kGetCredsMetadata = 0x01, kEnumerateRpsBegin = 0x02, kEnumerateRpsGetNextRp = 0x03,
              kEnumerateCredentialsBegin = 0x04, kEnumerateCredentialsGetNextCredential = 0x05,
              kDeleteCredential = 0x06, kUpdateUserInformation = 0x07;

// Permissions (§6.5.5.7).
constexpr uint8_t kPermMc = 0x01, kPermGa = 0x02, kPermCm = 0x04;

// What the authenticator answers for a valid token that may not do this
// (CTAP 2.1 §6.8: a token without cm, or bound to another RP, is PIN_AUTH_INVALID).
constexpr Status kDenied = Status::PinAuthInvalid;

constexpr const char* kPin = "1234";

// ---------------------------------------------------------------------------
// The platform's side of PIN protocols 1 and 2 for tokens with permissions.

class TokenClient {
 public:
  TokenClient(Harness& h, int protocol, uint64_t seed = 0xc0ffee)
      : h_(h), protocol_(protocol), rng_(seed), key_(crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng_)) {}

  int protocol() const { return protocol_; }

  // getKeyAgreement under our protocol, then ECDH and the protocol's KDF (§6.5.6/6.5.7).
  void agree() {
    Response r = h_.call(kClientPin, Map{{1, protocol_}, {2, 2}});
    REQUIRE_MESSAGE(r.ok(), "getKeyAgreement failed: ", r.status);
    const cbor::Value* ka = r.get(1);
    REQUIRE(ka);
    REQUIRE(ka->is_map());
    auto peer = crypto::PublicKey::p256(ka->find(-2)->as_bytes(), ka->find(-3)->as_bytes());
    REQUIRE(peer.has_value());
    auto z = key_.ecdh_x(*peer);
    REQUIRE(z.has_value());
    if (protocol_ == 1) {
      shared_ = crypto::sha256(*z);
    } else {
      const Bytes salt(32, 0);
      shared_ = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 HMAC key"), 32);
      append(shared_, crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 AES key"), 32));
    }
  }

  Bytes encrypt(ByteView plain) {
    if (protocol_ == 1) return *crypto::aes256_cbc_encrypt(shared_, Bytes(16, 0), plain);
    Bytes iv = rng_.bytes(16);
    const Bytes aes_key(shared_.begin() + 32, shared_.end());
    append(iv, *crypto::aes256_cbc_encrypt(aes_key, iv, plain));
    return iv;
  }
  std::optional<Bytes> decrypt(ByteView cipher) {
    if (protocol_ == 1) return crypto::aes256_cbc_decrypt(shared_, Bytes(16, 0), cipher);
    if (cipher.size() < 16) return std::nullopt;
    const Bytes aes_key(shared_.begin() + 32, shared_.end());
    return crypto::aes256_cbc_decrypt(aes_key, cipher.first(16), cipher.subspan(16));
  }

  // authenticate(pinUvAuthToken, message): protocol 1 keeps 16 bytes of the HMAC, protocol 2 all 32.
  Bytes authenticate(ByteView token, ByteView message) const {
    Bytes mac = crypto::hmac_sha256(token, message);
    if (protocol_ == 1) mac.resize(16);
    return mac;
  }

  Map platform_key() const {
    const auto& pub = key_.public_key();
    return Map{{1, 2}, {3, -25}, {-1, 1}, {-2, pub.x()}, {-3, pub.y()}};
  }

  // getPinUvAuthTokenUsingPinWithPermissions (0x09), reply as is.
  Response request_token(std::string_view pin, uint8_t permissions, std::optional<std::string> rp_id = {}) {
    agree();
    Bytes hash = crypto::sha256(to_bytes(pin));
    hash.resize(16);
    Map req{{1, protocol_}, {2, 9}, {3, platform_key()}, {6, encrypt(hash)}, {9, permissions}};
    if (rp_id) req[10] = *rp_id;
    return h_.call(kClientPin, req);
  }
  // The decrypted token; fails the test if the authenticator refuses.
  Bytes token(std::string_view pin, uint8_t permissions, std::optional<std::string> rp_id = {}) {
    Response r = request_token(pin, permissions, std::move(rp_id));
    REQUIRE_MESSAGE(r.ok(), "getPinUvAuthTokenUsingPinWithPermissions failed: ", r.status);
    const cbor::Value* enc = r.get(2);
    REQUIRE(enc);
    REQUIRE(enc->is_bytes());
    auto t = decrypt(enc->as_bytes());
    REQUIRE(t.has_value());
    REQUIRE(t->size() == 32);
    return *t;
  }

 private:
  Harness& h_;
  int protocol_;
  crypto::SeededRng rng_;
  crypto::PrivateKey key_;
  Bytes shared_;
};

// ---------------------------------------------------------------------------
// authenticatorCredentialManagement requests.

// The authenticated message: subCommand || CBOR(subCommandParams), or just subCommand.
Bytes cm_message(int sub, const std::optional<Map>& params) {
  Bytes m{static_cast<uint8_t>(sub)};
  if (params) append(m, cbor::encode(cbor::Value(*params)));
  return m;
}

Map cm_request(const TokenClient& c, const Bytes& token, int sub, const std::optional<Map>& params = {}) {
  Map m{{1, sub}};
  if (params) m[2] = *params;
  m[3] = c.protocol();
  m[4] = c.authenticate(token, cm_message(sub, params));
  return m;
}

Map rp_hash_params(std::string_view rp_id) {
  return Map{{1, rp_hash(rp_id)}};
}
Map credential_params(const Bytes& id) {
  return Map{{2, descriptor(id)}};
}

const cbor::Value& field(const Response& r, int key) {
  const cbor::Value* v = r.get(key);
  REQUIRE_MESSAGE(v, "response lacks key ", key, ": ", r.body ? cbor::diagnostic(*r.body) : std::string("(none)"));
  return *v;
}

// ---------------------------------------------------------------------------
// A key with three discoverable credentials on two RPs and a PIN:
//   example.com: alice (ES256, older), bob (ES256, newer); other.org: carol (EdDSA).

struct Account {
  std::string rp_id, rp_name;
  Bytes user_id;
  std::string name, display_name;
  int alg;
};

const Account kAlice{"example.com", "Example", {0xa1, 0x1c, 0xe0}, "alice@example.com", "Alice", -7};
const Account kBob{"example.com", "Example", {0xb0, 0xb0}, "bob@example.com", "Bob", -7};
const Account kCarol{"other.org", "Other Org", {0xca, 0x01}, "carol", "Carol C.", -8};

struct Fixture {
  explicit Fixture(int protocol = 1, ctap::Profile profile = limited_profile())
      : h(std::move(profile)), pin(h), client(h, protocol) {
    for (const Account* a : {&kAlice, &kBob, &kCarol}) {
      MakeCredentialRequest req;
      req.rp_id = a->rp_id;
      req.rp_name = a->rp_name;
      req.user_id = a->user_id;
      req.user_name = a->name;
      req.user_display_name = a->display_name;
      req.algorithms = {a->alg};
      req.rk();
      creds.push_back(make_credential(h, req));
    }
    REQUIRE(pin.set_pin(kPin).ok());
  }
  static ctap::Profile limited_profile() {
    ctap::Profile p;
    p.max_resident_credentials = 25;
    p.no_credentials_immediately = true;
    return p;
  }

  const Credential& alice() const { return creds[0]; }
  const Credential& bob() const { return creds[1]; }
  const Credential& carol() const { return creds[2]; }

  Bytes cm_token(std::optional<std::string> rp_id = {}) { return client.token(kPin, kPermCm, std::move(rp_id)); }

  Response cm(const Bytes& token, int sub, const std::optional<Map>& params = {}) {
    return h.call(kCredentialManagement, cm_request(client, token, sub, params));
  }
  Response next(int sub) { return h.call(kCredentialManagement, Map{{1, sub}}); }

  // An assertion with `cred` (allow list, no PIN), or the failure.
  Response assert_with(const Bytes& id, const Bytes& client_data_hash = cdh(0x33)) {
    GetAssertionRequest req;
    req.rp_id = "example.com";
    req.client_data_hash = client_data_hash;
    req.allow(id);
    return h.call(kGetAssertion, req.build());
  }

  Harness h;
  PinClient pin;
  TokenClient client;
  std::vector<Credential> creds;
};

// The user, credential ID and public key of an enumerateCredentials reply.
struct Enumerated {
  Map user;
  Bytes id;
  crypto::PublicKey public_key;
};

Enumerated unpack_enumerated(const Response& r) {
  REQUIRE_MESSAGE(r.ok(), "enumerateCredentials failed: ", r.status);
  const cbor::Value& user = field(r, 6);
  REQUIRE(user.is_map());
  const cbor::Value& cid = field(r, 7);
  REQUIRE(cid.is_map());
  REQUIRE(cid.find("id"));
  REQUIRE(cid.find("id")->is_bytes());
  CHECK(cid.find("type") != nullptr);
  if (cid.find("type")) CHECK(*cid.find("type") == cbor::Value("public-key"));
  auto key = public_key_from_cose(field(r, 8));
  REQUIRE_MESSAGE(key.has_value(), "publicKey is not a COSE key we know: ", cbor::diagnostic(field(r, 8)));
  CHECK(field(r, 10) == cbor::Value(1));  // credProtect: userVerificationOptional
  CHECK(r.get(11) == nullptr);            // no largeBlobKey
  return Enumerated{user.as_map(), cid.find("id")->as_bytes(), *key};
}

void check_user(const Map& user, const Account& a) {
  CHECK(user == Map{{"id", a.user_id}, {"name", a.name}, {"displayName", a.display_name}});
}

bool same_key(const crypto::PublicKey& a, const crypto::PublicKey& b) {
  return a.algorithm() == b.algorithm() && a.x() == b.x() && a.y() == b.y();
}

}  // namespace

// ---------------------------------------------------------------------------

TEST_CASE("getCredsMetadata: discoverable credentials stored and the room left") {
  Fixture f;
  Response r = f.cm(f.cm_token(), kGetCredsMetadata);
  REQUIRE_MESSAGE(r.ok(), r.status);
  CHECK(field(r, 1) == cbor::Value(3));
  CHECK(field(r, 2) == cbor::Value(22));
  CHECK(r.body->as_map().size() == 2);
}

TEST_CASE("getCredsMetadata on an empty key; enumerateRPsBegin → NO_CREDENTIALS") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin(kPin).ok());
  TokenClient c(h, 1);
  Bytes token = c.token(kPin, kPermCm);
  Response meta = h.call(kCredentialManagement, cm_request(c, token, kGetCredsMetadata));
  REQUIRE_MESSAGE(meta.ok(), meta.status);
  CHECK(field(meta, 1) == cbor::Value(0));
  CHECK(field(meta, 2) == cbor::Value(ctap::Profile{}.max_resident_credentials));
  CHECK(h.call(kCredentialManagement, cm_request(c, token, kEnumerateRpsBegin)).status == Status::NoCredentials);
  CHECK(h.call(kCredentialManagement, cm_request(c, token, kEnumerateCredentialsBegin, rp_hash_params("example.com")))
            .status == Status::NoCredentials);
}

TEST_CASE("enumerateRPs: every RP once, with name and rpIDHash, then NOT_ALLOWED") {
  Fixture f;
  Response first = f.cm(f.cm_token(), kEnumerateRpsBegin);
  REQUIRE_MESSAGE(first.ok(), first.status);
  CHECK(field(first, 5) == cbor::Value(2));  // totalRPs
  std::vector<Response> rps{first};
  Response second = f.next(kEnumerateRpsGetNextRp);
  REQUIRE_MESSAGE(second.ok(), second.status);
  CHECK(second.get(5) == nullptr);  // totalRPs only in the first reply
  rps.push_back(second);
  CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);
  CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);

  std::map<std::string, std::string> seen;  // id -> name
  for (const Response& r : rps) {
    const cbor::Value& rp = field(r, 3);
    REQUIRE(rp.is_map());
    REQUIRE(rp.find("id"));
    REQUIRE(rp.find("id")->is_text());
    const std::string id = rp.find("id")->as_text();
    CHECK(field(r, 4) == cbor::Value(rp_hash(id)));
    REQUIRE(rp.find("name"));
    seen[id] = rp.find("name")->as_text();
  }
  CHECK(seen == std::map<std::string, std::string>{{"example.com", "Example"}, {"other.org", "Other Org"}});
}

TEST_CASE("enumerateCredentials: every field, newest first; the public key verifies getAssertion") {
  Fixture f;
  Response first = f.cm(f.cm_token(), kEnumerateCredentialsBegin, rp_hash_params("example.com"));
  Enumerated bob = unpack_enumerated(first);
  CHECK(field(first, 9) == cbor::Value(2));  // totalCredentials
  Response second = f.next(kEnumerateCredentialsGetNextCredential);
  Enumerated alice = unpack_enumerated(second);
  CHECK(second.get(9) == nullptr);
  CHECK(f.next(kEnumerateCredentialsGetNextCredential).status == Status::NotAllowed);

  check_user(bob.user, kBob);
  check_user(alice.user, kAlice);
  CHECK(bob.id == f.bob().id);
  CHECK(alice.id == f.alice().id);
  CHECK(same_key(bob.public_key, f.bob().public_key));
  CHECK(same_key(alice.public_key, f.alice().public_key));

  // The key from the enumeration, not the one from makeCredential, checks a fresh assertion.
  for (const Enumerated* e : {&alice, &bob}) {
    const Bytes hash = cdh(0x44);
    Assertion a = unpack_assertion(f.assert_with(e->id, hash));
    CHECK(a.credential_id == e->id);
    CHECK(verifies(e->public_key, a, hash));
  }
  const Bytes hash = cdh(0x45);
  Assertion a = unpack_assertion(f.assert_with(alice.id, hash));
  CHECK_FALSE(verifies(bob.public_key, a, hash));
}

TEST_CASE("enumerateCredentials: an EdDSA credential on its own RP") {
  Fixture f;
  Response r = f.cm(f.cm_token(), kEnumerateCredentialsBegin, rp_hash_params("other.org"));
  Enumerated carol = unpack_enumerated(r);
  CHECK(field(r, 9) == cbor::Value(1));
  check_user(carol.user, kCarol);
  CHECK(carol.id == f.carol().id);
  CHECK(carol.public_key.algorithm() == crypto::Algorithm::EdDSA);
  CHECK(same_key(carol.public_key, f.carol().public_key));
  CHECK(f.next(kEnumerateCredentialsGetNextCredential).status == Status::NotAllowed);
}

TEST_CASE("enumerateCredentials: a user without name or displayName has only an id") {
  Fixture f;
  MakeCredentialRequest req;
  req.rp_id = "bare.example";
  req.user_id = {0x77};
  req.user_name = "";
  req.user_display_name = "";
  req.rk();
  // The PIN is set now: makeCredential needs a token with mc.
  TokenClient mc(f.h, 1, 99);
  Bytes token = mc.token(kPin, kPermMc);
  req.pin_auth = PinClient::pin_auth(token, req.client_data_hash);
  req.pin_protocol = 1;
  make_credential(f.h, req);
  Enumerated e = unpack_enumerated(f.cm(f.cm_token(), kEnumerateCredentialsBegin, rp_hash_params("bare.example")));
  CHECK(e.user == Map{{"id", Bytes{0x77}}});
}

TEST_CASE("enumerateCredentials for an RP without credentials → NO_CREDENTIALS") {
  Fixture f;
  Bytes token = f.cm_token();
  CHECK(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("nobody.example")).status == Status::NoCredentials);
  CHECK(f.cm(token, kEnumerateCredentialsBegin, Map{{1, Bytes(5, 0)}}).status == Status::NoCredentials);
}

TEST_CASE("GetNext without its Begin → NOT_ALLOWED") {
  Fixture f;
  CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);
  CHECK(f.next(kEnumerateCredentialsGetNextCredential).status == Status::NotAllowed);

  Bytes token = f.cm_token();
  SUBCASE("the other enumeration's Begin") {
    REQUIRE(f.cm(token, kEnumerateRpsBegin).ok());
    CHECK(f.next(kEnumerateCredentialsGetNextCredential).status == Status::NotAllowed);
    CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);  // that ended it too
    REQUIRE(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com")).ok());
    CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);
    CHECK(f.next(kEnumerateCredentialsGetNextCredential).status == Status::NotAllowed);
  }
  SUBCASE("another credentialManagement subcommand in between") {
    REQUIRE(f.cm(token, kEnumerateRpsBegin).ok());
    REQUIRE(f.cm(token, kGetCredsMetadata).ok());
    CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);
  }
  SUBCASE("a failed subcommand in between") {
    REQUIRE(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com")).ok());
    CHECK(f.h.call(kCredentialManagement, Map{{1, 0x7f}}).status == Status::InvalidSubcommand);
    CHECK(f.next(kEnumerateCredentialsGetNextCredential).status == Status::NotAllowed);
  }
  SUBCASE("another command in between") {
    REQUIRE(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com")).ok());
    REQUIRE(f.h.call(kGetInfo).ok());
    CHECK(f.next(kEnumerateCredentialsGetNextCredential).status == Status::NotAllowed);
  }
  SUBCASE("a Begin restarts the enumeration") {
    REQUIRE(f.cm(token, kEnumerateRpsBegin).ok());
    REQUIRE(f.next(kEnumerateRpsGetNextRp).ok());
    Response again = f.cm(token, kEnumerateRpsBegin);
    REQUIRE(again.ok());
    CHECK(field(again, 5) == cbor::Value(2));
    CHECK(f.next(kEnumerateRpsGetNextRp).ok());
    CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);
  }
}

TEST_CASE("deleteCredential: the credential is gone and no longer asserts") {
  Fixture f;
  Bytes token = f.cm_token();
  REQUIRE(f.assert_with(f.bob().id).ok());
  Response del = f.cm(token, kDeleteCredential, credential_params(f.bob().id));
  REQUIRE_MESSAGE(del.ok(), del.status);
  CHECK_FALSE(del.body.has_value());
  CHECK(f.h.state().find_credential(f.bob().id) == nullptr);
  CHECK(f.assert_with(f.bob().id).status == Status::NoCredentials);
  CHECK(f.assert_with(f.alice().id).ok());

  Response meta = f.cm(token, kGetCredsMetadata);
  REQUIRE(meta.ok());
  CHECK(field(meta, 1) == cbor::Value(2));
  Response rps = f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com"));
  CHECK(field(rps, 9) == cbor::Value(1));
  CHECK(unpack_enumerated(rps).id == f.alice().id);

  // Again, and an ID that was never ours.
  CHECK(f.cm(token, kDeleteCredential, credential_params(f.bob().id)).status == Status::NoCredentials);
  CHECK(f.cm(token, kDeleteCredential, credential_params(Bytes(48, 0x5a))).status == Status::NoCredentials);
}

TEST_CASE("deleteCredential of an RP's last credential removes the RP from the enumeration") {
  Fixture f;
  Bytes token = f.cm_token();
  REQUIRE(f.cm(token, kDeleteCredential, credential_params(f.carol().id)).ok());
  Response rps = f.cm(token, kEnumerateRpsBegin);
  REQUIRE(rps.ok());
  CHECK(field(rps, 5) == cbor::Value(1));
  CHECK(*field(rps, 3).find("id") == cbor::Value("example.com"));
  CHECK(f.next(kEnumerateRpsGetNextRp).status == Status::NotAllowed);
}

TEST_CASE("updateUserInformation: the new name is what a verified getAssertion returns") {
  Fixture f;
  Bytes token = f.cm_token();
  const Map user{{"id", kAlice.user_id}, {"name", "alice.smith@example.com"}};  // displayName removed
  Map params{{2, descriptor(f.alice().id)}, {3, user}};
  Response up = f.cm(token, kUpdateUserInformation, params);
  REQUIRE_MESSAGE(up.ok(), up.status);
  CHECK_FALSE(up.body.has_value());

  // Same credential: ID, key and place among the RP's credentials (still older than bob's).
  const store::Credential* stored = f.h.state().find_credential(f.alice().id);
  REQUIRE(stored);
  CHECK(stored->user_name == "alice.smith@example.com");
  CHECK(stored->user_display_name.empty());
  CHECK(f.h.state().credentials.size() == 3);
  Response e = f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com"));
  REQUIRE(e.ok());
  CHECK(unpack_enumerated(e).id == f.bob().id);
  Enumerated alice = unpack_enumerated(f.next(kEnumerateCredentialsGetNextCredential));
  CHECK(alice.user == user);
  CHECK(same_key(alice.public_key, f.alice().public_key));

  // A discoverable getAssertion with user verification shows the names.
  Bytes ga = f.client.token(kPin, kPermGa, std::string("example.com"));
  GetAssertionRequest req;
  req.pin_auth = f.client.authenticate(ga, req.client_data_hash);
  req.pin_protocol = 1;
  Assertion newest = unpack_assertion(f.h.call(kGetAssertion, req.build()));
  CHECK(newest.auth_data.uv());
  REQUIRE(newest.number_of_credentials == 2u);
  Assertion older = unpack_assertion(f.h.call(kGetNextAssertion));
  CHECK(older.credential_id == f.alice().id);
  REQUIRE(older.user.has_value());
  CHECK(older.user->at("id") == cbor::Value(kAlice.user_id));
  CHECK(older.user->at("name") == cbor::Value("alice.smith@example.com"));
  CHECK(older.user->count("displayName") == 0);
  CHECK(verifies(f.alice().public_key, older, req.client_data_hash));
}

TEST_CASE("updateUserInformation: another user.id → INVALID_PARAMETER; unknown credential → NO_CREDENTIALS") {
  Fixture f;
  Bytes token = f.cm_token();
  Map wrong_user{{2, descriptor(f.alice().id)}, {3, Map{{"id", kBob.user_id}, {"name", "mallory"}}}};
  CHECK(f.cm(token, kUpdateUserInformation, wrong_user).status == Status::InvalidParameter);
  CHECK(f.h.state().find_credential(f.alice().id)->user_name == kAlice.name);

  Map unknown{{2, descriptor(Bytes(40, 0x11))}, {3, Map{{"id", kAlice.user_id}}}};
  CHECK(f.cm(token, kUpdateUserInformation, unknown).status == Status::NoCredentials);
}

TEST_CASE("authorisation: pinUvAuthParam and pinUvAuthProtocol") {
  Fixture f;
  Bytes token = f.cm_token();
  const std::vector<std::pair<int, std::optional<Map>>> guarded{
      {kGetCredsMetadata, std::nullopt},
      {kEnumerateRpsBegin, std::nullopt},
      {kEnumerateCredentialsBegin, rp_hash_params("example.com")},
      {kDeleteCredential, credential_params(f.bob().id)},
      {kUpdateUserInformation, Map{{2, descriptor(f.alice().id)}, {3, Map{{"id", kAlice.user_id}}}}},
  };
  for (const auto& entry : guarded) {
    // (not a structured binding: CAPTURE's lambda cannot capture one under clang 14)
    const int sub = entry.first;
    const std::optional<Map>& params = entry.second;
    CAPTURE(sub);
    Map req = cm_request(f.client, token, sub, params);

    Map no_param = req;
    no_param.erase(4);
    CHECK(f.h.call(kCredentialManagement, no_param).status == Status::PuatRequired);
    no_param.erase(3);
    CHECK(f.h.call(kCredentialManagement, no_param).status == Status::PuatRequired);

    Map no_protocol = req;
    no_protocol.erase(3);
    CHECK(f.h.call(kCredentialManagement, no_protocol).status == Status::MissingParameter);

    Map unknown_protocol = req;
    unknown_protocol[3] = 7;
    CHECK(f.h.call(kCredentialManagement, unknown_protocol).status == Status::InvalidParameter);

    Map bad_mac = req;
    Bytes mac = req[4].as_bytes();
    mac[0] ^= 0x01;
    bad_mac[4] = mac;
    CHECK(f.h.call(kCredentialManagement, bad_mac).status == Status::PinAuthInvalid);

    Map short_mac = req;
    short_mac[4] = Bytes(mac.begin(), mac.begin() + 8);
    CHECK(f.h.call(kCredentialManagement, short_mac).status == Status::PinAuthInvalid);

    // A MAC over the subCommand alone does not cover parameters, and the other way round.
    Map wrong_message = req;
    wrong_message[4] =
        f.client.authenticate(token, cm_message(sub, params ? std::optional<Map>() : std::optional<Map>(Map{})));
    CHECK(f.h.call(kCredentialManagement, wrong_message).status == Status::PinAuthInvalid);
  }
  // Nothing changed.
  CHECK(f.h.state().credentials.size() == 3);
  CHECK(f.h.state().find_credential(f.alice().id)->user_name == kAlice.name);
}

TEST_CASE("authorisation: a MAC over other parameters → PIN_AUTH_INVALID") {
  Fixture f;
  Bytes token = f.cm_token();
  Map req = cm_request(f.client, token, kEnumerateCredentialsBegin, rp_hash_params("other.org"));
  req[2] = rp_hash_params("example.com");
  CHECK(f.h.call(kCredentialManagement, req).status == Status::PinAuthInvalid);

  Map del = cm_request(f.client, token, kDeleteCredential, credential_params(f.carol().id));
  del[2] = credential_params(f.bob().id);
  CHECK(f.h.call(kCredentialManagement, del).status == Status::PinAuthInvalid);
  CHECK(f.h.state().credentials.size() == 3);
}

TEST_CASE("authorisation: without a token (no PIN, or never asked) → PIN_AUTH_INVALID") {
  {
    Harness h;
    TokenClient c(h, 1);
    CHECK(h.call(kCredentialManagement, cm_request(c, Bytes(32, 0), kGetCredsMetadata)).status ==
          Status::PinAuthInvalid);
  }
  Fixture f;
  CHECK(f.cm(Bytes(32, 0), kGetCredsMetadata).status == Status::PinAuthInvalid);
}

TEST_CASE("authorisation: a token without the cm permission is refused") {
  Fixture f;
  SUBCASE("getPinToken (0x05) grants only mc and ga in CTAP 2.1") {
    auto legacy = f.pin.get_pin_token(kPin);
    REQUIRE(legacy.has_value());
    CHECK(f.cm(*legacy, kGetCredsMetadata).status == kDenied);
    CHECK(f.cm(*legacy, kEnumerateRpsBegin).status == kDenied);
    CHECK(f.cm(*legacy, kDeleteCredential, credential_params(f.bob().id)).status == kDenied);
  }
  SUBCASE("0x09 with mc|ga") {
    Bytes token = f.client.token(kPin, kPermMc | kPermGa);
    CHECK(f.cm(token, kGetCredsMetadata).status == kDenied);
    CHECK(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com")).status == kDenied);
  }
  CHECK(f.h.state().credentials.size() == 3);
}

TEST_CASE("authorisation: a token bound to one RP manages only that RP's credentials") {
  Fixture f;
  Bytes token = f.cm_token(std::string("other.org"));
  // Whole-key views need a token bound to no RP.
  CHECK(f.cm(token, kGetCredsMetadata).status == kDenied);
  CHECK(f.cm(token, kEnumerateRpsBegin).status == kDenied);
  // Another RP's credentials.
  CHECK(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com")).status == kDenied);
  CHECK(f.cm(token, kDeleteCredential, credential_params(f.bob().id)).status == kDenied);
  CHECK(f.cm(token, kUpdateUserInformation,
             Map{{2, descriptor(f.alice().id)}, {3, Map{{"id", kAlice.user_id}, {"name", "x"}}}})
            .status == kDenied);
  CHECK(f.h.state().credentials.size() == 3);
  CHECK(f.h.state().find_credential(f.alice().id)->user_name == kAlice.name);
  // Its own RP's, and using them does not bind the token elsewhere.
  Enumerated carol = unpack_enumerated(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("other.org")));
  CHECK(carol.id == f.carol().id);
  REQUIRE(
      f.cm(token, kUpdateUserInformation, Map{{2, descriptor(f.carol().id)}, {3, Map{{"id", kCarol.user_id}}}}).ok());
  CHECK(f.h.state().find_credential(f.carol().id)->user_name.empty());
  REQUIRE(f.cm(token, kDeleteCredential, credential_params(f.carol().id)).ok());
  CHECK(f.h.state().credentials.size() == 2);
}

TEST_CASE("authorisation: an unbound cm token is not bound by using it") {
  Fixture f;
  Bytes token = f.cm_token();
  REQUIRE(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("other.org")).ok());
  REQUIRE(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com")).ok());
  REQUIRE(f.cm(token, kDeleteCredential, credential_params(f.carol().id)).ok());
  REQUIRE(f.cm(token, kGetCredsMetadata).ok());
  REQUIRE(f.cm(token, kEnumerateRpsBegin).ok());
}

TEST_CASE("PIN protocol 2: full-length pinUvAuthParam over the same message") {
  Fixture f(2);
  Bytes token = f.cm_token();
  Response meta = f.cm(token, kGetCredsMetadata);
  REQUIRE_MESSAGE(meta.ok(), meta.status);
  CHECK(field(meta, 1) == cbor::Value(3));
  Enumerated bob = unpack_enumerated(f.cm(token, kEnumerateCredentialsBegin, rp_hash_params("example.com")));
  CHECK(bob.id == f.bob().id);
  REQUIRE(f.cm(token, kDeleteCredential, credential_params(f.bob().id)).ok());
  CHECK(f.h.state().credentials.size() == 2);

  // A protocol 2 token does not verify as protocol 1 (16-byte truncation).
  Map req = cm_request(f.client, token, kGetCredsMetadata);
  req[3] = 1;
  req[4] = Bytes(req[4].as_bytes().begin(), req[4].as_bytes().begin() + 16);
  CHECK(f.h.call(kCredentialManagement, req).status == Status::PinAuthInvalid);
}

TEST_CASE("request errors: types, missing members, unknown subcommands") {
  Fixture f;
  Bytes token = f.cm_token();
  auto call = [&](const Map& m) { return f.h.call(kCredentialManagement, m).status; };

  CHECK(call(Map{}) == Status::MissingParameter);
  CHECK(call(Map{{2, Map{}}, {3, 1}}) == Status::MissingParameter);
  CHECK(call(Map{{1, "one"}}) == Status::CborUnexpectedType);
  CHECK(call(Map{{1, -1}}) == Status::InvalidSubcommand);
  CHECK(call(Map{{1, 0}}) == Status::InvalidSubcommand);
  CHECK(call(Map{{1, 8}}) == Status::InvalidSubcommand);
  CHECK(call(Map{{1, 0xff}}) == Status::InvalidSubcommand);
  CHECK(call(Map{{1, kGetCredsMetadata}, {2, Bytes{1}}}) == Status::CborUnexpectedType);
  CHECK(call(Map{{1, kGetCredsMetadata}, {3, "1"}, {4, Bytes(16, 0)}}) == Status::CborUnexpectedType);
  CHECK(call(Map{{1, kGetCredsMetadata}, {3, 1}, {4, "mac"}}) == Status::CborUnexpectedType);

  // Subcommands with parameters: missing or mistyped members.
  CHECK(f.cm(token, kEnumerateCredentialsBegin).status == Status::MissingParameter);
  CHECK(f.cm(token, kEnumerateCredentialsBegin, Map{}).status == Status::MissingParameter);
  CHECK(f.cm(token, kEnumerateCredentialsBegin, Map{{1, "example.com"}}).status == Status::CborUnexpectedType);
  CHECK(f.cm(token, kDeleteCredential).status == Status::MissingParameter);
  CHECK(f.cm(token, kDeleteCredential, Map{{1, rp_hash("example.com")}}).status == Status::MissingParameter);
  CHECK(f.cm(token, kDeleteCredential, Map{{2, f.bob().id}}).status == Status::CborUnexpectedType);
  CHECK(f.cm(token, kDeleteCredential, Map{{2, Map{{"type", "public-key"}}}}).status == Status::MissingParameter);
  CHECK(f.cm(token, kDeleteCredential, Map{{2, Map{{"id", f.bob().id}}}}).status == Status::MissingParameter);
  CHECK(f.cm(token, kDeleteCredential, Map{{2, Map{{"id", "x"}, {"type", "public-key"}}}}).status ==
        Status::CborUnexpectedType);
  CHECK(f.cm(token, kUpdateUserInformation, credential_params(f.alice().id)).status == Status::MissingParameter);
  CHECK(f.cm(token, kUpdateUserInformation, Map{{3, Map{{"id", kAlice.user_id}}}}).status == Status::MissingParameter);
  CHECK(f.cm(token, kUpdateUserInformation, Map{{2, descriptor(f.alice().id)}, {3, Map{{"name", "x"}}}}).status ==
        Status::MissingParameter);
  CHECK(f.cm(token, kUpdateUserInformation, Map{{2, descriptor(f.alice().id)}, {3, "alice"}}).status ==
        Status::CborUnexpectedType);
  CHECK(f.cm(token, kUpdateUserInformation,
             Map{{2, descriptor(f.alice().id)}, {3, Map{{"id", kAlice.user_id}, {"name", 5}}}})
            .status == Status::CborUnexpectedType);
  CHECK(f.h.state().credentials.size() == 3);
  CHECK(f.h.state().find_credential(f.alice().id)->user_name == kAlice.name);
}

TEST_CASE("a descriptor of another type names no credential of ours") {
  Fixture f;
  Bytes token = f.cm_token();
  CHECK(f.cm(token, kDeleteCredential, Map{{2, descriptor(f.bob().id, "not-a-key")}}).status == Status::NoCredentials);
  CHECK(f.h.state().credentials.size() == 3);
}

TEST_CASE("credentialManagementPreview (0x41) is the same command") {
  Fixture f;
  Bytes token = f.cm_token();
  Response meta = f.h.call(kCredentialManagementPreview, cm_request(f.client, token, kGetCredsMetadata));
  REQUIRE_MESSAGE(meta.ok(), meta.status);
  CHECK(field(meta, 1) == cbor::Value(3));
  REQUIRE(f.h.call(kCredentialManagementPreview, cm_request(f.client, token, kEnumerateRpsBegin)).ok());
  CHECK(f.h.call(kCredentialManagementPreview, Map{{1, kEnumerateRpsGetNextRp}}).ok());
}
