// CTAP1/U2F over CTAPHID_MSG (FIDO U2F Raw Message Formats v1.2 and the
// ISO 7816-4 APDU encodings of FIDO U2F NFC/HID): VERSION, REGISTER,
// AUTHENTICATE, status words, touch-then-retry, and U2F key handles used from
// CTAP2 getAssertion (CTAP 2.0 §8 interoperability).
#include "ctap_test_support.h"

namespace vauth::ctaptest {
namespace {

using Mode = ctap::ControlledPresence::Mode;

constexpr uint8_t kRegister = 0x01, kAuthenticate = 0x02, kVersion = 0x03;
constexpr uint8_t kEnforce = 0x03, kCheckOnly = 0x07, kDontEnforce = 0x08;
constexpr uint16_t kOk = 0x9000, kConditionsNotSatisfied = 0x6985, kWrongData = 0x6a80, kWrongLength = 0x6700,
                   kClaNotSupported = 0x6e00, kInsNotSupported = 0x6d00;

Bytes challenge(uint8_t fill = 0xc1) { return Bytes(32, fill); }
Bytes application(std::string_view origin = "example.com") { return crypto::sha256(to_bytes(origin)); }

struct Registration {
  crypto::PublicKey public_key;
  Bytes key_handle;
  Bytes certificate;
  Bytes signature;
};

// Parses a REGISTER response per U2F raw message formats §4.3 and checks its signature.
Registration parse_registration(const Bytes& reply, const Bytes& chal, const Bytes& app) {
  REQUIRE(status_word(reply) == kOk);
  const Bytes d = data_of(reply);
  REQUIRE(d.size() > 1 + 65 + 1);
  CHECK(d[0] == 0x05);  // reserved byte
  CHECK(d[1] == 0x04);  // uncompressed point
  const Bytes point(d.begin() + 1, d.begin() + 66);
  auto pub = crypto::PublicKey::p256(ByteView(point).subspan(1, 32), ByteView(point).subspan(33, 32));
  REQUIRE_MESSAGE(pub.has_value(), "user public key is not a P-256 point");
  const size_t handle_len = d[66];
  REQUIRE(d.size() > 67 + handle_len);
  const Bytes handle(d.begin() + 67, d.begin() + 67 + static_cast<std::ptrdiff_t>(handle_len));
  ByteView rest = ByteView(d).subspan(67 + handle_len);
  auto cert_len = der_length(rest);
  REQUIRE(cert_len.has_value());
  REQUIRE(rest.size() > *cert_len);
  const Bytes cert(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(*cert_len));
  const Bytes sig(rest.begin() + static_cast<std::ptrdiff_t>(*cert_len), rest.end());

  auto att_key = crypto::certificate_public_key(cert);
  REQUIRE(att_key.has_value());
  const Bytes signed_data = concat(Bytes{0x00}, app, chal, handle, point);
  CHECK(att_key->verify(signed_data, sig));
  CHECK_FALSE(att_key->verify(concat(Bytes{0x00}, app, challenge(0x00), handle, point), sig));
  return Registration{*pub, handle, cert, sig};
}

Registration register_key(Harness& h, const Bytes& chal = challenge(), const Bytes& app = application()) {
  return parse_registration(h.msg(apdu_extended(kRegister, 0x00, concat(chal, app))), chal, app);
}

Bytes authenticate_apdu(uint8_t p1, const Bytes& chal, const Bytes& app, const Bytes& handle) {
  Bytes data = concat(chal, app);
  data.push_back(static_cast<uint8_t>(handle.size()));
  append(data, handle);
  return apdu_extended(kAuthenticate, p1, data);
}

struct AuthResult {
  uint8_t flags;
  uint32_t counter;
  Bytes signature;
};

// Parses an AUTHENTICATE response (§5.4) and checks its signature.
AuthResult parse_authentication(const Bytes& reply, const crypto::PublicKey& key, const Bytes& chal,
                                const Bytes& app) {
  REQUIRE(status_word(reply) == kOk);
  const Bytes d = data_of(reply);
  REQUIRE(d.size() > 5);
  AuthResult r{d[0], get_u32_be(d.data() + 1), Bytes(d.begin() + 5, d.end())};
  const Bytes signed_data = concat(app, Bytes(d.begin(), d.begin() + 5), chal);
  CHECK(key.verify(signed_data, r.signature));
  CHECK_FALSE(key.verify(concat(app, Bytes(d.begin(), d.begin() + 5), challenge(0x00)), r.signature));
  return r;
}

// ---------------------------------------------------------------------------
// APDU encodings and VERSION

TEST_CASE("U2F VERSION in every APDU form answers U2F_V2") {
  Harness h;
  const Bytes expected = concat(to_bytes("U2F_V2"), Bytes{0x90, 0x00});
  CHECK(h.msg(Bytes{0x00, kVersion, 0x00, 0x00}) == expected);                    // case 1: no Lc, no Le
  CHECK(h.msg(Bytes{0x00, kVersion, 0x00, 0x00, 0x00}) == expected);              // case 2S: short Le
  CHECK(h.msg(Bytes{0x00, kVersion, 0x00, 0x00, 0x00, 0x00, 0x00}) == expected);  // case 2E: extended Le
  CHECK(h.msg(apdu_short(kVersion, 0, {})) == expected);
  CHECK(h.msg(apdu_extended(kVersion, 0, {})) == expected);
}

TEST_CASE("U2F VERSION with data → SW_WRONG_LENGTH") {
  Harness h;
  CHECK(h.msg(apdu_short(kVersion, 0, Bytes{0x01})) == Bytes{0x67, 0x00});
  CHECK(h.msg(apdu_extended(kVersion, 0, Bytes{0x01, 0x02})) == Bytes{0x67, 0x00});
}

TEST_CASE("U2F REGISTER in short and extended encodings, with and without Le") {
  Harness h;
  const Bytes chal = challenge(), app = application();
  const Bytes data = concat(chal, app);
  for (const Bytes& apdu : {apdu_extended(kRegister, 0, data, true), apdu_extended(kRegister, 0, data, false),
                            apdu_short(kRegister, 0, data, true), apdu_short(kRegister, 0, data, false)}) {
    CAPTURE(to_hex(apdu));
    parse_registration(h.msg(apdu), chal, app);
  }
}

TEST_CASE("U2F APDU framing errors → SW_WRONG_LENGTH") {
  Harness h;
  const Bytes data = concat(challenge(), application());
  auto check = [&](const Bytes& apdu) {
    CAPTURE(to_hex(apdu));
    CHECK(h.msg(apdu) == Bytes{0x67, 0x00});
  };
  check(Bytes{});
  check(Bytes{0x00});
  check(Bytes{0x00, kVersion, 0x00});  // shorter than the header
  {
    Bytes a = apdu_extended(kRegister, 0, data, false);
    a.pop_back();  // Lc promises one byte more than there is
    check(a);
  }
  {
    Bytes a = apdu_extended(kRegister, 0, data, false);
    a.push_back(0x00);  // a one-byte Le after extended Lc
    check(a);
  }
  {
    Bytes a = apdu_extended(kRegister, 0, data, true);
    a.push_back(0x00);  // three bytes after the data
    check(a);
  }
  {
    Bytes a = apdu_short(kRegister, 0, data, false);
    a.pop_back();
    check(a);
  }
  {
    Bytes a = apdu_short(kRegister, 0, data, true);
    a.push_back(0x00);  // two bytes after short data
    check(a);
  }
}

TEST_CASE("U2F: CLA other than 0 → SW_CLA_NOT_SUPPORTED; unknown INS → SW_INS_NOT_SUPPORTED") {
  Harness h;
  CHECK(h.msg(Bytes{0x80, kVersion, 0x00, 0x00}) == Bytes{0x6e, 0x00});
  CHECK(h.msg(Bytes{0x01, kVersion, 0x00, 0x00}) == Bytes{0x6e, 0x00});
  CHECK(h.msg(Bytes{0x00, 0x04, 0x00, 0x00}) == Bytes{0x6d, 0x00});
  CHECK(h.msg(Bytes{0x00, 0x00, 0x00, 0x00}) == Bytes{0x6d, 0x00});
  CHECK(h.msg(Bytes{0x00, 0xc0, 0x00, 0x00}) == Bytes{0x6d, 0x00});
  CHECK(status_word(h.msg(Bytes{0x80, 0x04, 0x00, 0x00})) == kClaNotSupported);
  CHECK(status_word(h.msg(Bytes{0x00, 0x40, 0x00, 0x00, 0x00})) == kInsNotSupported);
}

TEST_CASE("U2F disabled in the profile: every APDU → SW_INS_NOT_SUPPORTED") {
  ctap::Profile p;
  p.u2f = false;
  Harness h(p);
  CHECK(h.msg(Bytes{0x00, kVersion, 0x00, 0x00}) == Bytes{0x6d, 0x00});
  CHECK(h.msg(apdu_extended(kRegister, 0, concat(challenge(), application()))) == Bytes{0x6d, 0x00});
  CHECK(h.presence.request_count() == 0);
}

// ---------------------------------------------------------------------------
// REGISTER

TEST_CASE("U2F REGISTER: response layout, batch certificate, signature") {
  Harness h;
  Registration r = register_key(h);
  CHECK(r.key_handle.size() <= 255);
  CHECK(r.key_handle.size() == 64);
  CHECK(r.certificate == h.state().attestation->batch_certificate);
  CHECK(certificate_signed_by(r.certificate, h.auth->attestation_ca_certificate()));
  CHECK(r.public_key.algorithm() == crypto::Algorithm::ES256);

  Registration again = register_key(h);
  CHECK(again.key_handle != r.key_handle);
  CHECK(again.public_key.x() != r.public_key.x());
}

TEST_CASE("U2F REGISTER with a wrong data length → SW_WRONG_LENGTH, no touch asked") {
  Harness h;
  for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{65}, size_t{128}}) {
    CAPTURE(n);
    Bytes reply = h.msg(apdu_extended(kRegister, 0, Bytes(n, 0x11)));
    CHECK(reply == Bytes{0x67, 0x00});
  }
  CHECK(h.presence.request_count() == 0);
}

TEST_CASE("U2F REGISTER without a touch: 6985, the touch is remembered for the retry") {
  Harness h(ctap::Profile{}, 1, Mode::Wait);
  const Bytes apdu = apdu_extended(kRegister, 0, concat(challenge(), application()));

  Bytes first = h.msg(apdu);
  CHECK(first == Bytes{0x69, 0x85});
  CHECK(h.presence.pending());
  CHECK(h.presence.request_count() == 1);
  REQUIRE(h.presence.last_request().has_value());

  // Retries before the touch: still 6985, and no second prompt.
  CHECK(status_word(h.msg(apdu)) == kConditionsNotSatisfied);
  CHECK(status_word(h.msg(apdu)) == kConditionsNotSatisfied);
  CHECK(h.presence.request_count() == 1);

  CHECK(h.presence.approve());
  Registration r = register_key(h);
  CHECK(r.key_handle.size() == 64);

  // The touch was used up: the next registration needs another one.
  CHECK(status_word(h.msg(apdu)) == kConditionsNotSatisfied);
  CHECK(h.presence.request_count() == 2);
  CHECK(h.presence.pending());
}

TEST_CASE("U2F: a touch goes stale if nobody retries in time") {
  Harness h(ctap::Profile{}, 1, Mode::Wait);
  const Bytes apdu = apdu_extended(kRegister, 0, concat(challenge(), application()));
  CHECK(status_word(h.msg(apdu)) == kConditionsNotSatisfied);
  h.presence.approve();
  h.advance(60s);
  CHECK(status_word(h.msg(apdu)) == kConditionsNotSatisfied);
  CHECK(h.presence.request_count() == 2);
}

TEST_CASE("U2F: a denied touch does not register; the next retry asks again") {
  Harness h(ctap::Profile{}, 1, Mode::Wait);
  const Bytes apdu = apdu_extended(kRegister, 0, concat(challenge(), application()));
  CHECK(status_word(h.msg(apdu)) == kConditionsNotSatisfied);
  h.presence.deny();
  CHECK(status_word(h.msg(apdu)) == kConditionsNotSatisfied);
  CHECK(h.presence.request_count() == 2);
  h.presence.approve();
  CHECK(status_word(h.msg(apdu)) == kOk);
}

TEST_CASE("U2F with auto-approving presence registers on the first request") {
  Harness h;
  CHECK(status_word(h.msg(apdu_extended(kRegister, 0, concat(challenge(), application())))) == kOk);
  CHECK(h.presence.request_count() == 1);
}

// ---------------------------------------------------------------------------
// AUTHENTICATE

TEST_CASE("U2F AUTHENTICATE enforce-user-presence (0x03) signs with the registered key") {
  Harness h;
  Registration reg = register_key(h);
  const Bytes chal = challenge(0x5c), app = application();
  AuthResult a = parse_authentication(h.msg(authenticate_apdu(kEnforce, chal, app, reg.key_handle)), reg.public_key,
                                      chal, app);
  CHECK(a.flags == 0x01);
  AuthResult b = parse_authentication(h.msg(authenticate_apdu(kEnforce, chal, app, reg.key_handle)), reg.public_key,
                                      chal, app);
  CHECK(b.counter > a.counter);
}

TEST_CASE("U2F AUTHENTICATE 0x03 without a touch → 6985, then succeeds after the touch") {
  Harness h;
  Registration reg = register_key(h);
  h.presence.set_mode(Mode::Wait);
  const size_t before = h.presence.request_count();
  const Bytes chal = challenge(0x5c), app = application();
  const Bytes apdu = authenticate_apdu(kEnforce, chal, app, reg.key_handle);

  CHECK(h.msg(apdu) == Bytes{0x69, 0x85});
  CHECK(h.presence.request_count() == before + 1);
  CHECK(h.msg(apdu) == Bytes{0x69, 0x85});
  CHECK(h.presence.request_count() == before + 1);
  h.presence.approve();
  AuthResult a = parse_authentication(h.msg(apdu), reg.public_key, chal, app);
  CHECK(a.flags == 0x01);
  CHECK(h.msg(apdu) == Bytes{0x69, 0x85});  // consumed
}

TEST_CASE("U2F AUTHENTICATE check-only (0x07): 6985 for our handle, 6A80 otherwise, never a prompt") {
  Harness h;
  Registration reg = register_key(h);
  h.presence.set_mode(Mode::Wait);
  const size_t before = h.presence.request_count();
  const uint32_t count = h.state().sign_count;
  const Bytes chal = challenge(), app = application();

  CHECK(h.msg(authenticate_apdu(kCheckOnly, chal, app, reg.key_handle)) == Bytes{0x69, 0x85});
  CHECK(h.msg(authenticate_apdu(kCheckOnly, chal, application("other.example"), reg.key_handle)) ==
        Bytes{0x6a, 0x80});
  Bytes tampered = reg.key_handle;
  tampered[10] ^= 0x01;
  CHECK(h.msg(authenticate_apdu(kCheckOnly, chal, app, tampered)) == Bytes{0x6a, 0x80});
  CHECK(h.msg(authenticate_apdu(kCheckOnly, chal, app, Bytes(64, 0x00))) == Bytes{0x6a, 0x80});
  CHECK(h.presence.request_count() == before);
  CHECK_FALSE(h.presence.pending());
  CHECK(h.state().sign_count == count);
}

TEST_CASE("U2F AUTHENTICATE dont-enforce (0x08): signs without a touch, UP bit clear") {
  Harness h;
  Registration reg = register_key(h);
  h.presence.set_mode(Mode::Wait);
  const size_t before = h.presence.request_count();
  const Bytes chal = challenge(0x08), app = application();
  AuthResult a = parse_authentication(h.msg(authenticate_apdu(kDontEnforce, chal, app, reg.key_handle)),
                                      reg.public_key, chal, app);
  CHECK((a.flags & 0x01) == 0);
  CHECK(h.presence.request_count() == before);
  AuthResult b = parse_authentication(h.msg(authenticate_apdu(kDontEnforce, chal, app, reg.key_handle)),
                                      reg.public_key, chal, app);
  CHECK(b.counter > a.counter);
}

TEST_CASE("U2F AUTHENTICATE with a foreign key handle → SW_WRONG_DATA, whatever P1") {
  Harness h;
  Registration reg = register_key(h);
  Harness other(ctap::Profile{}, 77);
  Registration theirs = register_key(other);
  for (uint8_t p1 : {kEnforce, kCheckOnly, kDontEnforce}) {
    CAPTURE(int(p1));
    CHECK(status_word(h.msg(authenticate_apdu(p1, challenge(), application(), theirs.key_handle))) == kWrongData);
    CHECK(status_word(h.msg(authenticate_apdu(p1, challenge(), application("evil.example"), reg.key_handle))) ==
          kWrongData);
    Bytes truncated = reg.key_handle;
    truncated.pop_back();
    CHECK(status_word(h.msg(authenticate_apdu(p1, challenge(), application(), truncated))) == kWrongData);
  }
}

TEST_CASE("U2F AUTHENTICATE length errors → SW_WRONG_LENGTH") {
  Harness h;
  Registration reg = register_key(h);
  Bytes data = concat(challenge(), application());
  data.push_back(static_cast<uint8_t>(reg.key_handle.size() + 1));  // L says one more than follows
  append(data, reg.key_handle);
  CHECK(status_word(h.msg(apdu_extended(kAuthenticate, kEnforce, data))) == kWrongLength);
  CHECK(status_word(h.msg(apdu_extended(kAuthenticate, kEnforce, Bytes(64, 0)))) == kWrongLength);
  CHECK(status_word(h.msg(apdu_extended(kAuthenticate, kEnforce, {}))) == kWrongLength);
}

TEST_CASE("U2F AUTHENTICATE with an unknown control byte is refused") {
  Harness h;
  Registration reg = register_key(h);
  const Bytes reply = h.msg(authenticate_apdu(0x00, challenge(), application(), reg.key_handle));
  CHECK(reply.size() == 2);
  CHECK(status_word(reply) != kOk);
}

// ---------------------------------------------------------------------------
// U2F ↔ CTAP2

TEST_CASE("a U2F key handle works in CTAP2 getAssertion with rpIdHash == application parameter") {
  Harness h;
  const Bytes app = application("example.com");
  Registration reg = register_key(h, challenge(), app);

  GetAssertionRequest ga;
  ga.rp_id = "example.com";
  ga.allow(reg.key_handle);
  Assertion a = unpack_assertion(h.call(kGetAssertion, ga.build()));
  CHECK(a.credential_id == reg.key_handle);
  CHECK(a.auth_data.rp_id_hash == app);
  CHECK(a.auth_data.up());
  CHECK(verifies(reg.public_key, a, ga.client_data_hash));

  GetAssertionRequest other;
  other.rp_id = "example.org";
  other.allow(reg.key_handle);
  CHECK(h.call(kGetAssertion, other.build()).status == Status::NoCredentials);
}

TEST_CASE("U2F and CTAP2 share the signature counter") {
  Harness h;
  Registration reg = register_key(h);
  AuthResult a = parse_authentication(h.msg(authenticate_apdu(kEnforce, challenge(), application(), reg.key_handle)),
                                      reg.public_key, challenge(), application());
  Credential c = make_credential(h);
  CHECK(c.auth_data.sign_count > a.counter);
  AuthResult b = parse_authentication(h.msg(authenticate_apdu(kEnforce, challenge(), application(), reg.key_handle)),
                                      reg.public_key, challenge(), application());
  CHECK(b.counter > c.auth_data.sign_count);
}

TEST_CASE("U2F key handles stop working after authenticatorReset") {
  Harness h;
  Registration reg = register_key(h);
  REQUIRE(h.call(kReset).ok());
  CHECK(status_word(h.msg(authenticate_apdu(kCheckOnly, challenge(), application(), reg.key_handle))) == kWrongData);
}

}  // namespace
}  // namespace vauth::ctaptest
