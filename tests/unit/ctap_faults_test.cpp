// The CTAP, presence and store fault layers around a real Authenticator: each
// action is judged by what a client would check (status, signature, authData,
// CBOR well-formedness, certificate chain), and the key stays healthy after.
#include "ctap_test_support.h"

#include "store/fault_store.h"
#include "vauth/ctap/auth_data_faults.h"
#include "vauth/ctap/fault_handler.h"
#include "vauth/ctap/fault_presence.h"
#include "vauth/faults/fault_parse.h"

namespace vauth::ctaptest {
namespace {

using Mode = ctap::ControlledPresence::Mode;

// The decorators in the order vauthd stacks them (minus the daemon's tracing).
struct FaultyKey {
  explicit FaultyKey(ctap::Profile profile = {}, Mode mode = Mode::Approve) : presence(timers, mode) {
    ctap::Environment env{store, rng, timers, fault_presence, std::move(profile)};
    env.auth_data_faults = &auth_data_faults;
    auth = std::make_unique<ctap::Authenticator>(std::move(env));
    handler = std::make_unique<ctap::FaultHandler>(*auth, plan, timers, auth_data_faults);
  }

  uint64_t add(const char* rule) {
    auto r = faults::parse_rule(rule);
    REQUIRE_MESSAGE(r.has_value(), rule);
    return plan.add(std::move(*r));
  }
  Pending start(uint8_t cmd, const Map& params) {
    Bytes req{cmd};
    append(req, cbor::encode(cbor::Value(params)));
    Pending p;
    handler->handle_cbor(req, p.reply());
    return p;
  }
  Response call(uint8_t cmd, const Map& params) { return start(cmd, params).get(); }
  Bytes msg(const Bytes& apdu) {
    Pending p;
    handler->handle_msg(apdu, p.reply());
    return p.done() ? **p.slot : Bytes{};
  }
  void advance(Duration d) {
    clock.advance(d);
    timers.run_due();
  }
  Credential make(const MakeCredentialRequest& req = {}) { return *unpack_credential(call(kMakeCredential, req.build())); }
  Response assert_raw(const Credential& c) { return call(kGetAssertion, GetAssertionRequest{}.allow(c.id).build()); }

  ManualClock clock;
  TimerQueue timers{clock};
  faults::FaultPlan plan{clock};
  store::MemoryStore memory;
  store::FaultStore store{memory, plan};
  crypto::SeededRng rng{1};
  ctap::ControlledPresence presence;
  ctap::FaultPresence fault_presence{presence, plan, timers};
  ctap::AuthDataFaults auth_data_faults;
  std::unique_ptr<ctap::Authenticator> auth;
  std::unique_ptr<ctap::FaultHandler> handler;
};

// A normal registration and assertion still work: the fault left nothing behind.
void check_healthy(FaultyKey& k) {
  const Credential c = k.make();
  const Assertion a = unpack_assertion(k.assert_raw(c));
  CHECK(verifies(c.public_key, a, cdh(0x22)));
}

}  // namespace

TEST_CASE("status=X answers X without running the command (once, then normal)") {
  FaultyKey k;
  k.add("ctap:makeCredential:status=KEY_STORE_FULL,times=1");
  const size_t commits = k.memory.commit_count();
  const Response r = k.call(kMakeCredential, MakeCredentialRequest{}.rk().build());
  CHECK(r.status == Status::KeyStoreFull);
  CHECK(r.raw.size() == 1);
  CHECK(k.memory.commit_count() == commits);  // the command never ran
  CHECK(k.presence.request_count() == 0);
  CHECK(k.plan.entries()[0].fired == 1);
  check_healthy(k);
}

TEST_CASE("stall answers nothing, keeps the engine's keepalives at PROCESSING, and ends on cancel") {
  FaultyKey k;
  k.add("ctap:getInfo:stall");
  Pending p = k.start(kGetInfo, {});
  k.advance(Duration(60'000));
  CHECK(!p.done());
  CHECK(!k.handler->waiting_for_user());
  k.handler->cancel();
  REQUIRE(p.done());
  CHECK(p.get().status == Status::KeepaliveCancel);
  CHECK(p.reply_count() == 1);
  k.plan.clear();
  check_healthy(k);
}

TEST_CASE("delay holds the real answer on the timer queue") {
  FaultyKey k;
  const Credential c = k.make();
  k.add("ctap:getAssertion:delay=750");
  Pending p = k.start(kGetAssertion, GetAssertionRequest{}.allow(c.id).build());
  k.advance(Duration(749));
  CHECK(!p.done());
  k.advance(Duration(1));
  REQUIRE(p.done());
  CHECK(verifies(c.public_key, unpack_assertion(p.get()), cdh(0x22)));
}

TEST_CASE("bad-signature: a well-formed assertion whose signature does not verify") {
  FaultyKey k;
  const Credential c = k.make();
  k.add("ctap:getAssertion:bad-signature,times=1");
  const Assertion bad = unpack_assertion(k.assert_raw(c));
  CHECK(!verifies(c.public_key, bad, cdh(0x22)));
  CHECK(bad.auth_data.rp_id_hash == rp_hash("example.com"));
  const Assertion good = unpack_assertion(k.assert_raw(c));
  CHECK(verifies(c.public_key, good, cdh(0x22)));
}

TEST_CASE("bad-signature on makeCredential breaks the packed attestation signature") {
  FaultyKey k;
  k.add("ctap:makeCredential:bad-signature");
  const Credential c = k.make();
  const cbor::Value* sig = c.att_stmt.find("sig");
  const cbor::Value* x5c = c.att_stmt.find("x5c");
  REQUIRE(sig);
  REQUIRE(x5c);
  auto leaf = crypto::certificate_public_key(x5c->as_array().front().as_bytes());
  REQUIRE(leaf.has_value());
  CHECK(!leaf->verify(concat(c.raw_auth_data, cdh()), sig->as_bytes()));
}

TEST_CASE("authData faults are signed: the signature verifies, the content is wrong") {
  FaultyKey k;
  const Credential c = k.make();
  SUBCASE("bad-rpid-hash") {
    k.add("ctap:getAssertion:bad-rpid-hash");
    const Assertion a = unpack_assertion(k.assert_raw(c));
    CHECK(verifies(c.public_key, a, cdh(0x22)));
    CHECK(a.auth_data.rp_id_hash != rp_hash("example.com"));
  }
  SUBCASE("flip-up and flip-uv") {
    k.add("ctap:getAssertion:flip-up");
    k.add("ctap:getAssertion:flip-uv");
    const Assertion a = unpack_assertion(k.assert_raw(c));
    CHECK(verifies(c.public_key, a, cdh(0x22)));
    CHECK((a.auth_data.flags & kFlagUP) == 0);
    CHECK((a.auth_data.flags & kFlagUV) != 0);
  }
  SUBCASE("extra-extension") {
    k.add("ctap:getAssertion:extra-extension");
    const Assertion a = unpack_assertion(k.assert_raw(c));
    CHECK(verifies(c.public_key, a, cdh(0x22)));
    CHECK((a.auth_data.flags & kFlagED) != 0);
    REQUIRE(a.auth_data.extensions.has_value());
    CHECK(a.auth_data.extensions->find("credProtect") != nullptr);
  }
}

TEST_CASE("counter-freeze repeats the last counter; counter-back goes below it") {
  FaultyKey k;
  const Credential c = k.make();
  const uint32_t first = unpack_assertion(k.assert_raw(c)).auth_data.sign_count;
  const uint64_t freeze = k.add("ctap:getAssertion:counter-freeze");
  CHECK(unpack_assertion(k.assert_raw(c)).auth_data.sign_count == first);
  CHECK(unpack_assertion(k.assert_raw(c)).auth_data.sign_count == first);
  k.plan.remove(freeze);
  k.add("ctap:getAssertion:counter-back,times=2");
  CHECK(unpack_assertion(k.assert_raw(c)).auth_data.sign_count == first - 1);
  CHECK(unpack_assertion(k.assert_raw(c)).auth_data.sign_count == first - 2);
  // Afterwards the real counter, which never stopped counting: above everything seen.
  CHECK(unpack_assertion(k.assert_raw(c)).auth_data.sign_count > first);
}

TEST_CASE("malformed and non-canonical CBOR, and a missing required field") {
  FaultyKey k;
  SUBCASE("malformed-cbor") {
    k.add("ctap:getInfo:malformed-cbor");
    const Response r = k.call(kGetInfo, {});
    CHECK(r.status == Status::Ok);
    CHECK(!r.body_decoded);
    CHECK(cbor::decode(ByteView(r.raw).subspan(1)).error() == cbor::DecodeError::Malformed);
  }
  SUBCASE("noncanonical-cbor") {
    k.add("ctap:getInfo:noncanonical-cbor");
    const Response r = k.call(kGetInfo, {});
    CHECK(r.status == Status::Ok);
    CHECK(cbor::decode(ByteView(r.raw).subspan(1)).error() == cbor::DecodeError::NonCanonical);
  }
  SUBCASE("missing-field") {
    k.add("ctap:makeCredential:missing-field");
    const Response r = k.call(kMakeCredential, MakeCredentialRequest{}.build());
    CHECK(r.status == Status::Ok);
    CHECK(r.get(1) == nullptr);  // fmt
    CHECK(r.get(2) != nullptr);
  }
}

TEST_CASE("broken-chain: the batch certificate no longer chains to the attestation CA") {
  FaultyKey k;
  const Credential normal = k.make();
  const Bytes ca = k.auth->attestation_ca_certificate();
  CHECK(certificate_signed_by(normal.att_stmt.find("x5c")->as_array().front().as_bytes(), ca));
  k.add("ctap:makeCredential:broken-chain");
  const Credential broken = k.make();
  const Bytes leaf = broken.att_stmt.find("x5c")->as_array().front().as_bytes();
  CHECK(!certificate_signed_by(leaf, ca));
  // The leaf still parses and its key still verifies the attestation signature.
  auto key = crypto::certificate_public_key(leaf);
  REQUIRE(key.has_value());
  CHECK(key->verify(concat(broken.raw_auth_data, cdh()), broken.att_stmt.find("sig")->as_bytes()));
}

TEST_CASE("store faults: the right CTAP error, and the state exactly as before") {
  FaultyKey k;
  const Credential c = k.make();
  const uint32_t count = k.memory.state().sign_count;
  const size_t credentials = k.memory.state().credentials.size();
  SUBCASE("eio on a discoverable credential → CTAP1_ERR_OTHER") {
    k.add("store:PutCredential:eio,times=1");
    CHECK(k.call(kMakeCredential, MakeCredentialRequest{}.rk().build()).status == Status::Other);
  }
  SUBCASE("disk full → KEY_STORE_FULL") {
    k.add("store:full,times=1");
    CHECK(k.call(kMakeCredential, MakeCredentialRequest{}.rk().build()).status == Status::KeyStoreFull);
  }
  SUBCASE("read-only during getAssertion's counter update, after an asynchronous touch") {
    k.presence.set_delay(Duration(20));
    k.add("store:SetSignCount:read-only,times=1");
    Pending p = k.start(kGetAssertion, GetAssertionRequest{}.allow(c.id).build());
    CHECK(!p.done());
    k.advance(Duration(20));
    REQUIRE(p.done());
    CHECK(p.get().status == Status::Other);
    CHECK(p.reply_count() == 1);
    k.presence.set_delay(Duration(0));
  }
  SUBCASE("U2F authenticate → SW 6581") {
    k.add("store:eio,times=1");
    Bytes data = Bytes(32, 0xc1);
    append(data, crypto::sha256(to_bytes("example.com")));
    data.push_back(static_cast<uint8_t>(c.id.size()));
    append(data, c.id);
    CHECK(status_word(k.msg(apdu_short(0x02, 0x08, data))) == 0x6581);
  }
  CHECK(k.memory.state().sign_count == count);
  CHECK(k.memory.state().credentials.size() == credentials);
  check_healthy(k);
}

TEST_CASE("presence faults: deny, time out, late approval, two touches") {
  SUBCASE("deny") {
    FaultyKey k;
    k.add("presence:makeCredential:deny,times=1");
    CHECK(k.call(kMakeCredential, MakeCredentialRequest{}.build()).status == Status::OperationDenied);
    check_healthy(k);
  }
  SUBCASE("timeout after 5 s") {
    FaultyKey k;
    k.add("presence:timeout=5000,times=1");
    Pending p = k.start(kMakeCredential, MakeCredentialRequest{}.build());
    k.advance(Duration(4999));
    CHECK(!p.done());
    k.advance(Duration(1));
    CHECK(p.get().status == Status::UserActionTimeout);
    check_healthy(k);
  }
  SUBCASE("approve=300 touches even a key in manual mode, after 300 ms") {
    FaultyKey k({}, Mode::Wait);
    k.add("presence:approve=300");
    Pending p = k.start(kMakeCredential, MakeCredentialRequest{}.build());
    k.advance(Duration(299));
    CHECK(!p.done());
    k.advance(Duration(1));
    CHECK(p.get().ok());
  }
  SUBCASE("two-touches: the first touch is swallowed") {
    FaultyKey k({}, Mode::Wait);
    k.add("presence:two-touches");
    Pending p = k.start(kMakeCredential, MakeCredentialRequest{}.build());
    REQUIRE(k.presence.pending());
    k.presence.approve();
    CHECK(!p.done());
    CHECK(k.presence.pending());
    CHECK(k.presence.request_count() == 2);
    k.presence.approve();
    CHECK(p.get().ok());
  }
  SUBCASE("cancel during a faulted wait") {
    FaultyKey k;
    k.add("presence:approve=10000");
    Pending p = k.start(kMakeCredential, MakeCredentialRequest{}.build());
    k.handler->cancel();
    CHECK(p.get().status == Status::KeepaliveCancel);
  }
}

TEST_CASE("u2f faults: a status word, and a bad signature") {
  FaultyKey k;
  k.add("u2f:u2fVersion:status=0x6d00,times=1");
  CHECK(status_word(k.msg(apdu_short(0x03, 0, {}))) == 0x6d00);
  CHECK(status_word(k.msg(apdu_short(0x03, 0, {}))) == 0x9000);
}

TEST_CASE("the request description carries subcommand and extensions") {
  Map pin{{1, 1}, {2, 1}};
  Bytes req{kClientPin};
  append(req, cbor::encode(cbor::Value(pin)));
  const faults::Call c = ctap::describe_ctap2_request(req);
  CHECK(c.command == "clientPIN");
  CHECK(c.subcommand == 1u);
  MakeCredentialRequest mc;
  mc.extensions = Map{{"hmac-secret", true}};
  Bytes req2{kMakeCredential};
  append(req2, cbor::encode(cbor::Value(mc.build())));
  const faults::Call c2 = ctap::describe_ctap2_request(req2);
  CHECK(c2.command == "makeCredential");
  CHECK(c2.extensions == std::vector<std::string>{"hmac-secret"});
  CHECK(ctap::describe_ctap2_request(Bytes{0x42, 0xff}).command == "0x42");
}

}  // namespace vauth::ctaptest
