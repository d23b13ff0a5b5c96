// authenticatorConfig (CTAP 2.1 §6.11) and what it switches: enterprise
// attestation (§7.1, makeCredential enterpriseAttestation and epAtt), alwaysUv
// (makeCredential, getAssertion, U2F, makeCredUvNotRqd), setMinPINLength with
// minPinLengthRPIDs and forceChangePin (clientPIN, the minPinLength extension),
// vendorPrototype refused; all of it durable and undone by authenticatorReset.
#include <doctest/doctest.h>

#include "tests/unit/ctap_platform2.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

constexpr const char* kPin = "1234";
constexpr int kEnableEp = 1, kToggleAlwaysUv = 2, kSetMinPinLength = 3, kVendorPrototype = 0xff;

struct Fixture {
  explicit Fixture(ctap::Profile profile = {}, bool with_pin = true) : h(std::move(profile)), p(h) {
    if (with_pin) REQUIRE(p.set_pin(kPin).ok());
  }
  Bytes acfg() {
    auto t = p.pin_token(kPin, kPermAcfg);
    REQUIRE(t);
    return *t;
  }
  Response config(int sub, const std::optional<Map>& params = std::nullopt) {
    return h.call(kConfig, config_request(sub, params, acfg()));
  }
  Harness h;
  Platform2 p;
};

std::optional<Bytes> u2f_register(Harness& h) {
  Bytes data(64, 0x42);
  Bytes reply = h.msg(apdu_short(0x01, 0x03, data));
  if (status_word(reply) != 0x9000) return std::nullopt;
  return data_of(reply);
}

}  // namespace

TEST_CASE("getInfo lists the 2.1 fields truthfully") {
  Fixture f({}, false);
  Response info = get_info(f.h);
  const cbor::Value* versions = info.get(1);
  REQUIRE(versions);
  bool has21 = false;
  for (const auto& v : versions->as_array()) has21 |= v == cbor::Value("FIDO_2_1");
  CHECK(has21);
  CHECK(*info_option(info, "authnrCfg") == cbor::Value(true));
  CHECK(*info_option(info, "setMinPINLength") == cbor::Value(true));
  CHECK(*info_option(info, "alwaysUv") == cbor::Value(false));
  CHECK(*info_option(info, "ep") == cbor::Value(false));
  CHECK(*info_option(info, "makeCredUvNotRqd") == cbor::Value(true));
  CHECK(*info.get(0x0c) == cbor::Value(false));   // forcePINChange
  CHECK(*info.get(0x0d) == cbor::Value(4));       // minPINLength
  CHECK(info.get(0x0e)->is_unsigned());           // firmwareVersion
  CHECK(*info.get(0x10) == cbor::Value(8));       // maxRPIDsForSetMinPINLength
  CHECK(*info.get(0x14) == cbor::Value(100000));  // remainingDiscoverableCredentials
  bool min_pin_ext = false;
  for (const auto& e : info.get(2)->as_array()) min_pin_ext |= e == cbor::Value("minPinLength");
  CHECK(min_pin_ext);
  make_credential(f.h, MakeCredentialRequest{}.rk());
  CHECK(*get_info(f.h).get(0x14) == cbor::Value(99999));

  ctap::Profile off;
  off.authenticator_config = false;
  off.enterprise_attestation = false;
  Harness bare(off);
  Response b = get_info(bare);
  CHECK_FALSE(info_option(b, "authnrCfg"));
  CHECK_FALSE(info_option(b, "ep"));
  CHECK_FALSE(info_option(b, "alwaysUv"));
  CHECK(bare.call(kConfig, Map{{1, kToggleAlwaysUv}}).status == Status::InvalidCommand);
}

TEST_CASE("authorisation: none on an unprotected key; PUAT_REQUIRED, PIN_AUTH_INVALID, acfg permission once protected") {
  Fixture open({}, false);
  CHECK(open.h.call(kConfig, Map{{1, kToggleAlwaysUv}}).ok());
  CHECK(open.h.state().config.always_uv);

  Fixture f;
  CHECK(f.h.call(kConfig, Map{{1, kToggleAlwaysUv}}).status == Status::PuatRequired);
  Map no_protocol = config_request(kToggleAlwaysUv, std::nullopt, f.acfg());
  no_protocol.erase(cbor::Value(3));
  CHECK(f.h.call(kConfig, no_protocol).status == Status::MissingParameter);
  auto mc = f.p.pin_token(kPin, kPermMc);
  REQUIRE(mc);
  CHECK(f.h.call(kConfig, config_request(kToggleAlwaysUv, std::nullopt, mc)).status == Status::PinAuthInvalid);
  // A MAC over other parameters than those sent.
  Map tampered = config_request(kSetMinPinLength, Map{{1, 6}}, f.acfg());
  tampered[2] = Map{{1, 8}};
  CHECK(f.h.call(kConfig, tampered).status == Status::PinAuthInvalid);
  CHECK(f.h.state().config.min_pin_length == 0);
  // An expired token.
  const Bytes token = f.acfg();
  f.h.advance(31s);
  CHECK(f.h.call(kConfig, config_request(kToggleAlwaysUv, std::nullopt, token)).status == Status::PinAuthInvalid);
  CHECK_FALSE(f.h.state().config.always_uv);
  // Malformed.
  CHECK(f.h.call(kConfig, Map{{2, Map{}}}).status == Status::MissingParameter);
  CHECK(f.h.call(kConfig, Map{{1, "two"}}).status == Status::CborUnexpectedType);
  CHECK(f.h.call(kConfig, Map{{1, kSetMinPinLength}, {2, Bytes{1}}}).status == Status::CborUnexpectedType);
}

TEST_CASE("vendorPrototype and unknown subcommands: INVALID_SUBCOMMAND, nothing changes") {
  Fixture f;
  const store::State before = f.h.state();
  CHECK(f.config(kVendorPrototype, Map{{1, 42}}).status == Status::InvalidSubcommand);
  CHECK(f.config(4).status == Status::InvalidSubcommand);
  CHECK(f.h.call(kConfig, Map{{1, kVendorPrototype}}).status == Status::InvalidSubcommand);
  CHECK(f.h.state().config == before.config);
}

TEST_CASE("enterprise attestation: INVALID_PARAMETER until enabled; 2 for any RP, 1 only for listed RPs") {
  ctap::Profile profile;
  profile.enterprise_attestation_rp_ids = {"corp.example"};
  profile.attestation = ctap::AttestationMode::None;
  Fixture f(profile, false);
  MakeCredentialRequest req;
  Map m = req.build();
  m[0x0a] = 2;
  CHECK(f.h.call(kMakeCredential, m).status == Status::InvalidParameter);

  CHECK(f.h.call(kConfig, Map{{1, kEnableEp}}).ok());
  CHECK(*info_option(get_info(f.h), "ep") == cbor::Value(true));
  m[0x0a] = 3;
  CHECK(f.h.call(kMakeCredential, m).status == Status::InvalidOption);
  m[0x0a] = "2";
  CHECK(f.h.call(kMakeCredential, m).status == Status::CborUnexpectedType);

  m[0x0a] = 2;  // platform-managed: any RP, a full attestation statement
  Response platform = f.h.call(kMakeCredential, m);
  REQUIRE(platform.ok());
  REQUIRE(platform.get(4));
  CHECK(*platform.get(4) == cbor::Value(true));
  CHECK(*platform.get(1) == cbor::Value("packed"));
  CHECK(platform.get(3)->find("x5c"));

  m[0x0a] = 1;  // vendor-facilitated: example.com is not listed
  Response unlisted = f.h.call(kMakeCredential, m);
  REQUIRE(unlisted.ok());
  CHECK_FALSE(unlisted.get(4));
  CHECK(*unlisted.get(1) == cbor::Value("none"));

  MakeCredentialRequest corp;
  corp.rp_id = "corp.example";
  Map c = corp.build();
  c[0x0a] = 1;
  Response listed = f.h.call(kMakeCredential, c);
  REQUIRE(listed.ok());
  CHECK(*listed.get(4) == cbor::Value(true));

  ctap::Profile incapable;
  incapable.enterprise_attestation = false;
  Harness no_ep(incapable);
  CHECK(no_ep.call(kConfig, Map{{1, kEnableEp}}).status == Status::InvalidParameter);
}

TEST_CASE("alwaysUv: makeCredential and getAssertion need UV, U2F stops, makeCredUvNotRqd turns false") {
  Fixture f;
  const Credential c = make_credential(f.h, [] {
    MakeCredentialRequest r;
    return r;
  }());
  REQUIRE(u2f_register(f.h));
  CHECK(f.config(kToggleAlwaysUv).ok());
  CHECK(f.h.state().config.always_uv);
  Response info = get_info(f.h);
  CHECK(*info_option(info, "alwaysUv") == cbor::Value(true));
  CHECK(*info_option(info, "makeCredUvNotRqd") == cbor::Value(false));

  CHECK(f.h.call(kMakeCredential, MakeCredentialRequest{}.build()).status == Status::PuatRequired);
  GetAssertionRequest ga;
  ga.allow(c.id);
  CHECK(f.h.call(kGetAssertion, ga.build()).status == Status::PuatRequired);
  CHECK(status_word(f.h.msg(apdu_short(0x01, 0x03, Bytes(64, 0x42)))) == 0x6986);

  // With a finger enrolled, alwaysUv reads it instead.
  enroll_finger(f.h, f.p, kPin);
  Assertion a = unpack_assertion(f.h.call(kGetAssertion, ga.build()));
  CHECK(a.auth_data.uv());

  CHECK(f.config(kToggleAlwaysUv).ok());
  CHECK_FALSE(f.h.state().config.always_uv);
  CHECK(u2f_register(f.h));
}

TEST_CASE("setMinPINLength: only grows, RP list bounded, forceChangePin needs a PIN") {
  Fixture open({}, false);
  CHECK(open.h.call(kConfig, Map{{1, kSetMinPinLength}, {2, Map{{3, true}}}}).status == Status::PinNotSet);
  CHECK(open.h.call(kConfig, Map{{1, kSetMinPinLength}, {2, Map{{1, 6}}}}).ok());
  CHECK(*get_info(open.h).get(0x0d) == cbor::Value(6));
  CHECK(open.h.call(kConfig, Map{{1, kSetMinPinLength}, {2, Map{{1, 5}}}}).status == Status::PinPolicyViolation);
  CHECK(open.h.call(kConfig, Map{{1, kSetMinPinLength}, {2, Map{{1, 64}}}}).status == Status::PinPolicyViolation);
  // A PIN shorter than the new minimum is refused by setPIN.
  CHECK(open.p.set_pin("12345").status == Status::PinPolicyViolation);
  CHECK(open.p.set_pin("123456").ok());

  Fixture f;
  Array nine;
  for (int i = 0; i < 9; ++i) nine.emplace_back("rp" + std::to_string(i) + ".example");
  CHECK(f.config(kSetMinPinLength, Map{{2, nine}}).status == Status::InvalidLength);
  CHECK(f.config(kSetMinPinLength, Map{{2, Array{1}}}).status == Status::CborUnexpectedType);
  CHECK(f.config(kSetMinPinLength, Map{{2, Array{"example.com"}}}).ok());
  CHECK(f.h.state().config.min_pin_length_rp_ids == std::vector<std::string>{"example.com"});
  CHECK(f.h.state().config.min_pin_length == 4);  // no newMinPINLength: unchanged
}

TEST_CASE("forcePINChange: a longer minimum or forceChangePin blocks PIN tokens until changePIN") {
  Fixture f;
  CHECK(f.config(kSetMinPinLength, Map{{1, 6}}).ok());  // the 4-digit PIN is now too short
  CHECK(f.h.state().config.force_pin_change);
  CHECK(*get_info(f.h).get(0x0c) == cbor::Value(true));
  CHECK_FALSE(f.p.pin_token(kPin, kPermMc));
  CHECK(f.p.status() == Status::PinPolicyViolation);
  CHECK(f.h.state().pin_retries == 8);  // the PIN was right: no retry spent
  PinClient legacy(f.h);
  CHECK_FALSE(legacy.get_pin_token(kPin));
  CHECK(legacy.last_status() == Status::PinPolicyViolation);
  // changePIN to something too short fails; to a long enough one clears the flag.
  CHECK(f.p.change_pin(kPin, "12345").status == Status::PinPolicyViolation);
  CHECK(f.p.change_pin(kPin, "123456").ok());
  CHECK_FALSE(f.h.state().config.force_pin_change);
  CHECK(f.p.pin_token("123456", kPermMc));

  // forceChangePin with a long enough PIN; the same PIN again is not a change.
  CHECK(f.h.call(kConfig, config_request(kSetMinPinLength, Map{{3, true}}, f.p.pin_token("123456", kPermAcfg)))
            .ok());
  CHECK(f.h.state().config.force_pin_change);
  CHECK(f.p.change_pin("123456", "123456").status == Status::PinPolicyViolation);
  CHECK(f.p.change_pin("123456", "654321").ok());
  CHECK_FALSE(f.h.state().config.force_pin_change);
}

TEST_CASE("minPinLength extension: the current minimum, only for listed RPs") {
  Fixture f;
  CHECK(f.config(kSetMinPinLength, Map{{1, 4}, {2, Array{"listed.example"}}}).ok());
  auto token = f.p.pin_token(kPin, kPermMc);
  REQUIRE(token);
  MakeCredentialRequest listed;
  listed.rp_id = "listed.example";
  listed.extensions = Map{{"minPinLength", true}};
  listed.pin_protocol = 2;
  listed.pin_auth = Platform2::auth(*token, listed.client_data_hash);
  Credential c = make_credential(f.h, listed);
  REQUIRE(c.auth_data.extensions);
  CHECK(*c.auth_data.extensions->find("minPinLength") == cbor::Value(4));

  MakeCredentialRequest other;
  other.extensions = Map{{"minPinLength", true}};
  Credential d = make_credential(f.h, other);
  CHECK_FALSE(d.auth_data.extensions);

  // Unknown extensions, and minPinLength with a value other than true, are ignored.
  MakeCredentialRequest odd;
  odd.rp_id = "listed.example";
  odd.extensions = Map{{"someFutureExtension", 1}, {"minPinLength", "yes"}};
  auto t2 = f.p.pin_token(kPin, kPermMc);
  REQUIRE(t2);
  odd.pin_protocol = 2;
  odd.pin_auth = Platform2::auth(*t2, odd.client_data_hash);
  Credential e = make_credential(f.h, odd);
  CHECK_FALSE(e.auth_data.extensions);
}

TEST_CASE("configuration is durable state and authenticatorReset restores the defaults") {
  Fixture f({}, false);
  CHECK(f.h.call(kConfig, Map{{1, kEnableEp}}).ok());
  CHECK(f.h.call(kConfig, Map{{1, kSetMinPinLength}, {2, Map{{1, 8}, {2, Array{"a.example"}}}}}).ok());
  CHECK(f.h.call(kConfig, Map{{1, kToggleAlwaysUv}}).ok());
  f.h.auth->power_cycle();
  CHECK(f.h.state().config.enterprise_attestation);
  CHECK(f.h.state().config.min_pin_length == 8);
  CHECK(f.h.state().config.always_uv);
  REQUIRE(f.h.call(kReset).ok());
  CHECK(f.h.state().config == store::AuthenticatorConfig{});
  CHECK(*get_info(f.h).get(0x0d) == cbor::Value(4));
}
