// Provisioning's JSON (vauth/daemon/provisioning_json.h): W3C Credential Parameters
// to a stored credential and back, every refusal naming its field, the device
// document round trip, and provisioned credentials asserting through the
// authenticator (allowList for both kinds, discovery only for resident ones).
#include "vauth/daemon/provisioning_json.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "ctap_test_support.h"
#include "vauth/crypto/pkcs8.h"
#include "vauth/daemon/base64url.h"

namespace vauth::ctaptest {
namespace {

using daemon::base64url_encode;
using nlohmann::json;

// A key made by OpenSSL directly (not by vauth), as PKCS#8 DER.
Bytes openssl_pkcs8(const char* type, const char* curve) {
  EVP_PKEY* key = curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve) : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  REQUIRE(key != nullptr);
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key);
  REQUIRE(info != nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
  REQUIRE(len > 0);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  PKCS8_PRIV_KEY_INFO_free(info);
  EVP_PKEY_free(key);
  return out;
}

Bytes p256_pkcs8() {
  return openssl_pkcs8("EC", "P-256");
}

json resident(const Bytes& id, const Bytes& pkcs8) {
  return {{"credentialId", base64url_encode(id)},
          {"isResidentCredential", true},
          {"rpId", "example.com"},
          {"privateKey", base64url_encode(pkcs8)},
          {"userHandle", base64url_encode(Bytes{0x75, 0x01})},
          {"signCount", 41}};
}

std::string refusal(const json& j, const ctap::Profile& profile = {}) {
  auto r = daemon::credential_from_json(j, profile);
  REQUIRE_MESSAGE(!r, "accepted: ", j.dump());
  return r.error();
}

}  // namespace

TEST_CASE("W3C Credential Parameters become a stored credential with the same key") {
  const Bytes der = p256_pkcs8();
  json j = resident(Bytes(16, 0x42), der);
  j["userName"] = "alice@example.com";
  j["credProtect"] = 2;
  j["credBlob"] = base64url_encode(Bytes{1, 2, 3});
  j["hmacSecret"] = {{"credRandomWithUv", base64url_encode(Bytes(32, 1))},
                     {"credRandomWithoutUv", base64url_encode(Bytes(32, 2))}};
  auto r = daemon::credential_from_json(j, {});
  REQUIRE(r);
  const store::Credential& c = r->credential;
  CHECK(c.id == Bytes(16, 0x42));
  CHECK(c.discoverable);
  CHECK(c.rp_id == "example.com");
  CHECK(c.user_id == Bytes{0x75, 0x01});
  CHECK(c.user_name == "alice@example.com");
  CHECK(c.algorithm == -7);
  CHECK(c.cred_protect == 2);
  CHECK(c.cred_blob == Bytes{1, 2, 3});
  CHECK(c.cred_random_uv == Bytes(32, 1));
  CHECK(r->sign_count == 41);
  // The stored scalar is the PKCS#8 key's: exporting it gives back the same document.
  auto key = crypto::PrivateKey::from_bytes(crypto::Algorithm::ES256, c.private_key);
  REQUIRE(key);
  CHECK(crypto::private_key_to_pkcs8(*key) == der);

  // And back: the export form re-imports to the same credential.
  const json out = daemon::credential_to_json(c, 41, true);
  CHECK(out["privateKey"] == base64url_encode(der));
  auto again = daemon::credential_from_json(out, {});
  REQUIRE(again);
  CHECK(again->credential == c);
  // Without asking, no secret is in the JSON.
  const json plain = daemon::credential_to_json(c, 41, false);
  for (const char* secret : {"privateKey", "privateKeySeed", "hmacSecret", "largeBlobKey", "credBlob"}) {
    CHECK_MESSAGE(!plain.contains(secret), secret);
  }
}

TEST_CASE("ES384 and EdDSA keys import; RSA and other curves are refused with the reason") {
  auto es384 = daemon::credential_from_json(resident(Bytes(8, 1), openssl_pkcs8("EC", "P-384")), {});
  REQUIRE(es384);
  CHECK(es384->credential.algorithm == -35);
  auto ed = daemon::credential_from_json(resident(Bytes(8, 2), openssl_pkcs8("ED25519", nullptr)), {});
  REQUIRE(ed);
  CHECK(ed->credential.algorithm == -8);
  CHECK(refusal(resident(Bytes(8, 3), openssl_pkcs8("EC", "P-521"))).find("curve secp521r1 are not supported") !=
        std::string::npos);
  EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  REQUIRE(rsa != nullptr);
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(rsa);
  unsigned char* der = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
  const Bytes rsa_der(der, der + len);
  OPENSSL_free(der);
  PKCS8_PRIV_KEY_INFO_free(info);
  EVP_PKEY_free(rsa);
  CHECK(refusal(resident(Bytes(8, 4), rsa_der)).find("RSA") != std::string::npos);
}

TEST_CASE("RS256 credentials travel as their seed, and the PKCS#8 beside it must match") {
  crypto::SeededRng rng(5);
  const auto key = crypto::PrivateKey::generate(crypto::Algorithm::RS256, rng);
  store::Credential c;
  c.id = Bytes(16, 9);
  c.rp_id = "example.com";
  c.user_id = Bytes{1};
  c.algorithm = -257;
  c.private_key = key.private_bytes();
  const json out = daemon::credential_to_json(c, 0, true);
  REQUIRE(out.contains("privateKeySeed"));
  auto back = daemon::credential_from_json(out, {});
  REQUIRE(back);
  CHECK(back->credential.private_key == c.private_key);
  json other = out;
  other["privateKey"] = base64url_encode(p256_pkcs8());
  CHECK(refusal(other).find("different keys") != std::string::npos);
}

TEST_CASE("every malformed field is refused, naming it") {
  const Bytes der = p256_pkcs8();
  const json good = resident(Bytes(16, 1), der);
  auto without = [&](const char* f) {
    json j = good;
    j.erase(f);
    return j;
  };
  auto with = [&](const char* f, json v) {
    json j = good;
    j[f] = std::move(v);
    return j;
  };
  CHECK(refusal(without("credentialId")).find("credentialId is missing") != std::string::npos);
  CHECK(refusal(without("isResidentCredential")).find("isResidentCredential") != std::string::npos);
  CHECK(refusal(without("rpId")).find("rpId") != std::string::npos);
  CHECK(refusal(without("privateKey")).find("privateKey is missing") != std::string::npos);
  CHECK(refusal(without("userHandle")).find("userHandle") != std::string::npos);
  CHECK(refusal(with("credentialId", "not base64url!")).find("credentialId is not valid base64url") !=
        std::string::npos);
  CHECK(refusal(with("credentialId", "")).find("credentialId must decode") != std::string::npos);
  CHECK(refusal(with("credentialId", base64url_encode(Bytes(129, 1)))).find("1..128") != std::string::npos);
  CHECK(refusal(with("privateKey", base64url_encode(Bytes{1, 2, 3}))).find("PKCS#8") != std::string::npos);
  CHECK(refusal(with("algorithm", -8)).find("ES256 key, but algorithm says EdDSA") != std::string::npos);
  CHECK(refusal(with("algorithm", -9)).find("algorithm") != std::string::npos);
  CHECK(refusal(with("signCount", -1)).find("signCount") != std::string::npos);
  CHECK(refusal(with("signCount", 4294967296ull)).find("signCount") != std::string::npos);
  CHECK(refusal(with("signCount", 1.5)).find("signCount") != std::string::npos);
  CHECK(refusal(with("credProtect", 4)).find("credProtect") != std::string::npos);
  CHECK(refusal(with("userName", std::string(65, 'a'))).find("userName") != std::string::npos);
  CHECK(refusal(with("credBlob", base64url_encode(Bytes(33, 1)))).find("credBlob") != std::string::npos);
  CHECK(refusal(with("largeBlobKey", base64url_encode(Bytes(31, 1)))).find("largeBlobKey") != std::string::npos);
  CHECK(refusal(with("largeBlob", "not base64url!")).find("largeBlob is not valid base64url") != std::string::npos);
  CHECK(refusal(with("surprise", 1)).find("unknown field \"surprise\"") != std::string::npos);
  CHECK(refusal(json::array()).find("JSON object") != std::string::npos);
  json non_resident = with("isResidentCredential", false);
  non_resident["credBlob"] = base64url_encode(Bytes{1});
  CHECK(refusal(non_resident).find("need a resident credential") != std::string::npos);
  ctap::Profile no_rk;
  no_rk.resident_keys = false;
  CHECK(refusal(good, no_rk).find("no resident credentials") != std::string::npos);
}

TEST_CASE("provisioned credentials assert: resident by discovery and allowList, non-resident only by allowList") {
  Harness h;
  const Bytes rk_der = p256_pkcs8(), nrk_der = p256_pkcs8();
  auto rk = daemon::credential_from_json(resident(Bytes(16, 0xa1), rk_der), {});
  json nrk_json = resident(Bytes(20, 0xb2), nrk_der);
  nrk_json["isResidentCredential"] = false;
  nrk_json.erase("userHandle");
  auto nrk = daemon::credential_from_json(nrk_json, {});
  REQUIRE(rk);
  REQUIRE(nrk);
  h.store.commit(std::vector<store::Mutation>{{store::change::PutCredential{rk->credential}},
                                              {store::change::PutCredential{nrk->credential}}});
  auto public_key = [](const Bytes& der) {
    auto k = crypto::private_key_from_pkcs8(der);
    REQUIRE(k);
    return k->public_key();
  };

  GetAssertionRequest discover;
  Assertion a = unpack_assertion(h.call(kGetAssertion, discover.build()));
  CHECK(a.credential_id == Bytes(16, 0xa1));  // the non-resident one is not discoverable
  CHECK(!a.number_of_credentials);
  CHECK(verifies(public_key(rk_der), a, discover.client_data_hash));

  GetAssertionRequest allow;
  allow.allow(Bytes(20, 0xb2));
  Assertion b = unpack_assertion(h.call(kGetAssertion, allow.build()));
  CHECK(b.credential_id == Bytes(20, 0xb2));
  CHECK(verifies(public_key(nrk_der), b, allow.client_data_hash));

  // Another RP cannot use it.
  GetAssertionRequest other;
  other.rp_id = "other.example";
  other.allow(Bytes(20, 0xb2));
  CHECK(h.call(kGetAssertion, other.build()).status == Status::NoCredentials);
}

TEST_CASE("a device document round-trips to the same state, and a bad one is refused") {
  Harness h;
  MakeCredentialRequest mc;
  mc.rk();
  make_credential(h, mc);
  json nrk = resident(Bytes(20, 0xb2), p256_pkcs8());
  nrk["isResidentCredential"] = false;
  auto provisioned = daemon::credential_from_json(nrk, {});
  REQUIRE(provisioned);
  provisioned->credential.created = h.state().next_credential_seq;
  h.store.commit(std::vector<store::Mutation>{{store::change::PutCredential{provisioned->credential}},
                                              {store::change::SetPin{Bytes(16, 3), 5}},
                                              {store::change::SetPinCodePoints{6}},
                                              {store::change::PutEnrollment{{Bytes{7}, "thumb"}}}});
  const json doc = daemon::device_to_json(h.state());
  CHECK(doc["format"] == "vauth-device");
  CHECK(doc["version"] == 1);

  store::MemoryStore target;
  target.commit(
      std::vector<store::Mutation>{{store::change::PutCredential{provisioned->credential}}});  // replaced, not merged
  auto mutations = daemon::device_import_mutations(json::parse(doc.dump()), {});
  REQUIRE(mutations);
  target.commit(*mutations);
  CHECK(target.state() == h.state());
  CHECK(!daemon::unused(target.state()));
  CHECK(daemon::unused(store::State{}));

  auto refused = [&](const char* field, json value) {
    json bad = doc;
    bad[field] = std::move(value);
    auto r = daemon::device_import_mutations(bad, {});
    REQUIRE(!r);
    return r.error();
  };
  CHECK(refused("version", 2).find("newer") != std::string::npos);
  CHECK(refused("format", "other").find("format") != std::string::npos);
  CHECK(refused("masterSecret", base64url_encode(Bytes(31, 1))).find("masterSecret") != std::string::npos);
  CHECK(refused("largeBlobArray", base64url_encode(Bytes(20, 1))).find("largeBlobArray") != std::string::npos);
  json twice = doc["credentials"];
  twice.push_back(twice[0]);
  CHECK(refused("credentials", twice).find("appears twice") != std::string::npos);
  json bad_cred = doc["credentials"];
  bad_cred[0]["rpId"] = 7;
  CHECK(refused("credentials", bad_cred).find("credentials[0]: rpId") != std::string::npos);
  json attestation = doc["attestation"];
  attestation["batchCertificate"] = attestation["caCertificate"];
  CHECK(refused("attestation", attestation).find("batchCertificate") != std::string::npos);
}

}  // namespace vauth::ctaptest
