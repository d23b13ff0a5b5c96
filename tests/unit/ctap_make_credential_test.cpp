// authenticatorMakeCredential (CTAP 2.0 §5.1, CTAP 2.1 §6.1), checked from the
// platform's side: authenticator data is parsed byte by byte (WebAuthn §6.1),
// attestation statements are verified with the certificates they carry
// (WebAuthn §8.2 "packed"), and every error status is the one the spec names.
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "ctap_test_support.h"
#include "vauth/ctap/credential_id.h"

namespace vauth::ctaptest {
namespace {

using Mode = ctap::ControlledPresence::Mode;

ctap::Profile profile_with(ctap::AttestationMode m) {
  ctap::Profile p;
  p.attestation = m;
  return p;
}

Bytes aaguid_bytes(const ctap::Profile& p) { return Bytes(p.aaguid.begin(), p.aaguid.end()); }

void check_es256_cose_key(const cbor::Value& cose) {
  REQUIRE(cose.is_map());
  CHECK(cose.as_map().size() == 5);
  REQUIRE(cose.find(1));
  CHECK(*cose.find(1) == cbor::Value(2));     // kty: EC2
  REQUIRE(cose.find(3));
  CHECK(*cose.find(3) == cbor::Value(-7));    // alg: ES256
  REQUIRE(cose.find(-1));
  CHECK(*cose.find(-1) == cbor::Value(1));    // crv: P-256
  REQUIRE(cose.find(-2));
  REQUIRE(cose.find(-2)->is_bytes());
  CHECK(cose.find(-2)->as_bytes().size() == 32);
  REQUIRE(cose.find(-3));
  REQUIRE(cose.find(-3)->is_bytes());
  CHECK(cose.find(-3)->as_bytes().size() == 32);
}

void check_eddsa_cose_key(const cbor::Value& cose) {
  REQUIRE(cose.is_map());
  CHECK(cose.as_map().size() == 4);
  REQUIRE(cose.find(1));
  CHECK(*cose.find(1) == cbor::Value(1));     // kty: OKP
  REQUIRE(cose.find(3));
  CHECK(*cose.find(3) == cbor::Value(-8));    // alg: EdDSA
  REQUIRE(cose.find(-1));
  CHECK(*cose.find(-1) == cbor::Value(6));    // crv: Ed25519
  REQUIRE(cose.find(-2));
  REQUIRE(cose.find(-2)->is_bytes());
  CHECK(cose.find(-2)->as_bytes().size() == 32);
  CHECK(cose.find(-3) == nullptr);
}

// The common authenticator-data checks of a fresh credential.
void check_new_credential_auth_data(const Credential& c, const Harness& h, std::string_view rp_id) {
  CHECK(c.auth_data.rp_id_hash == rp_hash(rp_id));
  CHECK(c.auth_data.up());
  CHECK(c.auth_data.at());
  CHECK_FALSE(c.auth_data.uv());
  CHECK((c.auth_data.flags & ~(kFlagUP | kFlagAT)) == 0);  // nothing else (no ED, no reserved bits)
  CHECK(c.auth_data.sign_count > 0);
  CHECK(c.auth_data.aaguid == aaguid_bytes(h.auth->profile()));
  CHECK(c.id.size() == ctap::kCredentialIdLength);
}

// Packed batch attestation (WebAuthn §8.2): alg, sig over authData || clientDataHash by the
// key in x5c[0], and x5c[0] issued by the authenticator's attestation CA.
void check_packed_batch(const Credential& c, const Harness& h, const Bytes& client_data_hash) {
  CHECK(c.fmt == "packed");
  REQUIRE(c.att_stmt.is_map());
  const cbor::Value* alg = c.att_stmt.find("alg");
  const cbor::Value* sig = c.att_stmt.find("sig");
  const cbor::Value* x5c = c.att_stmt.find("x5c");
  REQUIRE(alg);
  REQUIRE(sig);
  REQUIRE(x5c);
  CHECK(*alg == cbor::Value(-7));
  REQUIRE(sig->is_bytes());
  REQUIRE(x5c->is_array());
  REQUIRE(x5c->as_array().size() >= 1);
  REQUIRE(x5c->as_array()[0].is_bytes());
  const Bytes& cert = x5c->as_array()[0].as_bytes();
  auto batch_key = crypto::certificate_public_key(cert);
  REQUIRE(batch_key.has_value());
  CHECK(batch_key->algorithm() == crypto::Algorithm::ES256);
  CHECK(batch_key->verify(concat(c.raw_auth_data, client_data_hash), sig->as_bytes()));
  // The signature covers the client data hash: another hash must not verify.
  CHECK_FALSE(batch_key->verify(concat(c.raw_auth_data, cdh(0xee)), sig->as_bytes()));
  // Chains to the CA a relying party is told to trust.
  const Bytes ca = h.auth->attestation_ca_certificate();
  REQUIRE_FALSE(ca.empty());
  CHECK(certificate_signed_by(cert, ca));
  CHECK(certificate_signed_by(ca, ca));  // the CA is a self-signed root
  CHECK_FALSE(certificate_signed_by(ca, cert));
}

TEST_CASE("makeCredential ES256: authenticator data and packed batch attestation") {
  Harness h;
  MakeCredentialRequest req;
  Credential c = make_credential(h, req);

  check_new_credential_auth_data(c, h, "example.com");
  CHECK(c.id.size() == ctap::kCredentialIdLength);
  CHECK(c.id.size() <= h.auth->profile().max_credential_id_length);
  REQUIRE(c.auth_data.cose_key.has_value());
  check_es256_cose_key(*c.auth_data.cose_key);
  CHECK(c.public_key.algorithm() == crypto::Algorithm::ES256);
  check_packed_batch(c, h, req.client_data_hash);
}

TEST_CASE("makeCredential EdDSA: OKP COSE key, batch attestation still verifies") {
  Harness h;
  MakeCredentialRequest req;
  req.algorithms = {-8};
  Credential c = make_credential(h, req);

  check_new_credential_auth_data(c, h, "example.com");
  REQUIRE(c.auth_data.cose_key.has_value());
  check_eddsa_cose_key(*c.auth_data.cose_key);
  CHECK(c.public_key.algorithm() == crypto::Algorithm::EdDSA);
  check_packed_batch(c, h, req.client_data_hash);
}

TEST_CASE("makeCredential picks the first supported algorithm in the RP's order") {
  Harness h;
  MakeCredentialRequest req;

  req.algorithms = {-8, -7};
  CHECK(make_credential(h, req).public_key.algorithm() == crypto::Algorithm::EdDSA);
  req.algorithms = {-7, -8};
  CHECK(make_credential(h, req).public_key.algorithm() == crypto::Algorithm::ES256);
  req.algorithms = {-36, -37, -8};  // ES512, PS256 unsupported
  CHECK(make_credential(h, req).public_key.algorithm() == crypto::Algorithm::EdDSA);
}

TEST_CASE("makeCredential self attestation is signed by the credential key") {
  for (int alg : {-7, -8}) {
    CAPTURE(alg);
    Harness h(profile_with(ctap::AttestationMode::Self));
    MakeCredentialRequest req;
    req.algorithms = {alg};
    Credential c = make_credential(h, req);
    check_new_credential_auth_data(c, h, "example.com");
    CHECK(c.fmt == "packed");
    REQUIRE(c.att_stmt.is_map());
    CHECK(c.att_stmt.find("x5c") == nullptr);
    REQUIRE(c.att_stmt.find("alg"));
    CHECK(*c.att_stmt.find("alg") == cbor::Value(alg));
    const cbor::Value* sig = c.att_stmt.find("sig");
    REQUIRE(sig);
    REQUIRE(sig->is_bytes());
    CHECK(c.public_key.verify(concat(c.raw_auth_data, req.client_data_hash), sig->as_bytes()));
    CHECK_FALSE(c.public_key.verify(concat(c.raw_auth_data, cdh(0x99)), sig->as_bytes()));
  }
}

TEST_CASE("makeCredential \"none\" attestation has an empty statement") {
  Harness h(profile_with(ctap::AttestationMode::None));
  Credential c = make_credential(h);
  check_new_credential_auth_data(c, h, "example.com");
  CHECK(c.fmt == "none");
  REQUIRE(c.att_stmt.is_map());
  CHECK(c.att_stmt.as_map().empty());
}

TEST_CASE("batch certificate meets the packed attestation certificate requirements (WebAuthn §8.2.1)") {
  Harness h;
  Credential c = make_credential(h);
  const cbor::Value* x5c = c.att_stmt.find("x5c");
  REQUIRE(x5c);
  const Bytes& der = x5c->as_array().at(0).as_bytes();
  const unsigned char* p = der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(cert);

  CHECK(X509_get_version(cert) == 2);  // X.509 v3
  char ou[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationalUnitName, ou, sizeof ou);
  CHECK(std::string(ou) == "Authenticator Attestation");
  CHECK(X509_check_ca(cert) == 0);  // basicConstraints CA:FALSE

  // id-fido-gen-ce-aaguid: non-critical, an OCTET STRING holding the AAGUID of authData.
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
  const int index = X509_get_ext_by_OBJ(cert, oid, -1);
  ASN1_OBJECT_free(oid);
  REQUIRE(index >= 0);
  X509_EXTENSION* ext = X509_get_ext(cert, index);
  CHECK(X509_EXTENSION_get_critical(ext) == 0);
  ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  Bytes content(ASN1_STRING_get0_data(value), ASN1_STRING_get0_data(value) + ASN1_STRING_length(value));
  Bytes expected{0x04, 0x10};
  append(expected, aaguid_bytes(h.auth->profile()));
  CHECK(to_hex(content) == to_hex(expected));
  CHECK(c.auth_data.aaguid == aaguid_bytes(h.auth->profile()));
  X509_free(cert);
}

TEST_CASE("makeCredential: the signature counter increases with every credential") {
  Harness h;
  const uint32_t first = make_credential(h).auth_data.sign_count;
  const uint32_t second = make_credential(h).auth_data.sign_count;
  MakeCredentialRequest rk;
  rk.rk();
  const uint32_t third = make_credential(h, rk).auth_data.sign_count;
  CHECK(second > first);
  CHECK(third > second);
  CHECK(h.state().sign_count >= third);  // persisted
}

TEST_CASE("makeCredential: each credential gets its own ID and key") {
  Harness h;
  Credential a = make_credential(h);
  Credential b = make_credential(h);
  CHECK(a.id != b.id);
  CHECK(a.public_key.x() != b.public_key.x());
}

TEST_CASE("makeCredential with no supported algorithm is CTAP2_ERR_UNSUPPORTED_ALGORITHM") {
  Harness h;
  MakeCredentialRequest req;

  SUBCASE("only ES512 and PS256") { req.algorithms = {-36, -37}; }
  SUBCASE("empty list") { req.algorithms = {}; }

  const size_t presence_before = h.presence.request_count();
  const uint32_t count_before = h.state().sign_count;
  Response r = h.call(kMakeCredential, req.build());
  CHECK(r.replied);
  CHECK(r.status == Status::UnsupportedAlgorithm);
  CHECK(r.raw.size() == 1);
  CHECK(h.presence.request_count() == presence_before);
  CHECK(h.state().sign_count == count_before);
}

TEST_CASE("makeCredential ignores credential parameters of another type") {
  Harness h;
  Map m = MakeCredentialRequest{}.build();
  m[4] = Array{Map{{"alg", -7}, {"type", "not-a-public-key"}}};
  CHECK(h.call(kMakeCredential, m).status == Status::UnsupportedAlgorithm);
  m[4] = Array{Map{{"alg", -7}, {"type", "not-a-public-key"}}, Map{{"alg", -8}, {"type", "public-key"}}};
  Credential c = *unpack_credential(h.call(kMakeCredential, m));
  CHECK(c.public_key.algorithm() == crypto::Algorithm::EdDSA);
}

TEST_CASE("makeCredential with a missing required parameter is CTAP2_ERR_MISSING_PARAMETER") {
  Harness h;
  Map m = MakeCredentialRequest{}.build();

  SUBCASE("clientDataHash") { m.erase(cbor::Value(1)); }
  SUBCASE("rp") { m.erase(cbor::Value(2)); }
  SUBCASE("user") { m.erase(cbor::Value(3)); }
  SUBCASE("pubKeyCredParams") { m.erase(cbor::Value(4)); }
  SUBCASE("rp.id") { m[2] = Map{{"name", "Example"}}; }
  SUBCASE("user.id") { m[3] = Map{{"name", "alice"}}; }
  SUBCASE("alg in a credential parameter") { m[4] = Array{Map{{"type", "public-key"}}}; }
  SUBCASE("type in a credential parameter") { m[4] = Array{Map{{"alg", -7}}}; }
  SUBCASE("id in an excludeList entry") { m[5] = Array{Map{{"type", "public-key"}}}; }

  const size_t presence_before = h.presence.request_count();
  Response r = h.call(kMakeCredential, m);
  CHECK(r.replied);
  CHECK(r.status == Status::MissingParameter);
  CHECK(h.presence.request_count() == presence_before);
}

TEST_CASE("makeCredential with no parameters at all") {
  Harness h;
  CHECK(h.call(kMakeCredential, Map{}).status == Status::MissingParameter);
  CHECK(h.call(kMakeCredential).status != Status::Ok);
}

TEST_CASE("makeCredential with a parameter of the wrong CBOR type is CTAP2_ERR_CBOR_UNEXPECTED_TYPE") {
  Harness h;
  Map m = MakeCredentialRequest{}.build();

  SUBCASE("clientDataHash as text") { m[1] = "0123456789abcdef0123456789abcdef"; }
  SUBCASE("rp as text") { m[2] = "example.com"; }
  SUBCASE("rp.id as bytes") { m[2] = Map{{"id", to_bytes("example.com")}}; }
  SUBCASE("user as array") { m[3] = Array{Bytes{1, 2, 3}}; }
  SUBCASE("user.id as text") { m[3] = Map{{"id", "alice"}}; }
  SUBCASE("user.name as integer") { m[3] = Map{{"id", Bytes{1}}, {"name", 7}}; }
  SUBCASE("pubKeyCredParams as map") { m[4] = Map{{"alg", -7}, {"type", "public-key"}}; }
  SUBCASE("credential parameter as integer") { m[4] = Array{-7}; }
  SUBCASE("alg as text") { m[4] = Array{Map{{"alg", "ES256"}, {"type", "public-key"}}}; }
  SUBCASE("excludeList as map") { m[5] = Map{{"id", Bytes(64, 1)}, {"type", "public-key"}}; }
  SUBCASE("excludeList entry id as text") { m[5] = Array{Map{{"id", "abc"}, {"type", "public-key"}}}; }
  SUBCASE("options as array") { m[7] = Array{"rk"}; }
  SUBCASE("option value as integer") { m[7] = Map{{"rk", 1}}; }
  SUBCASE("pinAuth as text") {
    m[8] = "0123456789abcdef";
    m[9] = 1;
  }
  SUBCASE("pinProtocol as text") {
    m[8] = Bytes(16, 0);
    m[9] = "1";
  }

  const size_t presence_before = h.presence.request_count();
  Response r = h.call(kMakeCredential, m);
  CHECK(r.replied);
  CHECK(r.status == Status::CborUnexpectedType);
  CHECK(h.presence.request_count() == presence_before);
}

TEST_CASE("makeCredential: user.id is at most 64 bytes (WebAuthn user handle)") {
  Harness h;
  MakeCredentialRequest req;
  req.rk();
  req.user_id = Bytes(64, 0xab);
  Credential c = make_credential(h, req);
  REQUIRE(h.state().credentials.size() == 1);
  CHECK(h.state().credentials.begin()->second.user_id == req.user_id);

  req.user_id = Bytes(65, 0xcd);
  const size_t presence_before = h.presence.request_count();
  Response r = h.call(kMakeCredential, req.build());
  CHECK(r.replied);
  CHECK(r.status != Status::Ok);
  CHECK(h.presence.request_count() == presence_before);
  CHECK(h.state().credentials.size() == 1);
}

TEST_CASE("makeCredential rk=true stores a discoverable credential; rk absent stores none") {
  Harness h;
  Credential plain = make_credential(h);
  CHECK(h.state().credentials.empty());
  MakeCredentialRequest no_rk;
  no_rk.rk(false);
  make_credential(h, no_rk);
  CHECK(h.state().credentials.empty());

  MakeCredentialRequest req;
  req.rk();
  req.algorithms = {-8};
  Credential c = make_credential(h, req);
  REQUIRE(h.state().credentials.size() == 1);
  const store::Credential* stored = h.state().find_credential(c.id);
  REQUIRE(stored);
  CHECK(stored->rp_id == "example.com");
  CHECK(stored->rp_name == "Example");
  CHECK(stored->user_id == req.user_id);
  CHECK(stored->user_name == req.user_name);
  CHECK(stored->user_display_name == req.user_display_name);
  CHECK(stored->algorithm == -8);
  CHECK(c.id.size() == ctap::kCredentialIdLength);
}

TEST_CASE("makeCredential rk: the same RP and user ID replaces the old credential") {
  Harness h;
  MakeCredentialRequest req;
  req.rk();
  Credential first = make_credential(h, req);
  Credential second = make_credential(h, req);
  REQUIRE(first.id != second.id);
  CHECK(h.state().credentials.size() == 1);
  CHECK(h.state().find_credential(second.id) != nullptr);
  CHECK(h.state().find_credential(first.id) == nullptr);

  // Another user of the same RP, and the same user ID at another RP, are separate accounts.
  MakeCredentialRequest other_user = req;
  other_user.user_id = {0x09};
  make_credential(h, other_user);
  MakeCredentialRequest other_rp = req;
  other_rp.rp_id = "other.example";
  make_credential(h, other_rp);
  CHECK(h.state().credentials.size() == 3);
  CHECK(h.state().credentials_for_rp("example.com").size() == 2);
}

TEST_CASE("makeCredential rk=true is CTAP2_ERR_UNSUPPORTED_OPTION without resident keys") {
  ctap::Profile p;
  p.resident_keys = false;
  Harness h(p);
  MakeCredentialRequest req;
  req.rk();
  CHECK(h.call(kMakeCredential, req.build()).status == Status::UnsupportedOption);
  CHECK(h.state().credentials.empty());
}

TEST_CASE("makeCredential excludeList: a known credential is refused only after a touch") {
  Harness h;
  MakeCredentialRequest rk_req;
  rk_req.rk();
  Credential resident = make_credential(h, rk_req);
  Credential plain = make_credential(h);

  for (const Bytes* excluded : {&plain.id, &resident.id}) {
    MakeCredentialRequest req;
    req.rk();
    req.user_id = {0x77};
    req.exclude_list = Array{descriptor(Bytes(64, 0x5a)), descriptor(*excluded)};
    h.presence.set_mode(Mode::Wait);
    const size_t presence_before = h.presence.request_count();
    const size_t stored_before = h.state().credentials.size();

    Pending p = h.start(kMakeCredential, req.build());
    CHECK_FALSE(p.done());  // no answer before the user touched the key
    CHECK(h.presence.pending());
    CHECK(h.presence.request_count() == presence_before + 1);
    CHECK(h.auth->waiting_for_user());
    CHECK(h.presence.approve());
    REQUIRE(p.done());
    CHECK(p.get().status == Status::CredentialExcluded);
    CHECK(p.reply_count() == 1);
    CHECK(h.state().credentials.size() == stored_before);
    CHECK_FALSE(h.auth->waiting_for_user());
  }
}

TEST_CASE("makeCredential excludeList: unknown IDs, other RPs' IDs and other types do not exclude") {
  Harness h;
  Credential mine = make_credential(h);
  MakeCredentialRequest other_rp;
  other_rp.rp_id = "other.example";
  Credential theirs = make_credential(h, other_rp);

  MakeCredentialRequest req;
  req.exclude_list = Array{descriptor(Bytes(64, 0x01)), descriptor(theirs.id), descriptor(mine.id, "not-public-key")};
  Credential c = make_credential(h, req);
  CHECK(c.id != mine.id);
}

// CTAP 2.1 §6.1.2: without built-in UV, "uv": true is CTAP2_ERR_INVALID_OPTION.
TEST_CASE("makeCredential options: up=false and uv=true (no built-in UV) are CTAP2_ERR_INVALID_OPTION") {
  Harness h;
  MakeCredentialRequest req;
  const size_t before = h.presence.request_count();

  req.options = Map{{"up", false}};
  CHECK(h.call(kMakeCredential, req.build()).status == Status::InvalidOption);
  req.options = Map{{"uv", true}};
  CHECK(h.call(kMakeCredential, req.build()).status == Status::InvalidOption);
  CHECK(h.presence.request_count() == before);

  // uv=false and unknown options are fine.
  req.options = Map{{"uv", false}, {"someFutureOption", true}};
  CHECK(h.call(kMakeCredential, req.build()).status == Status::Ok);
}

// CTAP 2.1 §6.1.2 step 11 with makeCredUvNotRqd: a PIN-protected key still makes
// non-discoverable credentials without UV, but a discoverable one needs a token.
TEST_CASE("makeCredential with a PIN set: discoverable needs pinUvAuthParam (PUAT_REQUIRED)") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  const size_t before = h.presence.request_count();
  MakeCredentialRequest resident;
  resident.rk();
  Response r = h.call(kMakeCredential, resident.build());
  CHECK(r.status == Status::PuatRequired);
  CHECK(h.presence.request_count() == before);
  CHECK(h.state().credentials.empty());

  Credential plain = make_credential(h);
  CHECK_FALSE(plain.auth_data.uv());
}

TEST_CASE("makeCredential with a PIN set and makeCredUvNotRqd off: everything needs a token") {
  ctap::Profile p;
  p.make_cred_uv_not_required = false;
  Harness h(p);
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  CHECK(h.call(kMakeCredential, MakeCredentialRequest{}.build()).status == Status::PuatRequired);
}

TEST_CASE("makeCredential zero-length pinAuth: touch first, then PIN_NOT_SET / PIN_INVALID") {
  Harness h;
  MakeCredentialRequest req;
  req.pin_auth = Bytes{};
  req.pin_protocol = 1;
  h.presence.set_mode(Mode::Wait);

  Pending p = h.start(kMakeCredential, req.build());
  CHECK_FALSE(p.done());
  CHECK(h.presence.pending());
  h.presence.approve();
  REQUIRE(p.done());
  CHECK(p.get().status == Status::PinNotSet);

  h.presence.set_mode(Mode::Approve);
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  h.presence.set_mode(Mode::Wait);
  Pending q = h.start(kMakeCredential, req.build());
  CHECK_FALSE(q.done());
  h.presence.approve();
  REQUIRE(q.done());
  CHECK(q.get().status == Status::PinInvalid);

  // A refused touch ends it with OPERATION_DENIED.
  Pending d = h.start(kMakeCredential, req.build());
  h.presence.deny();
  REQUIRE(d.done());
  CHECK(d.get().status == Status::OperationDenied);
  CHECK(h.state().credentials.empty());
}

TEST_CASE("makeCredential pinAuth: wrong → PIN_AUTH_INVALID, right → UV flag") {
  Harness h;
  PinClient pin(h);
  REQUIRE(pin.set_pin("1234").ok());
  auto token = pin.get_pin_token("1234");
  REQUIRE(token.has_value());
  CHECK(token->size() % 16 == 0);
  CHECK(token->size() >= 16);

  MakeCredentialRequest req;
  req.pin_protocol = 1;

  SUBCASE("pinAuth made with another key") {
    req.pin_auth = PinClient::pin_auth(Bytes(32, 0x42), req.client_data_hash);
    CHECK(h.call(kMakeCredential, req.build()).status == Status::PinAuthInvalid);
  }
  SUBCASE("pinAuth over another clientDataHash") {
    req.pin_auth = PinClient::pin_auth(*token, cdh(0x01));
    CHECK(h.call(kMakeCredential, req.build()).status == Status::PinAuthInvalid);
  }
  SUBCASE("pinAuth truncated") {
    Bytes a = PinClient::pin_auth(*token, req.client_data_hash);
    a.resize(15);
    req.pin_auth = a;
    CHECK(h.call(kMakeCredential, req.build()).status == Status::PinAuthInvalid);
  }
  SUBCASE("right pinAuth") {
    req.pin_auth = PinClient::pin_auth(*token, req.client_data_hash);
    Credential c = make_credential(h, req);
    CHECK(c.auth_data.uv());
    CHECK(c.auth_data.up());
    CHECK(c.auth_data.at());
    check_packed_batch(c, h, req.client_data_hash);
  }
  SUBCASE("right pinAuth without pinProtocol") {
    req.pin_auth = PinClient::pin_auth(*token, req.client_data_hash);
    req.pin_protocol.reset();
    CHECK(h.call(kMakeCredential, req.build()).status == Status::MissingParameter);
  }
}

TEST_CASE("makeCredential waits for the user: denied, timed out, delayed") {
  Harness h;
  MakeCredentialRequest req;
  req.rk();
  const uint32_t count_before = h.state().sign_count;

  SUBCASE("denied → OPERATION_DENIED") {
    h.presence.set_mode(Mode::Deny);
    CHECK(h.call(kMakeCredential, req.build()).status == Status::OperationDenied);
    CHECK(h.state().credentials.empty());
    CHECK(h.state().sign_count == count_before);
  }
  SUBCASE("no touch in time → USER_ACTION_TIMEOUT") {
    h.presence.set_mode(Mode::Wait);
    h.presence.set_timeout(5s);
    Pending p = h.start(kMakeCredential, req.build());
    CHECK_FALSE(p.done());
    CHECK(h.auth->waiting_for_user());
    h.advance(4s);
    CHECK_FALSE(p.done());
    h.advance(1s);
    REQUIRE(p.done());
    CHECK(p.get().status == Status::UserActionTimeout);
    CHECK_FALSE(h.auth->waiting_for_user());
    CHECK(h.state().credentials.empty());
  }
  SUBCASE("approved after a delay") {
    h.presence.set_delay(2s);
    Pending p = h.start(kMakeCredential, req.build());
    CHECK_FALSE(p.done());
    CHECK(h.auth->waiting_for_user());
    REQUIRE(h.presence.last_request().has_value());
    CHECK(h.presence.last_request()->rp_id == "example.com");
    h.advance(2s);
    REQUIRE(p.done());
    CHECK(p.get().status == Status::Ok);
    CHECK(p.reply_count() == 1);
    CHECK(h.state().credentials.size() == 1);
  }
}

}  // namespace
}  // namespace vauth::ctaptest
