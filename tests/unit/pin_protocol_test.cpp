// PIN/UV auth protocols 1 and 2 against the known answers of the W3C WebAuthn test
// vectors ("CTAP2 hmac-secret extension", single input, PIN protocol 1; see
// ../shared/golden/w3c-webauthn-test-vectors.bs.txt). The vectors give the
// platform's private key; the authenticator's is SHA-256(seed || 0x05).
#include <doctest/doctest.h>

#include <algorithm>

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/pin_protocol.h"

using namespace vauth;

namespace {

Bytes hex(const char* h) { return *from_hex(h); }

Bytes seed_byte(uint8_t b) { return crypto::sha256(concat(to_bytes("WebAuthn PRF test vectors"), Bytes{b})); }

struct Vectors {
  crypto::PrivateKey platform = *crypto::PrivateKey::from_bytes(
      crypto::Algorithm::ES256, hex("0971bc7fb1be48270adcd3d9a5fc15d5fb0f335b3071ff36a54c007fa6c76514"));
  crypto::PrivateKey authenticator = *crypto::PrivateKey::from_bytes(crypto::Algorithm::ES256, seed_byte(0x05));
  Bytes shared = hex("23e5ed7157c25892b77732fb9c8a107e3518800db2af4142f9f4adfacb771d39");
  Bytes salt1 = hex("527413ebb48293772df30f031c5ac4650c7de14bf9498671ae163447b6a772b3");
  Bytes salt_enc = hex("ab8c878bb05d04700f077ed91845ec9c503c925cb12b327ddbeb4243c397f913");
  Bytes cred_random = hex("437e065e723a98b2f08f39d8baf7c53ecb3c363c5e5104bdaaf5d5ca2e028154");
  Bytes output1 = hex("3c33e07d202c3b029cc21f1722767021bf27d595933b3d2b6a1b9d5dddc77fae");
  Bytes output_enc = hex("15d4e4f3f04109b492b575c1b38c28585b6719cf8d61304215108d939f37ccfb");
};

}  // namespace

TEST_CASE("PIN protocol 1: the authenticator key in the vectors is SHA-256(seed || 0x05)") {
  Vectors v;
  CHECK(to_hex(v.authenticator.public_key().x()) == "a30522c2de402b561965c3cf949a1cab020c6f6ea36fcf7e911ac1a0f1515300");
  CHECK(to_hex(v.authenticator.public_key().y()) == "9961a929abdb2f42e6566771887d41484d889e735e3248518a53112d2b915f00");
}

TEST_CASE("PIN protocol 1: shared secret = SHA-256(ECDH x), the same from both sides") {
  Vectors v;
  const ctap::PinProtocol* p1 = ctap::pin_protocol(1);
  REQUIRE(p1 != nullptr);
  CHECK(p1->version() == 1);
  CHECK(p1->shared_secret(v.authenticator, v.platform.public_key()) == v.shared);
  CHECK(p1->shared_secret(v.platform, v.authenticator.public_key()) == v.shared);
}

TEST_CASE("PIN protocol 1: AES-256-CBC with a zero IV, both directions") {
  Vectors v;
  const ctap::PinProtocol* p1 = ctap::pin_protocol(1);
  crypto::SeededRng unused(0);
  CHECK(p1->decrypt(v.shared, v.salt_enc) == v.salt1);
  CHECK(p1->encrypt(v.shared, v.output1, unused) == v.output_enc);
  CHECK(p1->decrypt(v.shared, v.output_enc) == v.output1);
  // Not a whole number of blocks: refused, not padded.
  CHECK_FALSE(p1->decrypt(v.shared, Bytes(v.salt_enc.begin(), v.salt_enc.end() - 1)).has_value());
}

TEST_CASE("PIN protocol 1: pinUvAuthParam is the first 16 bytes of HMAC-SHA-256") {
  Vectors v;
  const ctap::PinProtocol* p1 = ctap::pin_protocol(1);
  const Bytes mac = p1->authenticate(v.shared, v.salt_enc);
  REQUIRE(mac.size() == 16);
  const Bytes full = crypto::hmac_sha256(v.shared, v.salt_enc);
  CHECK(mac == Bytes(full.begin(), full.begin() + 16));
  CHECK(p1->verify(v.shared, v.salt_enc, mac));
  Bytes wrong = mac;
  wrong[15] ^= 1;
  CHECK_FALSE(p1->verify(v.shared, v.salt_enc, wrong));
  CHECK_FALSE(p1->verify(v.shared, v.salt_enc, full));  // full length is protocol 2's format
  CHECK_FALSE(p1->verify(v.shared, v.salt_enc, Bytes{}));
}

TEST_CASE("hmac-secret output = HMAC-SHA-256(CredRandom, salt)") {
  Vectors v;
  CHECK(crypto::hmac_sha256(v.cred_random, v.salt1) == v.output1);
}

namespace {
// Hands out fixed bytes: the W3C vectors fix the IVs protocol 2 draws.
class FixedRng final : public crypto::Rng {
 public:
  explicit FixedRng(Bytes bytes) : bytes_(std::move(bytes)) {}
  void fill(std::span<uint8_t> out) override {
    REQUIRE(out.size() <= bytes_.size());
    std::copy_n(bytes_.begin(), out.size(), out.begin());
  }

 private:
  Bytes bytes_;
};
Bytes iv(uint8_t b) {
  Bytes h = seed_byte(b);
  h.resize(16);
  return h;
}
}  // namespace

TEST_CASE("PIN protocol 2: HKDF shared secret, random-IV AES-CBC, full-length HMAC (W3C vectors)") {
  Vectors v;
  const ctap::PinProtocol* p2 = ctap::pin_protocol(2);
  REQUIRE(p2 != nullptr);
  CHECK(p2->version() == 2);
  const Bytes shared = hex(
      "0c63083de8170101d38bcf8bd72309568ddb4550867e23404b35d85712f7c20d"
      "8bc911ee23c06034cbc14290b9669bec07739053c5a416e313ef905c79955876");
  CHECK(p2->shared_secret(v.authenticator, v.platform.public_key()) == shared);
  CHECK(p2->shared_secret(v.platform, v.authenticator.public_key()) == shared);

  const Bytes salt_enc = hex(
      "23dde5e3462daf36559b85c4ac5f9656aa9bfd81c1dc2bf8533c8b9f38828547"
      "86b4f500e25b4e3d81f7fc7c74236229");
  const Bytes output_enc = hex(
      "3bfaa48f7952330d63e35ff8cd5bca48d2a12823828915749287256ab146272f"
      "9fb437bf65691243c3f504bd7ea6d5e6");
  CHECK(p2->decrypt(shared, salt_enc) == v.salt1);
  FixedRng salt_iv(iv(0x07)), output_iv(iv(0x09));
  CHECK(p2->encrypt(shared, v.salt1, salt_iv) == salt_enc);
  CHECK(p2->encrypt(shared, v.output1, output_iv) == output_enc);
  CHECK(p2->decrypt(shared, output_enc) == v.output1);

  // The MAC uses the HMAC half of the shared secret, or a whole 32-byte token.
  const Bytes mac = p2->authenticate(shared, salt_enc);
  CHECK(mac == crypto::hmac_sha256(ByteView(shared).first(32), salt_enc));
  CHECK(p2->verify(shared, salt_enc, mac));
  Bytes short_mac = mac;
  short_mac.resize(16);
  CHECK_FALSE(p2->verify(shared, salt_enc, short_mac));  // protocol 1's format
  const Bytes token(32, 0x5a);
  CHECK(p2->authenticate(token, v.salt1) == crypto::hmac_sha256(token, v.salt1));
  CHECK_FALSE(p2->decrypt(shared, Bytes(15, 0)).has_value());
}

TEST_CASE("protocols 1 and 2 exist, no others") {
  CHECK(ctap::pin_protocol(0) == nullptr);
  CHECK(ctap::pin_protocol(3) == nullptr);
}
