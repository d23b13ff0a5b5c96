// authenticatorGetInfo (CTAP 2.0 §5.4), authenticatorReset (§5.6),
// authenticatorSelection (CTAP 2.1 §6.9), user presence outcomes, cancellation,
// power cycling, credential IDs, request framing errors and determinism.
#include <algorithm>
#include <functional>
#include <set>

#include "ctap_test_support.h"
#include "vauth/ctap/credential_id.h"

namespace vauth::ctaptest {
namespace {

using Mode = ctap::ControlledPresence::Mode;

// ---------------------------------------------------------------------------
// getInfo

TEST_CASE("getInfo reports versions, AAGUID, options, maxMsgSize and PIN protocols") {
  Harness h;
  Response r = h.call(kGetInfo);
  REQUIRE(r.ok());
  REQUIRE(r.body_decoded);
  REQUIRE(r.body.has_value());
  REQUIRE(r.body->is_map());
  for (const auto& [k, v] : r.body->as_map()) CHECK(k.is_unsigned());  // integer keys only

  const cbor::Value* versions = r.get(1);
  REQUIRE(versions);
  REQUIRE(versions->is_array());
  const Array& vs = versions->as_array();
  CHECK(std::count(vs.begin(), vs.end(), cbor::Value("FIDO_2_0")) == 1);
  CHECK(std::count(vs.begin(), vs.end(), cbor::Value("U2F_V2")) == 1);

  const cbor::Value* extensions = r.get(2);
  REQUIRE(extensions);
  CHECK(*extensions == cbor::Value(Array{"credProtect", "hmac-secret", "hmac-secret-mc", "credBlob", "largeBlobKey",
                                          "minPinLength", "thirdPartyPayment", "pinComplexityPolicy"}));

  const cbor::Value* aaguid = r.get(3);
  REQUIRE(aaguid);
  const auto& p = h.auth->profile().aaguid;
  CHECK(*aaguid == cbor::Value(Bytes(p.begin(), p.end())));

  const cbor::Value* options = r.get(4);
  REQUIRE(options);
  REQUIRE(options->is_map());
  REQUIRE(options->find("rk"));
  CHECK(*options->find("rk") == cbor::Value(true));
  REQUIRE(options->find("up"));
  CHECK(*options->find("up") == cbor::Value(true));
  REQUIRE(options->find("plat"));
  CHECK(*options->find("plat") == cbor::Value(false));
  REQUIRE(options->find("credMgmt"));
  CHECK(*options->find("credMgmt") == cbor::Value(true));
  REQUIRE(options->find("pinUvAuthToken"));
  CHECK(*options->find("pinUvAuthToken") == cbor::Value(true));
  REQUIRE(options->find("clientPin"));
  CHECK(*options->find("clientPin") == cbor::Value(false));  // capable, not set yet
  // No built-in user verification: "uv" absent (or false).
  if (const cbor::Value* uv = options->find("uv")) CHECK(*uv == cbor::Value(false));

  const cbor::Value* max_msg = r.get(5);
  REQUIRE(max_msg);
  CHECK(*max_msg == cbor::Value(h.auth->profile().max_message_size));

  const cbor::Value* protocols = r.get(6);
  REQUIRE(protocols);
  CHECK(*protocols == cbor::Value(Array{2, 1}));  // most preferred first

  // The reply is canonical CBOR: re-encoding what we decoded gives the same bytes.
  CHECK(to_hex(cbor::encode(*r.body)) == to_hex(ByteView(r.raw).subspan(1)));
}

TEST_CASE("getInfo follows the profile: no U2F, no resident keys, PIN set") {
  ctap::Profile p;
  p.u2f = false;
  p.resident_keys = false;
  Harness h(p);
  Response r = h.call(kGetInfo);
  REQUIRE(r.ok());
  const Array& vs = r.get(1)->as_array();
  CHECK(std::count(vs.begin(), vs.end(), cbor::Value("U2F_V2")) == 0);
  CHECK(std::count(vs.begin(), vs.end(), cbor::Value("FIDO_2_0")) == 1);
  CHECK(*r.get(4)->find("rk") == cbor::Value(false));
  CHECK_FALSE(h.auth->supports_msg());
  CHECK(h.auth->supports_cbor());

  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  CHECK(*h.call(kGetInfo).get(4)->find("clientPin") == cbor::Value(true));
}

// ---------------------------------------------------------------------------
// Request framing

TEST_CASE("malformed CBOR parameters → INVALID_CBOR") {
  Harness h;
  for (uint8_t cmd : {kMakeCredential, kGetAssertion, kClientPin}) {
    CAPTURE(int(cmd));
    CHECK(h.call_raw(Bytes{cmd, 0xa1}).status == Status::InvalidCbor);               // truncated map
    CHECK(h.call_raw(Bytes{cmd, 0xff}).status == Status::InvalidCbor);               // break outside indefinite
    CHECK(h.call_raw(Bytes{cmd, 0xa1, 0x01, 0x01, 0x00}).status == Status::InvalidCbor);  // trailing byte
    CHECK(h.call_raw(Bytes{cmd, 0xa2, 0x02, 0x01, 0x01, 0x01}).status == Status::InvalidCbor);  // keys out of order
    CHECK(h.call_raw(Bytes{cmd, 0x5a, 0xff, 0xff, 0xff, 0xff}).status == Status::InvalidCbor);  // huge length
  }
}

TEST_CASE("parameters that are not a CBOR map → CBOR_UNEXPECTED_TYPE") {
  Harness h;
  for (uint8_t cmd : {kMakeCredential, kGetAssertion, kClientPin}) {
    CAPTURE(int(cmd));
    CHECK(h.call_raw(concat(Bytes{cmd}, cbor::encode(cbor::Value(Array{1, 2})))).status ==
          Status::CborUnexpectedType);
    CHECK(h.call_raw(concat(Bytes{cmd}, cbor::encode(cbor::Value(7)))).status == Status::CborUnexpectedType);
    CHECK(h.call_raw(concat(Bytes{cmd}, cbor::encode(cbor::Value("x")))).status == Status::CborUnexpectedType);
  }
}

TEST_CASE("unknown or unsupported commands → INVALID_COMMAND") {
  // A profile without the sensor, authenticatorConfig and large blobs has no 0x09/0x40,
  // no 0x0d and no 0x0c (ctap_large_blobs_test covers 0x0c when it is on).
  ctap::Profile profile;
  profile.built_in_uv = false;
  profile.authenticator_config = false;
  profile.max_serialized_large_blob_array = 0;
  Harness h(profile);
  for (uint8_t cmd : {uint8_t{0x40}, uint8_t{0x00}, uint8_t{0x03}, uint8_t{0x05}, uint8_t{0x09}, uint8_t{0x0c},
                      uint8_t{0x0d}, uint8_t{0xbf}, uint8_t{0xff}}) {
    CAPTURE(int(cmd));
    Response r = h.call_raw(Bytes{cmd});
    CHECK(r.replied);
    CHECK(r.status == Status::InvalidCommand);
    CHECK(r.raw.size() == 1);
  }
  CHECK(h.call_raw(concat(Bytes{0x40}, cbor::encode(cbor::Value(Map{{1, 1}})))).status == Status::InvalidCommand);
}

TEST_CASE("an empty request gets a one-byte error") {
  Harness h;
  Response r = h.call_raw(Bytes{});
  CHECK(r.replied);
  CHECK(r.raw.size() == 1);
  CHECK(r.status != Status::Ok);  // the spec names no code; vauth answers CTAP1_ERR_INVALID_LENGTH
}

TEST_CASE("error replies carry no CBOR body") {
  Harness h;
  CHECK(h.call(kMakeCredential, Map{}).raw.size() == 1);
  CHECK(h.call(kGetNextAssertion).raw.size() == 1);
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.build()).raw.size() == 1);
}

// ---------------------------------------------------------------------------
// Reset

TEST_CASE("reset wipes credentials and PIN; old IDs stop working") {
  Harness h;
  PinClient pin(h);
  Credential plain = make_credential(h);
  MakeCredentialRequest rk;
  rk.rk();
  Credential resident = make_credential(h, rk);
  REQUIRE(pin.set_pin("1234").ok());
  const crypto::SecretBytes old_master = h.state().master_secret;
  const Bytes old_ca = h.auth->attestation_ca_certificate();

  const size_t before = h.presence.request_count();
  Response r = h.call(kReset);
  CHECK(r.status == Status::Ok);
  CHECK(r.raw.size() == 1);
  CHECK(h.presence.request_count() == before + 1);
  REQUIRE(h.presence.last_request().has_value());
  CHECK(h.presence.last_request()->operation == "reset");

  CHECK(h.state().credentials.empty());
  CHECK_FALSE(h.state().pin_hash.has_value());
  CHECK(h.state().master_secret != old_master);
  CHECK(*h.call(kGetInfo).get(4)->find("clientPin") == cbor::Value(false));
  CHECK(*pin.get_retries().get(3) == cbor::Value(8));

  for (const Bytes* id : {&plain.id, &resident.id}) {
    GetAssertionRequest ga;
    ga.allow(*id);
    CHECK(h.call(kGetAssertion, ga.build()).status == Status::NoCredentials);
  }
  CHECK(h.call(kGetAssertion, GetAssertionRequest{}.build()).status == Status::NoCredentials);
  CHECK_FALSE(pin.get_pin_token("1234").has_value());
  CHECK(pin.last_status() == Status::PinNotSet);

  // The key still works afterwards, and keeps its attestation.
  Credential fresh = make_credential(h);
  CHECK(h.auth->attestation_ca_certificate() == old_ca);
  GetAssertionRequest ga;
  ga.allow(fresh.id);
  Assertion a = unpack_assertion(h.call(kGetAssertion, ga.build()));
  CHECK(verifies(fresh.public_key, a, ga.client_data_hash));
  REQUIRE(pin.set_pin("5678").ok());
}

TEST_CASE("reset lifts PIN blocks") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  for (int i = 0; i < 3; ++i) pin.get_pin_token("0000");
  REQUIRE(pin.last_status() == Status::PinAuthBlocked);
  REQUIRE(h.call(kReset).ok());
  REQUIRE(pin.set_pin("4321").ok());
  CHECK(pin.get_pin_token("4321").has_value());
  CHECK(h.state().pin_retries == 8);
}

TEST_CASE("reset needs the user: denied → OPERATION_DENIED, nothing wiped") {
  Harness h;
  PinClient pin(h);
  MakeCredentialRequest rk;
  rk.rk();
  Credential c = make_credential(h, rk);
  REQUIRE(pin.set_pin("1234").ok());

  SUBCASE("denied") {
    h.presence.set_mode(Mode::Deny);
    CHECK(h.call(kReset).status == Status::OperationDenied);
  }
  SUBCASE("timed out") {
    h.presence.set_mode(Mode::Wait);
    h.presence.set_timeout(3s);
    Pending p = h.start(kReset);
    CHECK_FALSE(p.done());
    CHECK(h.state().credentials.size() == 1);  // not before the touch
    h.advance(3s);
    REQUIRE(p.done());
    CHECK(p.get().status == Status::UserActionTimeout);
  }
  CHECK(h.state().credentials.size() == 1);
  CHECK(h.state().pin_hash.has_value());
  h.presence.set_mode(Mode::Approve);
  GetAssertionRequest ga;
  ga.allow(c.id);
  CHECK(h.call(kGetAssertion, ga.build()).status == Status::Ok);
}

TEST_CASE("reset only within the reset window after power-up") {
  ctap::Profile p;
  p.reset_window = 10s;
  Harness h(p);
  MakeCredentialRequest rk;
  rk.rk();
  make_credential(h, rk);

  SUBCASE("within the window") {
    h.advance(9s);
    CHECK(h.call(kReset).status == Status::Ok);
    CHECK(h.state().credentials.empty());
  }
  SUBCASE("after the window → NOT_ALLOWED without asking the user") {
    h.advance(11s);
    const size_t before = h.presence.request_count();
    CHECK(h.call(kReset).status == Status::NotAllowed);
    CHECK(h.presence.request_count() == before);
    CHECK(h.state().credentials.size() == 1);
    // Re-plugging opens the window again.
    h.auth->power_cycle();
    h.advance(1s);
    CHECK(h.call(kReset).status == Status::Ok);
    CHECK(h.state().credentials.empty());
  }
}

TEST_CASE("a zero reset window allows reset at any time") {
  Harness h;
  h.advance(std::chrono::hours(24));
  CHECK(h.call(kReset).status == Status::Ok);
}

// ---------------------------------------------------------------------------
// Selection

TEST_CASE("selection: approve → OK, deny → OPERATION_DENIED") {
  Harness h;
  Response ok = h.call(kSelection);
  CHECK(ok.status == Status::Ok);
  CHECK(ok.raw.size() == 1);
  REQUIRE(h.presence.last_request().has_value());
  CHECK(h.presence.last_request()->operation == "selection");

  h.presence.set_mode(Mode::Deny);
  CHECK(h.call(kSelection).status == Status::OperationDenied);

  h.presence.set_mode(Mode::Wait);
  h.presence.set_timeout(30s);
  Pending p = h.start(kSelection);
  CHECK_FALSE(p.done());
  CHECK(h.auth->waiting_for_user());
  h.advance(30s);
  REQUIRE(p.done());
  CHECK(p.get().status == Status::UserActionTimeout);
}

// ---------------------------------------------------------------------------
// Presence outcomes, cancel

struct Command {
  const char* name;
  std::function<Pending(Harness&)> start;
};

std::vector<Command> commands_needing_presence(Harness& h) {
  Credential c = make_credential(h);
  GetAssertionRequest ga;
  ga.allow(c.id);
  return {
      {"makeCredential", [](Harness& x) { return x.start(kMakeCredential, MakeCredentialRequest{}.build()); }},
      {"getAssertion", [ga](Harness& x) { return x.start(kGetAssertion, ga.build()); }},
      {"reset", [](Harness& x) { return x.start(kReset); }},
      {"selection", [](Harness& x) { return x.start(kSelection); }},
  };
}

TEST_CASE("presence outcomes map to CTAP statuses for every command that waits") {
  Harness h;
  for (const Command& cmd : commands_needing_presence(h)) {
    CAPTURE(cmd.name);
    h.presence.set_mode(Mode::Wait);
    h.presence.set_timeout(0ms);

    Pending denied = cmd.start(h);
    CHECK_FALSE(denied.done());
    h.presence.deny();
    REQUIRE(denied.done());
    CHECK(denied.get().status == Status::OperationDenied);

    h.presence.set_timeout(2s);
    Pending timed_out = cmd.start(h);
    h.advance(2s);
    REQUIRE(timed_out.done());
    CHECK(timed_out.get().status == Status::UserActionTimeout);

    h.presence.set_timeout(0ms);
    Pending cancelled = cmd.start(h);
    CHECK(h.auth->waiting_for_user());
    h.auth->cancel();
    REQUIRE(cancelled.done());
    CHECK(cancelled.get().status == Status::KeepaliveCancel);
    CHECK(cancelled.reply_count() == 1);
    CHECK_FALSE(h.auth->waiting_for_user());

    Pending approved = cmd.start(h);
    h.presence.approve();
    REQUIRE(approved.done());
    CHECK(approved.get().status == Status::Ok);
    CHECK(approved.reply_count() == 1);
  }
}

TEST_CASE("cancel: KEEPALIVE_CANCEL and waiting_for_user flips back") {
  Harness h(ctap::Profile{}, 1, Mode::Wait);
  CHECK_FALSE(h.auth->waiting_for_user());
  Pending p = h.start(kMakeCredential, MakeCredentialRequest{}.rk().build());
  CHECK_FALSE(p.done());
  CHECK(h.auth->waiting_for_user());
  h.auth->cancel();
  REQUIRE(p.done());
  Response r = p.get();
  CHECK(r.status == Status::KeepaliveCancel);
  CHECK(r.raw.size() == 1);
  CHECK_FALSE(h.auth->waiting_for_user());
  CHECK_FALSE(h.presence.pending());
  CHECK(h.state().credentials.empty());

  // A second cancel, and a cancel while idle, are no-ops.
  h.auth->cancel();
  CHECK(p.reply_count() == 1);
  // The presence answer arriving late changes nothing.
  CHECK_FALSE(h.presence.approve());
  CHECK(p.reply_count() == 1);
  CHECK(h.state().credentials.empty());

  // The next request works normally.
  h.presence.set_mode(Mode::Approve);
  CHECK(h.call(kMakeCredential, MakeCredentialRequest{}.build()).status == Status::Ok);
}

TEST_CASE("cancel while idle does nothing") {
  Harness h;
  const size_t before = h.presence.request_count();
  h.auth->cancel();
  CHECK_FALSE(h.auth->waiting_for_user());
  CHECK(h.presence.request_count() == before);
  CHECK(h.call(kGetInfo).ok());
}

TEST_CASE("an authenticator destroyed while waiting never replies") {
  Harness h(ctap::Profile{}, 1, Mode::Wait);
  Pending p = h.start(kMakeCredential, MakeCredentialRequest{}.build());
  REQUIRE_FALSE(p.done());
  h.auth.reset();
  CHECK_FALSE(p.done());
  CHECK_FALSE(h.presence.pending());
}

TEST_CASE("wink is counted") {
  Harness h;
  CHECK(h.auth->wink_count() == 0);
  h.auth->wink();
  h.auth->wink();
  CHECK(h.auth->wink_count() == 2);
}

// ---------------------------------------------------------------------------
// Power cycle and persistence

TEST_CASE("credentials and attestation persist across a re-plug with the same store") {
  Harness h;
  Credential plain = make_credential(h);
  MakeCredentialRequest rk;
  rk.rk();
  Credential resident = make_credential(h, rk);
  const Bytes ca = h.auth->attestation_ca_certificate();
  const uint32_t count = h.state().sign_count;

  h.auth.reset();
  h.auth = std::make_unique<ctap::Authenticator>(
      ctap::Environment{h.store, h.rng, h.timers, h.presence, ctap::Profile{}});
  CHECK(h.auth->attestation_ca_certificate() == ca);

  GetAssertionRequest ga;
  ga.allow(plain.id);
  Assertion a = unpack_assertion(h.call(kGetAssertion, ga.build()));
  CHECK(verifies(plain.public_key, a, ga.client_data_hash));
  CHECK(a.auth_data.sign_count > count);
  Assertion d = unpack_assertion(h.call(kGetAssertion, GetAssertionRequest{}.build()));
  CHECK(d.credential_id == resident.id);
}

TEST_CASE("power_cycle keeps credentials and PIN but forgets volatile state") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  Credential c = make_credential(h, [&] {
    MakeCredentialRequest r;
    auto token = pin.get_pin_token("1234");
    REQUIRE(token.has_value());
    r.pin_protocol = 1;
    r.pin_auth = PinClient::pin_auth(*token, r.client_data_hash);
    return r;
  }());
  h.auth->power_cycle();
  CHECK(h.state().pin_hash.has_value());
  GetAssertionRequest ga;
  ga.allow(c.id);
  CHECK(h.call(kGetAssertion, ga.build()).status == Status::Ok);
  CHECK(pin.get_pin_token("1234").has_value());
}

// ---------------------------------------------------------------------------
// Credential IDs and determinism

TEST_CASE("credential IDs: fixed length, within getInfo's maxCredentialIdLength, unique") {
  Harness h;
  std::set<Bytes> ids;
  for (int i = 0; i < 10; ++i) {
    MakeCredentialRequest req;
    req.algorithms = {i % 2 ? -8 : -7};
    Credential c = make_credential(h, req);
    CHECK(c.id.size() == ctap::kCredentialIdLength);
    CHECK(c.id.size() <= h.auth->profile().max_credential_id_length);
    ids.insert(c.id);
  }
  CHECK(ids.size() == 10);
  const Response info = h.call(kGetInfo);
  if (const cbor::Value* max_len = info.get(8)) {  // maxCredentialIdLength (CTAP 2.1)
    REQUIRE(max_len->is_unsigned());
    CHECK(max_len->as_unsigned() >= ctap::kCredentialIdLength);
  }
}

TEST_CASE("credential IDs: the private key is not visible in the ID") {
  Harness h;
  MakeCredentialRequest rk;
  rk.rk();
  Credential c = make_credential(h, rk);
  const store::Credential* stored = h.state().find_credential(c.id);
  REQUIRE(stored);
  const crypto::SecretBytes& key = stored->private_key;
  REQUIRE(key.size() == 32);
  auto it = std::search(c.id.begin(), c.id.end(), key.begin(), key.end());
  CHECK(it == c.id.end());
}

TEST_CASE("determinism: the same seed and requests give the same credential IDs and keys") {
  auto run = [](uint64_t seed) {
    Harness h(ctap::Profile{}, seed);
    PinClient pin(h, 7);
    std::vector<Bytes> out;
    Credential a = make_credential(h);
    out.push_back(a.id);
    out.push_back(a.public_key.x());
    REQUIRE(pin.set_pin("1234").ok());
    auto token = pin.get_pin_token("1234");
    REQUIRE(token.has_value());
    out.push_back(*token);
    MakeCredentialRequest rk;
    rk.rk();
    rk.algorithms = {-8};
    rk.pin_protocol = 1;
    rk.pin_auth = PinClient::pin_auth(*token, rk.client_data_hash);
    Credential b = make_credential(h, rk);
    out.push_back(b.id);
    out.push_back(b.public_key.x());
    // The CA key is drawn from the seeded Rng. (The certificate bytes are not compared:
    // ECDSA signatures use OpenSSL's own random nonce.)
    auto ca_key = crypto::certificate_public_key(h.auth->attestation_ca_certificate());
    REQUIRE(ca_key.has_value());
    out.push_back(ca_key->x());
    return out;
  };
  const auto first = run(42);
  const auto second = run(42);
  const auto other = run(43);
  REQUIRE(first.size() == second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    CAPTURE(i);
    CHECK(to_hex(first[i]) == to_hex(second[i]));
    CHECK(first[i] != other[i]);
  }
}

}  // namespace
}  // namespace vauth::ctaptest
