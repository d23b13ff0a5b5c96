// CTAP 2.2/2.3 getInfo fields (0x16–0x1F), uvCountSinceLastPinEntry, and the
// PIN complexity policy: getInfo pinComplexityPolicy(URL), its enforcement in
// setPIN/changePIN, setMinPINLength's pinComplexityPolicy, and the extension.
#include "tests/unit/ctap_platform2.h"

using namespace vauth;
using namespace vauth::ctaptest;
using Mode = ctap::ControlledUserVerifier::Mode;

namespace {

constexpr const char* kPin = "2580";
constexpr int kSetMinPinLength = 0x03;
// getInfo keys (CTAP 2.2 §6.4; 0x1F CTAP 2.3).
constexpr int kVersions = 0x01, kExtensions = 0x02, kAttestationFormats = 0x16, kUvCount = 0x17,
              kLongTouchForReset = 0x18, kTransportsForReset = 0x1a, kPinComplexityPolicy = 0x1b,
              kPinComplexityPolicyUrl = 0x1c, kMaxPinLength = 0x1d, kAuthenticatorConfigCommands = 0x1f;

Array texts(std::initializer_list<const char*> items) {
  Array out;
  for (const char* i : items) out.emplace_back(i);
  return out;
}

const cbor::Value* auth_data_extension(const AuthData& ad, const char* name) {
  return ad.extensions ? ad.extensions->find(name) : nullptr;
}

bool lists(const cbor::Value* array, const char* item) {
  REQUIRE(array);
  const auto& a = array->as_array();
  return std::find(a.begin(), a.end(), cbor::Value(item)) != a.end();
}

}  // namespace

TEST_CASE("getInfo: the CTAP 2.2/2.3 fields vauth implements, with their values") {
  Harness h;
  Response info = get_info(h);
  CHECK(*info.get(kVersions) == cbor::Value(texts({"U2F_V2", "FIDO_2_0", "FIDO_2_1"})));  // no FIDO_2_2/2_3
  CHECK(lists(info.get(kExtensions), "pinComplexityPolicy"));
  CHECK(*info.get(kAttestationFormats) == cbor::Value(texts({"packed"})));
  CHECK(*info.get(kUvCount) == cbor::Value(0));
  CHECK(*info.get(kLongTouchForReset) == cbor::Value(false));
  CHECK(*info.get(kTransportsForReset) == cbor::Value(texts({"usb"})));
  CHECK(*info.get(kPinComplexityPolicy) == cbor::Value(false));
  CHECK(info.get(kPinComplexityPolicyUrl) == nullptr);
  CHECK(*info.get(kMaxPinLength) == cbor::Value(63));
  CHECK(*info.get(kAuthenticatorConfigCommands) == cbor::Value(Array{1, 2, 3}));
  // Not implemented, so not claimed: certifications, vendorPrototypeConfigCommands;
  // encIdentifier, encCredStoreState only once a persistent token exists
  // (ctap_persistent_token_test).
  for (int key : {0x13, 0x15, 0x19, 0x1e}) {
    CAPTURE(key);
    CHECK(info.get(key) == nullptr);
  }
}

TEST_CASE("getInfo: the CTAP 2.2 fields follow the profile") {
  ctap::Profile p;
  p.attestation = ctap::AttestationMode::None;
  p.enterprise_attestation = false;
  p.built_in_uv = false;
  p.transports = {"nfc", "usb"};
  p.pin_complexity_policy = true;
  p.pin_complexity_policy_url = "https://example.com/pin-rules";
  Harness h(p);
  Response info = get_info(h);
  CHECK(*info.get(kAttestationFormats) == cbor::Value(texts({"none"})));
  CHECK(info.get(kUvCount) == nullptr);  // no sensor, no count
  CHECK(*info.get(kTransportsForReset) == cbor::Value(texts({"nfc", "usb"})));
  CHECK(*info.get(kPinComplexityPolicy) == cbor::Value(true));
  CHECK(*info.get(kPinComplexityPolicyUrl) == cbor::Value(to_bytes("https://example.com/pin-rules")));
  CHECK(*info.get(kAuthenticatorConfigCommands) == cbor::Value(Array{2, 3}));  // no enableEnterpriseAttestation

  ctap::Profile ep_only;
  ep_only.attestation = ctap::AttestationMode::None;  // everyday "none", enterprise attestation "packed"
  Harness h2(ep_only);
  CHECK(*get_info(h2).get(kAttestationFormats) == cbor::Value(texts({"none", "packed"})));

  ctap::Profile no_config;
  no_config.commands = std::vector<uint8_t>{0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0a, 0x0b};
  Harness h3(no_config);
  CHECK(get_info(h3).get(kAuthenticatorConfigCommands) == nullptr);
}

TEST_CASE("uvCountSinceLastPinEntry counts built-in UV readings, match or not, durably; the right PIN zeroes it") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin(kPin).ok());
  enroll_finger(h, p, kPin);  // enrollment samples are not verifications
  CHECK(*get_info(h).get(kUvCount) == cbor::Value(0));
  REQUIRE(p.uv_token(kPermMc));
  CHECK(*get_info(h).get(kUvCount) == cbor::Value(1));
  h.uv.set_mode(Mode::NoMatch);
  CHECK_FALSE(p.uv_token(kPermMc));
  CHECK(p.status() == Status::UvInvalid);
  CHECK(*get_info(h).get(kUvCount) == cbor::Value(2));
  h.auth->power_cycle();
  CHECK(*get_info(h).get(kUvCount) == cbor::Value(2));
  h.uv.set_mode(Mode::Match);
  REQUIRE(p.pin_token(kPin, kPermMc));
  CHECK(*get_info(h).get(kUvCount) == cbor::Value(0));
  CHECK(h.state().uv_count_since_pin_entry == 0);
}

TEST_CASE("PIN complexity policy: setPIN and changePIN refuse repeated and sequential PINs with PIN_POLICY_VIOLATION") {
  ctap::Profile strict;
  strict.pin_complexity_policy = true;
  Harness h(strict);
  Platform2 p(h);
  for (const char* weak : {"1111", "1234", "4321", "abcdef", "zyxw", "999999"}) {
    CAPTURE(weak);
    CHECK(p.set_pin(weak).status == Status::PinPolicyViolation);
    CHECK_FALSE(h.state().pin_hash);
  }
  REQUIRE(p.set_pin(kPin).ok());
  CHECK(p.change_pin(kPin, "9876").status == Status::PinPolicyViolation);
  CHECK(p.pin_token(kPin, kPermMc));  // the PIN is unchanged
  CHECK(p.change_pin(kPin, "1379").ok());
  CHECK(p.pin_token("1379", kPermMc));

  Harness lax;  // off by default: the same PINs are fine
  Platform2 q(lax);
  CHECK(q.set_pin("1234").ok());
}

TEST_CASE("setMinPINLength pinComplexityPolicy: turns the policy on durably, never off; reset clears it") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin(kPin).ok());
  auto acfg = [&] { return p.pin_token(kPin, kPermAcfg); };
  CHECK(h.call(kConfig, config_request(kSetMinPinLength, Map{{4, "yes"}}, acfg())).status ==
        Status::CborUnexpectedType);
  CHECK(h.call(kConfig, config_request(kSetMinPinLength, Map{{4, false}}, acfg())).ok());  // off stays off
  CHECK(*get_info(h).get(kPinComplexityPolicy) == cbor::Value(false));
  REQUIRE(h.call(kConfig, config_request(kSetMinPinLength, Map{{4, true}}, acfg())).ok());
  CHECK(*get_info(h).get(kPinComplexityPolicy) == cbor::Value(true));
  CHECK(h.state().config.pin_complexity_policy);
  CHECK(h.call(kConfig, config_request(kSetMinPinLength, Map{{4, false}}, acfg())).status ==
        Status::PinPolicyViolation);
  CHECK(h.state().config.pin_complexity_policy);
  CHECK_FALSE(h.state().config.force_pin_change);  // the platform asks for that separately
  h.auth->power_cycle();
  CHECK(p.change_pin(kPin, "0000").status == Status::PinPolicyViolation);
  REQUIRE(h.call(kReset).ok());
  CHECK(*get_info(h).get(kPinComplexityPolicy) == cbor::Value(false));
  CHECK(p.set_pin("0000").ok());
}

TEST_CASE("pinComplexityPolicy extension: answered only for RPs setMinPINLength listed") {
  Harness h;
  Platform2 p(h);
  REQUIRE(p.set_pin(kPin).ok());
  auto make = [&h](const std::string& rp) {
    MakeCredentialRequest req;
    req.rp_id = rp;
    req.extensions = Map{{"pinComplexityPolicy", true}};
    return make_credential(h, req);
  };
  CHECK_FALSE(make("example.com").auth_data.extensions);  // not listed: no output
  REQUIRE(
      h.call(kConfig, config_request(kSetMinPinLength, Map{{2, Array{"example.com"}}}, p.pin_token(kPin, kPermAcfg)))
          .ok());
  Credential listed = make("example.com");
  REQUIRE(listed.auth_data.extensions);
  CHECK(*auth_data_extension(listed.auth_data, "pinComplexityPolicy") == cbor::Value(false));
  CHECK_FALSE(make("other.org").auth_data.extensions);
  REQUIRE(h.call(kConfig, config_request(kSetMinPinLength, Map{{4, true}}, p.pin_token(kPin, kPermAcfg))).ok());
  CHECK(*auth_data_extension(make("example.com").auth_data, "pinComplexityPolicy") == cbor::Value(true));
}

TEST_CASE("attestationFormatsPreference: the first format the key can make wins; bad types are CBOR_UNEXPECTED_TYPE") {
  auto fmt_for = [](Harness& h, const std::optional<Array>& preference) {
    Map req = MakeCredentialRequest{}.build();
    if (preference) req[0x0b] = *preference;
    Response r = h.call(kMakeCredential, req);
    REQUIRE(r.ok());
    return r.get(1)->as_text();  // fmt
  };
  Harness h;
  CHECK(fmt_for(h, std::nullopt) == "packed");
  CHECK(fmt_for(h, Array{}) == "packed");
  CHECK(fmt_for(h, texts({"none"})) == "none");
  CHECK(fmt_for(h, texts({"tpm", "none", "packed"})) == "none");
  CHECK(fmt_for(h, texts({"tpm", "packed", "none"})) == "packed");
  CHECK(fmt_for(h, texts({"apple"})) == "packed");  // nothing known: the key's own choice
  Map bad = MakeCredentialRequest{}.build();
  bad[0x0b] = Array{1};
  CHECK(h.call(kMakeCredential, bad).status == Status::CborUnexpectedType);
  bad[0x0b] = "none";
  CHECK(h.call(kMakeCredential, bad).status == Status::CborUnexpectedType);
  CHECK(h.state().credentials.empty());

  ctap::Profile none;
  none.attestation = ctap::AttestationMode::None;
  Harness quiet(none);
  CHECK(fmt_for(quiet, texts({"packed"})) == "none");  // it cannot make packed everyday statements
}
