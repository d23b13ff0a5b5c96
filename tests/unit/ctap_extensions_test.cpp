// makeCredential/getAssertion extensions: hmac-secret (both PIN/UV auth
// protocols, one and two salts, UV and non-UV CredRandom, the W3C known-answer
// vectors), hmac-secret-mc, credBlob, largeBlobKey, thirdPartyPayment, and the
// errors for malformed inputs.
#include <doctest/doctest.h>

#include "store/codec.h"
#include "tests/unit/ctap_ext_support.h"
#include "vauth/ctap/extensions.h"
#include "vauth/ctap/large_blobs.h"
#include "vauth/ctap/pin_protocol.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

const Bytes kSalt1(32, 0x5a), kSalt2(32, 0xa5);

Map with_extensions(Map request, int key, Map extensions) {
  request[key] = std::move(extensions);
  return request;
}

Response make(Harness& h, Map extensions, bool rk = false, std::vector<int> algs = {-7}) {
  MakeCredentialRequest req;
  if (rk) req.rk();
  req.algorithms = std::move(algs);
  return h.call(kMakeCredential, with_extensions(req.build(), 6, std::move(extensions)));
}

Response assert_with(Harness& h, Map extensions, std::optional<Bytes> allow = {}, std::optional<Bytes> pin_auth = {},
                     int protocol = 2) {
  GetAssertionRequest req;
  if (allow) req.allow(*allow);
  if (pin_auth) {
    req.pin_auth = pin_auth;
    req.pin_protocol = protocol;
  }
  return h.call(kGetAssertion, with_extensions(req.build(), 4, std::move(extensions)));
}

// The decrypted hmac-secret output of an assertion.
Bytes hmac_output(Platform& p, const Response& r, const char* name = "hmac-secret") {
  Assertion a = unpack_assertion(r);
  const cbor::Value* out = auth_data_extension(a.auth_data, name);
  REQUIRE_MESSAGE(out, "no ", name, " output");
  REQUIRE(out->is_bytes());
  auto plain = p.decrypt(out->as_bytes());
  REQUIRE(plain);
  return *plain;
}

Bytes hmac_secret(Harness& h, Platform& p, const Bytes& id, const Bytes& salt1, const Bytes& salt2 = {}) {
  Response r = assert_with(h, Map{{"hmac-secret", p.hmac_secret_input(salt1, salt2)}}, id);
  REQUIRE(r.ok());
  return hmac_output(p, r);
}

// An Rng that hands out scripted bytes (the fixed IVs of the known-answer vectors).
class ScriptedRng final : public crypto::Rng {
 public:
  explicit ScriptedRng(Bytes bytes) : bytes_(std::move(bytes)) {}
  void fill(std::span<uint8_t> out) override {
    REQUIRE(out.size() <= bytes_.size() - used_);
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(used_), out.size(), out.begin());
    used_ += out.size();
  }

 private:
  Bytes bytes_;
  size_t used_ = 0;
};

Bytes hex(std::string_view s) {
  auto b = from_hex(s);
  REQUIRE(b);
  return *b;
}

}  // namespace

TEST_CASE("hmac-secret: known-answer vectors (W3C WebAuthn PRF, PIN/UV auth protocols 1 and 2)") {
  // /work/shared/golden/w3c-webauthn-test-vectors.bs.txt, "CTAP2 hmac-secret extension".
  const Bytes seed = to_bytes("WebAuthn PRF test vectors");
  auto authenticator_key =
      crypto::PrivateKey::from_bytes(crypto::Algorithm::ES256, crypto::sha256(concat(seed, Bytes{0x05})));
  auto platform_key = crypto::PrivateKey::from_bytes(
      crypto::Algorithm::ES256, hex("0971bc7fb1be48270adcd3d9a5fc15d5fb0f335b3071ff36a54c007fa6c76514"));
  REQUIRE(authenticator_key);
  REQUIRE(platform_key);
  CHECK(to_hex(authenticator_key->public_key().x()) ==
        "a30522c2de402b561965c3cf949a1cab020c6f6ea36fcf7e911ac1a0f1515300");
  const Bytes cred_random = hex("437e065e723a98b2f08f39d8baf7c53ecb3c363c5e5104bdaaf5d5ca2e028154");
  const auto& pub = platform_key->public_key();
  const Map platform_cose{{1, 2}, {3, -25}, {-1, 1}, {-2, pub.x()}, {-3, pub.y()}};
  const std::string output1 = "3c33e07d202c3b029cc21f1722767021bf27d595933b3d2b6a1b9d5dddc77fae";
  const std::string output2 = "a62a8773b19cda90d7ed4ef72a80a804320dbd3997e2f663805ad1fd3293d50b";

  auto run = [&](int protocol, const std::string& shared_hex, const std::string& salt_enc_hex, const Bytes& iv) {
    const ctap::PinProtocol* proto = ctap::pin_protocol(protocol);
    REQUIRE(proto);
    const Bytes salt_enc = hex(salt_enc_hex);
    const Bytes shared = hex(shared_hex);
    Bytes salt_auth = crypto::hmac_sha256(ByteView(shared).first(32), salt_enc);
    if (protocol == 1) salt_auth.resize(16);
    ctap::HmacSecretInput in;
    REQUIRE(ctap::parse_hmac_secret_input(cbor::Value(Map{{1, platform_cose}, {2, salt_enc}, {3, salt_auth},
                                                         {4, protocol}}),
                                          *authenticator_key, in) == Status::Ok);
    CHECK(to_hex(in.shared_secret) == shared_hex);
    ScriptedRng rng(iv);
    auto out = ctap::hmac_secret_output(in, cred_random, rng);
    REQUIRE(out);
    return to_hex(*out);
  };

  SUBCASE("protocol 2, one salt") {
    const Bytes h = crypto::sha256(concat(seed, Bytes{0x09}));
    const Bytes iv(h.begin(), h.begin() + 16);
    CHECK(run(2,
              "0c63083de8170101d38bcf8bd72309568ddb4550867e23404b35d85712f7c20d8bc911ee23c06034cbc14290b9669bec07739053"
              "c5a416e313ef905c79955876",
              "23dde5e3462daf36559b85c4ac5f9656aa9bfd81c1dc2bf8533c8b9f3882854786b4f500e25b4e3d81f7fc7c74236229", iv) ==
          "3bfaa48f7952330d63e35ff8cd5bca48d2a12823828915749287256ab146272f9fb437bf65691243c3f504bd7ea6d5e6");
  }
  SUBCASE("protocol 2, two salts") {
    const Bytes h = crypto::sha256(concat(seed, Bytes{0x0a}));
    const Bytes iv(h.begin(), h.begin() + 16);
    CHECK(run(2,
              "0c63083de8170101d38bcf8bd72309568ddb4550867e23404b35d85712f7c20d8bc911ee23c06034cbc14290b9669bec07739053"
              "c5a416e313ef905c79955876",
              "d9f4236403e0fe843a8e4e5be764d120904c198ad6e77b089876a3391961f183b0008b4ca66b91cd72aa35b6151ff981f6e5649f"
              "3c040e6615ad7dd8ae96ef23b229a5c97c3f0dcd8605eee166ce163a",
              iv) ==
          "90ee52f739043bc17b3488a74306d7801debb5b61f18662c648a25b5b5678ede482cdaff99a537a44f064fcb10ce6e04dfd27619dc"
          "96a0daff8507e499296b1eecf0981f7c8518b277a7a3018f5ec6fb");
  }
  SUBCASE("protocol 1, one salt") {
    CHECK(run(1, "23e5ed7157c25892b77732fb9c8a107e3518800db2af4142f9f4adfacb771d39",
              "ab8c878bb05d04700f077ed91845ec9c503c925cb12b327ddbeb4243c397f913", Bytes{}) ==
          "15d4e4f3f04109b492b575c1b38c28585b6719cf8d61304215108d939f37ccfb");
  }
  // The plain outputs are HMAC-SHA-256(CredRandom, salt): check the definition too.
  const Bytes salt1 = crypto::sha256(concat(to_bytes("WebAuthn PRF"), Bytes{0x00}, seed, Bytes{0x02}));
  CHECK(to_hex(salt1) == "527413ebb48293772df30f031c5ac4650c7de14bf9498671ae163447b6a772b3");
  CHECK(to_hex(crypto::hmac_sha256(cred_random, salt1)) == output1);
  const Bytes salt2 = crypto::sha256(concat(to_bytes("WebAuthn PRF"), Bytes{0x00}, seed, Bytes{0x03}));
  CHECK(to_hex(crypto::hmac_sha256(cred_random, salt2)) == output2);
}

TEST_CASE("hmac-secret: makeCredential says true; getAssertion answers both protocols, one and two salts") {
  Harness h;
  for (bool rk : {false, true}) {
    CAPTURE(rk);
    Response mc = make(h, Map{{"hmac-secret", true}}, rk);
    Credential c = *unpack_credential(mc);
    const cbor::Value* out = auth_data_extension(c.auth_data, "hmac-secret");
    REQUIRE(out);
    CHECK(*out == cbor::Value(true));
    for (int protocol : {1, 2}) {
      CAPTURE(protocol);
      Platform p(h, protocol);
      const Bytes one = hmac_secret(h, p, c.id, kSalt1);
      CHECK(one.size() == 32);
      const Bytes two = hmac_secret(h, p, c.id, kSalt1, kSalt2);
      REQUIRE(two.size() == 64);
      CHECK(Bytes(two.begin(), two.begin() + 32) == one);  // the same CredRandom and salt
      CHECK(Bytes(two.begin() + 32, two.end()) != one);
      // Deterministic per credential: a fresh key agreement gives the same secret.
      CHECK(hmac_secret(h, p, c.id, kSalt1) == one);
    }
  }
}

TEST_CASE("hmac-secret: each credential has its own CredRandom, and protocols agree") {
  Harness h;
  Credential a = *unpack_credential(make(h, Map{{"hmac-secret", true}}));
  Credential b = *unpack_credential(make(h, Map{{"hmac-secret", true}}));
  Platform p1(h, 1), p2(h, 2);
  const Bytes a1 = hmac_secret(h, p1, a.id, kSalt1);
  CHECK(hmac_secret(h, p2, a.id, kSalt1) == a1);  // the protocol only changes the wrapping
  CHECK(hmac_secret(h, p1, b.id, kSalt1) != a1);
}

TEST_CASE("hmac-secret: user verification selects the other CredRandom") {
  Harness h;
  Platform p(h, 2);
  REQUIRE(p.set_pin("1234").ok());
  for (bool rk : {false, true}) {
    CAPTURE(rk);
    auto token = p.token("1234", kPermMc | kPermGa);
    REQUIRE(token);
    MakeCredentialRequest req;
    if (rk) req.rk();
    req.pin_auth = p.authenticate(*token, req.client_data_hash);
    req.pin_protocol = 2;
    Credential c = *unpack_credential(h.call(kMakeCredential, with_extensions(req.build(), 6, Map{{"hmac-secret", true}})));

    const Bytes without_uv = hmac_secret(h, p, c.id, kSalt1);
    token = p.token("1234", kPermGa);
    REQUIRE(token);
    const Map input = p.hmac_secret_input(kSalt1);
    Response r = assert_with(h, Map{{"hmac-secret", input}}, c.id, p.authenticate(*token, cdh(0x22)));
    REQUIRE(r.ok());
    CHECK(unpack_assertion(r).auth_data.uv());
    const Bytes with_uv = hmac_output(p, r);
    CHECK(with_uv.size() == 32);
    CHECK(with_uv != without_uv);
  }
}

TEST_CASE("hmac-secret: a credential made without it gets no output; discoverable lookups answer too") {
  Harness h;
  Credential plain = make_credential(h);
  Platform p(h, 2);
  Response r = assert_with(h, Map{{"hmac-secret", p.hmac_secret_input(kSalt1)}}, plain.id);
  REQUIRE(r.ok());
  CHECK_FALSE(auth_data_extension(unpack_assertion(r).auth_data, "hmac-secret"));

  Credential rk = *unpack_credential(make(h, Map{{"hmac-secret", true}}, true));
  const Bytes by_id = hmac_secret(h, p, rk.id, kSalt1);
  Response discovered = assert_with(h, Map{{"hmac-secret", p.hmac_secret_input(kSalt1)}});
  REQUIRE(discovered.ok());
  CHECK(hmac_output(p, discovered) == by_id);
}

TEST_CASE("hmac-secret: malformed inputs get the spec's error and sign nothing") {
  Harness h;
  Credential c = *unpack_credential(make(h, Map{{"hmac-secret", true}}));
  Platform p(h, 2);
  const uint32_t count = h.state().sign_count;
  Map good = p.hmac_secret_input(kSalt1);

  SUBCASE("saltAuth does not match") {
    Map bad = good;
    Bytes auth = bad[3].as_bytes();
    auth[0] ^= 1;
    bad[3] = auth;
    CHECK(assert_with(h, Map{{"hmac-secret", bad}}, c.id).status == Status::PinAuthInvalid);
  }
  SUBCASE("salts of the wrong length") {
    Map bad = good;
    const Bytes salt_enc = p.encrypt(Bytes(48, 1));
    bad[2] = salt_enc;
    bad[3] = p.authenticate_shared(salt_enc);
    CHECK(assert_with(h, Map{{"hmac-secret", bad}}, c.id).status == Status::InvalidLength);
  }
  SUBCASE("no keyAgreement") {
    Map bad = good;
    bad.erase(cbor::Value(1));
    CHECK(assert_with(h, Map{{"hmac-secret", bad}}, c.id).status == Status::MissingParameter);
  }
  SUBCASE("no saltAuth") {
    Map bad = good;
    bad.erase(cbor::Value(3));
    CHECK(assert_with(h, Map{{"hmac-secret", bad}}, c.id).status == Status::MissingParameter);
  }
  SUBCASE("an unsupported protocol") {
    Map bad = good;
    bad[4] = 3;
    CHECK(assert_with(h, Map{{"hmac-secret", bad}}, c.id).status == Status::InvalidParameter);
  }
  SUBCASE("a key that is not on the curve") {
    Map bad = good;
    Map key = bad[1].as_map();
    Bytes y = key[-3].as_bytes();
    y[31] ^= 1;
    key[-3] = y;
    bad[1] = key;
    CHECK(assert_with(h, Map{{"hmac-secret", bad}}, c.id).status == Status::InvalidParameter);
  }
  SUBCASE("not a map") {
    CHECK(assert_with(h, Map{{"hmac-secret", true}}, c.id).status == Status::CborUnexpectedType);
  }
  SUBCASE("the wrong protocol's key agreement (protocol 1 input declared as 2)") {
    Platform p1(h, 1);
    Map bad = p1.hmac_secret_input(kSalt1);
    bad[4] = 2;
    CHECK(assert_with(h, Map{{"hmac-secret", bad}}, c.id).status == Status::PinAuthInvalid);
  }
  CHECK(h.state().sign_count == count);
}

TEST_CASE("hmac-secret-mc: the secret at creation equals the one getAssertion gives later") {
  Harness h;
  for (int protocol : {1, 2}) {
    for (bool rk : {false, true}) {
      CAPTURE(protocol);
      CAPTURE(rk);
      Platform p(h, protocol);
      Response mc = make(h, Map{{"hmac-secret", true}, {"hmac-secret-mc", p.hmac_secret_input(kSalt1, kSalt2)}}, rk);
      Credential c = *unpack_credential(mc);
      const cbor::Value* out = auth_data_extension(c.auth_data, "hmac-secret-mc");
      REQUIRE(out);
      auto at_creation = p.decrypt(out->as_bytes());
      REQUIRE(at_creation);
      CHECK(*at_creation == hmac_secret(h, p, c.id, kSalt1, kSalt2));
    }
  }
  SUBCASE("without hmac-secret: true it is ignored") {
    Platform p(h, 2);
    Credential c = *unpack_credential(make(h, Map{{"hmac-secret-mc", p.hmac_secret_input(kSalt1)}}));
    CHECK_FALSE(c.auth_data.extensions);
  }
  SUBCASE("a bad saltAuth is refused") {
    Platform p(h, 2);
    Map bad = p.hmac_secret_input(kSalt1);
    bad[3] = Bytes(32, 0);
    CHECK(make(h, Map{{"hmac-secret", true}, {"hmac-secret-mc", bad}}).status == Status::PinAuthInvalid);
  }
}

TEST_CASE("credBlob: stored with a discoverable credential, returned on request") {
  Harness h;
  const Bytes blob(32, 0xcb);
  Credential c = *unpack_credential(make(h, Map{{"credBlob", blob}}, true));
  const cbor::Value* stored = auth_data_extension(c.auth_data, "credBlob");
  REQUIRE(stored);
  CHECK(*stored == cbor::Value(true));
  REQUIRE(h.state().find_credential(c.id));
  CHECK(h.state().find_credential(c.id)->cred_blob == blob);

  Response r = assert_with(h, Map{{"credBlob", true}});
  REQUIRE(r.ok());
  const Assertion a = unpack_assertion(r);
  const cbor::Value* got = auth_data_extension(a.auth_data, "credBlob");
  REQUIRE(got);
  CHECK(*got == cbor::Value(blob));
  // Not asked for: not returned.
  CHECK_FALSE(unpack_assertion(assert_with(h, Map{})).auth_data.extensions);
  CHECK_FALSE(unpack_assertion(assert_with(h, Map{{"credBlob", false}})).auth_data.extensions);
}

TEST_CASE("credBlob: too long, or non-discoverable, is not stored (credBlob: false)") {
  Harness h;
  for (bool rk : {true, false}) {
    CAPTURE(rk);
    const Bytes blob(rk ? 33 : 8, 0xcb);
    Credential c = *unpack_credential(make(h, Map{{"credBlob", blob}}, rk));
    const cbor::Value* stored = auth_data_extension(c.auth_data, "credBlob");
    REQUIRE(stored);
    CHECK(*stored == cbor::Value(false));
    Response r = assert_with(h, Map{{"credBlob", true}}, c.id);
    REQUIRE(r.ok());
    const Assertion a = unpack_assertion(r);
  const cbor::Value* got = auth_data_extension(a.auth_data, "credBlob");
    REQUIRE(got);
    CHECK(*got == cbor::Value(Bytes{}));  // nothing stored: an empty byte string
  }
  ctap::Profile profile;
  profile.max_cred_blob_length = 64;
  Harness big(profile);
  Credential c = *unpack_credential(make(big, Map{{"credBlob", Bytes(64, 1)}}, true));
  CHECK(*auth_data_extension(c.auth_data, "credBlob") == cbor::Value(true));
}

TEST_CASE("largeBlobKey: 32 random bytes per discoverable credential, in makeCredential 0x05 and getAssertion 0x07") {
  Harness h;
  Response mc = make(h, Map{{"largeBlobKey", true}}, true);
  REQUIRE(mc.ok());
  const cbor::Value* key = mc.get(5);
  REQUIRE(key);
  REQUIRE(key->is_bytes());
  CHECK(key->as_bytes().size() == 32);
  Credential c = *unpack_credential(mc);
  CHECK_FALSE(c.auth_data.extensions);  // the key is a response member, not an authData extension

  Response ga = assert_with(h, Map{{"largeBlobKey", true}});
  REQUIRE(ga.ok());
  REQUIRE(ga.get(7));
  CHECK(*ga.get(7) == *key);
  CHECK_FALSE(assert_with(h, Map{}).get(7));

  MakeCredentialRequest second;
  second.rk();
  second.user_id = {9, 9};
  Response mc2 = h.call(kMakeCredential, with_extensions(second.build(), 6, Map{{"largeBlobKey", true}}));
  REQUIRE(mc2.get(5));
  CHECK(*mc2.get(5) != *key);
  CHECK_FALSE(make(h, Map{}, true).get(5));  // not asked for
}

TEST_CASE("largeBlobKey: false, or without rk, is CTAP2_ERR_INVALID_OPTION") {
  Harness h;
  const size_t before = h.state().credentials.size();
  CHECK(make(h, Map{{"largeBlobKey", false}}, true).status == Status::InvalidOption);
  CHECK(make(h, Map{{"largeBlobKey", true}}, false).status == Status::InvalidOption);
  CHECK(make(h, Map{{"largeBlobKey", 1}}, true).status == Status::CborUnexpectedType);
  CHECK(h.state().credentials.size() == before);
  make(h, Map{}, true);
  CHECK(assert_with(h, Map{{"largeBlobKey", false}}).status == Status::InvalidOption);
  // With large blobs turned off the extension is unknown, so ignored.
  ctap::Profile off;
  off.max_serialized_large_blob_array = 0;
  Harness h2(off);
  Response mc = make(h2, Map{{"largeBlobKey", true}}, true);
  REQUIRE(mc.ok());
  CHECK_FALSE(mc.get(5));
}

TEST_CASE("thirdPartyPayment: remembered by discoverable and non-discoverable credentials") {
  Harness h;
  for (bool rk : {false, true}) {
    CAPTURE(rk);
    MakeCredentialRequest req;
    if (rk) req.rk();
    req.user_id = {static_cast<uint8_t>(rk), 1};
    Credential payment =
        *unpack_credential(h.call(kMakeCredential, with_extensions(req.build(), 6, Map{{"thirdPartyPayment", true}})));
    Credential plain = *unpack_credential(make(h, Map{}, false));
    for (const auto* c : {&payment, &plain}) {
      Response r = assert_with(h, Map{{"thirdPartyPayment", true}}, c->id);
      REQUIRE(r.ok());
      const Assertion a = unpack_assertion(r);
      const cbor::Value* out = auth_data_extension(a.auth_data, "thirdPartyPayment");
      REQUIRE(out);
      CHECK(*out == cbor::Value(c == &payment));
    }
  }
}

TEST_CASE("extensions: unknown ones are ignored, known ones of the wrong type are CBOR_UNEXPECTED_TYPE") {
  Harness h;
  Response mc = make(h, Map{{"futureExtension", Map{{1, 2}}}, {"hmac-secret", true}});
  REQUIRE(mc.ok());
  Credential c = *unpack_credential(mc);
  REQUIRE(c.auth_data.extensions);
  CHECK(c.auth_data.extensions->as_map().size() == 1);  // only hmac-secret answers
  CHECK(assert_with(h, Map{{"futureExtension", 7}}, c.id).ok());
  CHECK(make(h, Map{{"hmac-secret", 1}}).status == Status::CborUnexpectedType);
  CHECK(make(h, Map{{"credBlob", "text"}}, true).status == Status::CborUnexpectedType);
  CHECK(make(h, Map{{"thirdPartyPayment", Bytes{1}}}).status == Status::CborUnexpectedType);
  CHECK(assert_with(h, Map{{"credBlob", 1}}, c.id).status == Status::CborUnexpectedType);
  CHECK(assert_with(h, Map{{"thirdPartyPayment", "yes"}}, c.id).status == Status::CborUnexpectedType);
}

TEST_CASE("extensions: getNextAssertion applies them to every remaining credential") {
  Harness h;
  for (uint8_t u = 1; u <= 2; ++u) {
    MakeCredentialRequest req;
    req.rk();
    req.user_id = {u};
    REQUIRE(h.call(kMakeCredential, with_extensions(req.build(), 6,
                                                    Map{{"hmac-secret", true}, {"credBlob", Bytes{u}}, {"largeBlobKey", true}}))
                .ok());
  }
  Platform p(h, 2);
  Response first = assert_with(h, Map{{"hmac-secret", p.hmac_secret_input(kSalt1)}, {"credBlob", true}, {"largeBlobKey", true}});
  REQUIRE(first.ok());
  Response next = h.call(kGetNextAssertion);
  REQUIRE(next.ok());
  Assertion a = unpack_assertion(first), b = unpack_assertion(next);
  CHECK(a.credential_id != b.credential_id);
  for (const Response* r : {&first, &next}) {
    Assertion x = unpack_assertion(*r);
    CHECK(hmac_output(p, *r).size() == 32);
    const store::Credential* record = h.state().find_credential(x.credential_id);
    REQUIRE(record);
    CHECK(*auth_data_extension(x.auth_data, "credBlob") == cbor::Value(record->cred_blob));
    REQUIRE(r->get(7));
    CHECK(r->get(7)->as_bytes() == record->large_blob_key);
  }
  CHECK(hmac_output(p, first) != hmac_output(p, next));
}

TEST_CASE("store codec: the extension fields round-trip, and old records read as 'none'") {
  store::Credential c;
  c.id = Bytes{1, 2, 3};
  c.rp_id = "example.com";
  c.cred_random_uv = Bytes(32, 1);
  c.cred_random_no_uv = Bytes(32, 2);
  c.cred_blob = Bytes{7};
  c.large_blob_key = Bytes(32, 3);
  c.third_party_payment = true;
  CHECK(store::codec::decode_credential(store::codec::encode(c)) == c);
  // A record written before these fields existed: {1: id, 2: rp id}.
  store::Credential old = store::codec::decode_credential(cbor::Value(Map{{1, Bytes{1, 2, 3}}, {2, Bytes{'a'}}}));
  CHECK(old.cred_random_uv.empty());
  CHECK(old.cred_blob.empty());
  CHECK(old.large_blob_key.empty());
  CHECK_FALSE(old.third_party_payment);
}

namespace {

// A discoverable credential with a largeBlobKey, made under a PIN token (p has set PIN "1234").
Response make_rk_with_large_blob_key(Harness& h, Platform& p) {
  auto token = p.token("1234", kPermMc);
  REQUIRE(token);
  MakeCredentialRequest req;
  req.rk();
  req.pin_auth = p.authenticate(*token, req.client_data_hash);
  req.pin_protocol = 2;
  Response mc = h.call(kMakeCredential, with_extensions(req.build(), 6, Map{{"largeBlobKey", true}}));
  REQUIRE(mc.ok());
  REQUIRE(mc.get(5));
  return mc;
}

// authenticatorCredentialManagement `sub` with its params, authenticated (protocol
// 2) over sub || CBOR(params) with a cm token.
Response credential_management(Harness& h, Platform& p, int sub, const Map& params) {
  auto token = p.token("1234", kPermCm);
  REQUIRE(token);
  Bytes message{static_cast<uint8_t>(sub)};
  append(message, cbor::encode(cbor::Value(params)));
  return h.call(0x0a, Map{{1, sub}, {2, params}, {3, 2}, {4, p.authenticate(*token, message)}});
}

}  // namespace

TEST_CASE("largeBlobKey: enumerateCredentials returns it (0x0B) beside credProtect") {
  Harness h;
  Platform p(h, 2);
  REQUIRE(p.set_pin("1234").ok());
  Response mc = make_rk_with_large_blob_key(h, p);
  // enumerateCredentialsBegin (0x04) with subCommandParams {1: rpIDHash}.
  Response r = credential_management(h, p, 0x04, Map{{1, rp_hash("example.com")}});
  REQUIRE(r.ok());
  REQUIRE(r.get(11));
  CHECK(*r.get(11) == *mc.get(5));
}

// CTAP 2.1 leaves the serialized large-blob array to the platform (§6.10: the
// authenticator stores what authenticatorLargeBlobs set writes and nothing
// else changes it but reset); neither a makeCredential that overwrites an
// account's credential nor deleteCredential touches it, on a real key as here.
// Pruning the old credential's entry is the platform's job (docs/conformance.md).
TEST_CASE("largeBlobKey: a replacing makeCredential and deleteCredential leave the large-blob array as it was") {
  Harness h;
  Platform p(h, 2);
  REQUIRE(p.set_pin("1234").ok());
  const auto make_rk = [&] {
    Response mc = make_rk_with_large_blob_key(h, p);
    return std::make_pair(unpack_credential(mc)->id, mc.get(5)->as_bytes());
  };
  const auto [old_id, old_key] = make_rk();
  // An entry under the credential's key, as a platform writes it (the content is
  // never looked at by the authenticator, so it need not inflate).
  const Bytes nonce(12, 1);
  Bytes aad = to_bytes("blob");
  append(aad, Bytes{5, 0, 0, 0, 0, 0, 0, 0});  // uint64LE(origSize)
  auto sealed = crypto::aes256_gcm_seal(old_key, nonce, aad, to_bytes("12345"));
  REQUIRE(sealed);
  const cbor::Value::Array entries{cbor::Value::Map{{1, *sealed}, {2, nonce}, {3, 5}}};
  const Bytes array = ctap::serialized_large_blob_array(cbor::encode(cbor::Value(entries)));
  h.store.commit(std::vector<store::Mutation>{{store::change::SetLargeBlobArray{array}}});

  const auto [new_id, new_key] = make_rk();  // the same RP and user: overwrites
  CHECK(h.state().find_credential(old_id) == nullptr);
  CHECK(new_key != old_key);
  CHECK(h.state().large_blob_array == array);

  REQUIRE(credential_management(h, p, 0x06, Map{{2, descriptor(new_id)}}).ok());  // deleteCredential
  CHECK(h.state().credentials.empty());
  CHECK(h.state().large_blob_array == array);
}
