// The persistentPinUvAuthToken (CTAP 2.2, permission pcmr, getInfo option
// perCredMgmtRO): issued alone, read-only credential management only, bound to
// no RP, no usage timer, survives power cycles, gone after changePIN and reset.
#include "tests/unit/ctap_platform2.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

constexpr const char* kPin = "2580";
constexpr int kPermPcmr = 0x40;
constexpr uint8_t kCredentialManagement = 0x0a;
// credentialManagement subcommands (CTAP 2.1 §6.8).
constexpr int kGetCredsMetadata = 1, kEnumerateRpsBegin = 2, kEnumerateRpsNext = 3, kEnumerateCredentialsBegin = 4,
              kEnumerateCredentialsNext = 5, kDeleteCredential = 6, kUpdateUserInformation = 7;

// {1: sub, 2?: params, 3: 2, 4: HMAC(token, sub || params)} (PIN/UV protocol 2).
Map cm_request(const Bytes& token, int sub, const std::optional<Map>& params = {}) {
  Bytes msg{static_cast<uint8_t>(sub)};
  if (params) append(msg, cbor::encode(cbor::Value(*params)));
  Map m{{1, sub}};
  if (params) m[2] = *params;
  m[3] = 2;
  m[4] = Platform2::auth(token, msg);
  return m;
}

// Two discoverable credentials on example.com and one on other.org, then a PIN.
struct Fixture {
  Harness h;
  Platform2 p{h};
  std::vector<Bytes> ids;

  explicit Fixture(ctap::Profile profile = {}) : h(std::move(profile)) {
    const std::vector<std::pair<std::string, uint8_t>> accounts{
        {"example.com", 1}, {"example.com", 2}, {"other.org", 3}};
    for (const auto& [rp, user] : accounts) {
      MakeCredentialRequest req;
      req.rp_id = rp;
      req.user_id = {user};
      req.rk();
      ids.push_back(make_credential(h, req).id);
    }
    REQUIRE(p.set_pin(kPin).ok());
  }

  Bytes pcmr() {
    auto t = p.pin_token(kPin, kPermPcmr);
    REQUIRE_MESSAGE(t, "pcmr token refused: ", p.status());
    return *t;
  }
  Response cm(const Bytes& token, int sub, const std::optional<Map>& params = {}) {
    return h.call(kCredentialManagement, cm_request(token, sub, params));
  }
  Response metadata(const Bytes& token) { return cm(token, kGetCredsMetadata); }
};

Map rp_params(std::string_view rp) {
  return Map{{1, rp_hash(rp)}};
}

// A platform reading getInfo encIdentifier / encCredStoreState (CTAP 2.2):
// IV || AES-128-CBC(HKDF-SHA-256(token, 32 zero bytes, label, 16), IV, 16 bytes).
Bytes decrypt_info(const Bytes& token, const char* label, const cbor::Value* field) {
  REQUIRE(field);
  REQUIRE(field->is_bytes());
  const Bytes& enc = field->as_bytes();
  REQUIRE(enc.size() == 32);
  const Bytes key = crypto::hkdf_sha256(token, Bytes(32, 0), to_bytes(label), 16);
  auto plain = crypto::aes128_cbc_decrypt(key, ByteView(enc).first(16), ByteView(enc).subspan(16));
  REQUIRE(plain);
  return *plain;
}

}  // namespace

TEST_CASE("pcmr: getInfo says perCredMgmtRO; the token reads metadata, RPs and credentials") {
  Fixture f;
  const Response info = get_info(f.h);
  const cbor::Value* option = info_option(info, "perCredMgmtRO");
  REQUIRE(option);
  CHECK(*option == cbor::Value(true));

  const Bytes token = f.pcmr();
  Response meta = f.metadata(token);
  REQUIRE(meta.ok());
  CHECK(*meta.get(1) == cbor::Value(3));  // existingResidentCredentialsCount

  Response rps = f.cm(token, kEnumerateRpsBegin);
  REQUIRE(rps.ok());
  CHECK(*rps.get(5) == cbor::Value(2));  // totalRPs
  CHECK(f.h.call(kCredentialManagement, Map{{1, kEnumerateRpsNext}}).ok());

  Response creds = f.cm(token, kEnumerateCredentialsBegin, rp_params("example.com"));
  REQUIRE(creds.ok());
  CHECK(*creds.get(9) == cbor::Value(2));  // totalCredentials
  CHECK(f.h.call(kCredentialManagement, Map{{1, kEnumerateCredentialsNext}}).ok());
}

TEST_CASE("pcmr: deleteCredential, updateUserInformation and other commands refuse the token") {
  Fixture f;
  const Bytes token = f.pcmr();
  const Map target{{2, descriptor(f.ids[0])}};
  CHECK(f.cm(token, kDeleteCredential, target).status == Status::PinAuthInvalid);
  Map update = target;
  update[3] = Map{{"id", Bytes{1}}, {"name", "mallory"}};
  CHECK(f.cm(token, kUpdateUserInformation, update).status == Status::PinAuthInvalid);
  CHECK(f.h.state().credentials.size() == 3);  // nothing changed
  CHECK(f.h.state().find_credential(f.ids[0])->user_name == "alice@example.com");

  // makeCredential with the token as if it were an mc token.
  MakeCredentialRequest mc;
  mc.pin_protocol = 2;
  mc.pin_auth = Platform2::auth(token, mc.client_data_hash);
  CHECK(f.h.call(kMakeCredential, mc.build()).status == Status::PinAuthInvalid);
  // authenticatorConfig with it.
  CHECK(f.h.call(kConfig, config_request(0x02, std::nullopt, token)).status == Status::PinAuthInvalid);
  CHECK_FALSE(f.h.state().config.always_uv);
}

TEST_CASE("pcmr: a wrong MAC is PIN_AUTH_INVALID; a cm token still works beside it") {
  Fixture f;
  const Bytes token = f.pcmr();
  Bytes wrong = token;
  wrong[0] ^= 1;
  CHECK(f.metadata(wrong).status == Status::PinAuthInvalid);
  CHECK(f.cm(wrong, kEnumerateCredentialsBegin, rp_params("example.com")).status == Status::PinAuthInvalid);
  // Without a pinUvAuthParam: PUAT_REQUIRED, as for any credential management.
  CHECK(f.h.call(kCredentialManagement, Map{{1, kGetCredsMetadata}}).status == Status::PuatRequired);
}

TEST_CASE("pcmr: only alone; combined with any other permission it is UNAUTHORIZED_PERMISSION, no retry spent") {
  Fixture f;
  for (int other : {kPermMc, kPermGa, kPermCm, kPermBe, kPermLbw, kPermAcfg}) {
    CAPTURE(other);
    CHECK(f.p.pin_token_raw(kPin, kPermPcmr | other).status == Status::UnauthorizedPermission);
  }
  CHECK(f.h.state().pin_retries == 8);
  CHECK(f.h.state().persistent_token.empty());  // nothing was issued
  // With a wrong PIN: the permissions are checked first, so no retry either.
  CHECK(f.p.pin_token_raw("0000", kPermPcmr | kPermCm).status == Status::UnauthorizedPermission);
  CHECK(f.h.state().pin_retries == 8);
  // A wrong PIN for pcmr alone costs a retry like any token request.
  CHECK(f.p.pin_token_raw("0000", kPermPcmr).status == Status::PinInvalid);
  CHECK(f.h.state().pin_retries == 7);
}

TEST_CASE("pcmr: a separate token that leaves the pinUvAuthToken alone, the same for every request, bound to no RP") {
  Fixture f;
  auto cm = f.p.pin_token(kPin, kPermCm);
  REQUIRE(cm);
  // rpId is ignored for pcmr: the token still reads every RP.
  auto first = f.p.pin_token(kPin, kPermPcmr, std::string("other.org"));
  REQUIRE(first);
  CHECK(*first != *cm);
  CHECK(f.metadata(*cm).ok());  // the cm token was not replaced
  CHECK(f.cm(*first, kEnumerateCredentialsBegin, rp_params("example.com")).ok());
  CHECK(f.metadata(*first).ok());
  CHECK(f.p.pin_token(kPin, kPermPcmr) == first);  // every platform gets the same token
  // A new ordinary token does not disturb it either.
  REQUIRE(f.p.pin_token(kPin, kPermMc, std::string("example.com")));
  CHECK(f.metadata(*first).ok());
  CHECK(f.metadata(*cm).status == Status::PinAuthInvalid);  // the old ordinary token is replaced
}

TEST_CASE("pcmr: the token outlives power cycles, restarts and hours of idleness; ordinary tokens do not") {
  Fixture f;
  const Bytes token = f.pcmr();
  auto cm = f.p.pin_token(kPin, kPermCm);
  REQUIRE(cm);
  f.h.advance(std::chrono::hours(3));  // past every pinUvAuthToken timer
  CHECK(f.metadata(*cm).status == Status::PinAuthInvalid);
  CHECK(f.metadata(token).ok());

  f.h.auth->power_cycle();
  CHECK(f.metadata(token).ok());
  // A new authenticator on the same store (a daemon restart).
  f.h.auth = std::make_unique<ctap::Authenticator>(
      ctap::Environment{f.h.store, f.h.rng, f.h.timers, f.h.presence, ctap::Profile{}, &f.h.uv});
  CHECK(f.metadata(token).ok());
}

TEST_CASE("pcmr: changePIN and authenticatorReset revoke the token") {
  Fixture f;
  const Bytes token = f.pcmr();
  REQUIRE(f.p.change_pin(kPin, "8642").ok());
  CHECK(f.metadata(token).status == Status::PinAuthInvalid);
  CHECK(f.h.state().persistent_token.empty());
  auto fresh = f.p.pin_token("8642", kPermPcmr);
  REQUIRE(fresh);
  CHECK(*fresh != token);
  CHECK(f.metadata(*fresh).ok());

  REQUIRE(f.h.call(kReset).ok());
  CHECK(f.h.state().persistent_token.empty());
  // After reset there is no PIN: credential management needs one again.
  CHECK(f.metadata(*fresh).status == Status::PinAuthInvalid);
}

TEST_CASE("pcmr: PIN_NOT_SET without a PIN; from built-in UV with an enrolled finger") {
  Harness bare;
  Platform2 p(bare);
  CHECK(p.pin_token_raw(kPin, kPermPcmr).status == Status::PinNotSet);

  Fixture f;
  enroll_finger(f.h, f.p, kPin);
  auto token = f.p.uv_token(kPermPcmr);
  REQUIRE(token);
  CHECK(*token == f.pcmr());  // the one persistent token, however it was asked for
  CHECK(f.metadata(*token).ok());
  CHECK(f.p.uv_token(kPermPcmr | kPermCm) == std::nullopt);
  CHECK(f.p.status() == Status::UnauthorizedPermission);
}

TEST_CASE("pcmr: a key without it neither advertises nor grants it") {
  ctap::Profile off;
  off.persistent_cred_mgmt_ro = false;
  Fixture f(off);
  CHECK(info_option(get_info(f.h), "perCredMgmtRO") == nullptr);
  CHECK(f.p.pin_token_raw(kPin, kPermPcmr).status == Status::UnauthorizedPermission);

  // A FIDO_2_1_PRE persona (YubiKey 5 style): no permissions at all, no 2.2 fields.
  ctap::Profile pre;
  pre.versions = std::vector<std::string>{"U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE"};
  pre.pin_uv_auth_token = false;
  pre.commands = std::vector<uint8_t>{0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x41};
  Harness h(pre);
  Response info = get_info(h);
  CHECK(info_option(info, "perCredMgmtRO") == nullptr);
  for (int key = 0x15; key <= 0x1f; ++key) {
    CAPTURE(key);
    CHECK(info.get(key) == nullptr);
  }
}

TEST_CASE("pcmr: encIdentifier and encCredStoreState, readable with the persistent token only") {
  Fixture f;
  Response before = get_info(f.h);
  CHECK(before.get(0x19) == nullptr);  // no persistent token yet: nobody could read them
  CHECK(before.get(0x1e) == nullptr);

  const Bytes token = f.pcmr();
  Response first = get_info(f.h);
  const Bytes id = decrypt_info(token, "encIdentifier", first.get(0x19));
  const Bytes state = decrypt_info(token, "encCredStoreState", first.get(0x1e));
  CHECK(id != state);
  Response again = get_info(f.h);
  CHECK(*again.get(0x19) != *first.get(0x19));                         // a fresh IV every time...
  CHECK(decrypt_info(token, "encIdentifier", again.get(0x19)) == id);  // ...over the same values
  CHECK(decrypt_info(token, "encCredStoreState", again.get(0x1e)) == state);

  // Signing in changes no credential; making, updating and deleting one do.
  GetAssertionRequest ga;
  ga.allow(f.ids[0]);
  REQUIRE(f.h.call(kGetAssertion, ga.build()).ok());
  CHECK(decrypt_info(token, "encCredStoreState", get_info(f.h).get(0x1e)) == state);
  auto cm = f.p.pin_token(kPin, kPermCm);
  REQUIRE(cm);
  Map update{{2, descriptor(f.ids[0])}, {3, Map{{"id", Bytes{1}}, {"name", "alice.smith"}}}};
  REQUIRE(f.cm(*cm, kUpdateUserInformation, update).ok());
  const Bytes updated = decrypt_info(token, "encCredStoreState", get_info(f.h).get(0x1e));
  CHECK(updated != state);
  REQUIRE(f.cm(*cm, kDeleteCredential, Map{{2, descriptor(f.ids[1])}}).ok());
  const Bytes deleted = decrypt_info(token, "encCredStoreState", get_info(f.h).get(0x1e));
  CHECK(deleted != updated);
  CHECK(deleted != state);
  CHECK(decrypt_info(token, "encIdentifier", get_info(f.h).get(0x19)) == id);  // the device is the same

  f.h.auth->power_cycle();
  CHECK(decrypt_info(token, "encCredStoreState", get_info(f.h).get(0x1e)) == deleted);

  // After reset: a new device as far as platforms can tell.
  REQUIRE(f.h.call(kReset).ok());
  CHECK(get_info(f.h).get(0x19) == nullptr);
  REQUIRE(f.p.set_pin(kPin).ok());
  const Bytes fresh = f.pcmr();
  CHECK(decrypt_info(fresh, "encIdentifier", get_info(f.h).get(0x19)) != id);
}
