// The platform's side of PIN/UV auth protocols 1 and 2 for the extension and
// large-blob tests: key agreement, encryption, authenticate(), PIN tokens with
// permissions, hmac-secret inputs and outputs. Written from CTAP 2.1 §6.5.6-7
// and §12.5 with vauth::crypto primitives only, not with vauth/ctap's code.
#pragma once

#include "tests/unit/ctap_test_support.h"

namespace vauth::ctaptest {

constexpr uint8_t kLargeBlobs = 0x0c;
constexpr int kPermMc = 0x01, kPermGa = 0x02, kPermCm = 0x04, kPermLbw = 0x10;

class Platform {
 public:
  Platform(Harness& h, int protocol, uint64_t seed = 0x3333)
      : h_(h), protocol_(protocol), rng_(seed), key_(crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng_)) {}

  int protocol() const { return protocol_; }

  // getKeyAgreement, then the protocol's KDF over ECDH.
  void refresh() {
    Response r = h_.call(kClientPin, Map{{1, protocol_}, {2, 2}});
    REQUIRE(r.ok());
    const cbor::Value* ka = r.get(1);
    REQUIRE(ka);
    auto peer = crypto::PublicKey::p256(ka->find(-2)->as_bytes(), ka->find(-3)->as_bytes());
    REQUIRE(peer);
    auto z = key_.ecdh_x(*peer);
    REQUIRE(z);
    if (protocol_ == 1) {
      hmac_key_ = aes_key_ = crypto::sha256(*z);
    } else {
      const Bytes salt(32, 0);
      hmac_key_ = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 HMAC key"), 32);
      aes_key_ = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 AES key"), 32);
    }
  }

  Map platform_key() const {
    return Map{{1, 2}, {3, -25}, {-1, 1}, {-2, key_.public_key().x()}, {-3, key_.public_key().y()}};
  }

  Bytes encrypt(ByteView plain) {
    if (protocol_ == 1) return *crypto::aes256_cbc_encrypt(aes_key_, Bytes(16, 0), plain);
    Bytes iv = rng_.bytes(16);
    append(iv, *crypto::aes256_cbc_encrypt(aes_key_, ByteView(iv).first(16), plain));
    return iv;
  }
  std::optional<Bytes> decrypt(ByteView c) const {
    if (protocol_ == 1) return crypto::aes256_cbc_decrypt(aes_key_, Bytes(16, 0), c);
    if (c.size() < 16) return std::nullopt;
    return crypto::aes256_cbc_decrypt(aes_key_, c.first(16), c.subspan(16));
  }
  // authenticate(key, message): protocol 1 truncates to 16 bytes, protocol 2 does not.
  Bytes authenticate(ByteView key, ByteView msg) const {
    Bytes mac = crypto::hmac_sha256(key, msg);
    if (protocol_ == 1) mac.resize(16);
    return mac;
  }
  Bytes authenticate_shared(ByteView msg) const { return authenticate(hmac_key_, msg); }

  Response set_pin(std::string_view pin) {
    refresh();
    Bytes padded = to_bytes(pin);
    padded.resize(64, 0);
    const Bytes enc = encrypt(padded);
    return h_.call(kClientPin,
                   Map{{1, protocol_}, {2, 3}, {3, platform_key()}, {4, authenticate_shared(enc)}, {5, enc}});
  }

  // getPinUvAuthTokenUsingPinWithPermissions; the decrypted token or nullopt.
  std::optional<Bytes> token(std::string_view pin, int permissions, std::optional<std::string> rp_id = {}) {
    refresh();
    Bytes hash = crypto::sha256(to_bytes(pin));
    hash.resize(16);
    Map m{{1, protocol_}, {2, 9}, {3, platform_key()}, {6, encrypt(hash)}, {9, permissions}};
    if (rp_id) m[0x0a] = *rp_id;
    Response r = h_.call(kClientPin, m);
    status_ = r.status;
    if (!r.ok()) return std::nullopt;
    auto t = decrypt(r.get(2)->as_bytes());
    REQUIRE(t);
    return t;
  }
  Status status() const { return status_; }

  // The hmac-secret input {1: keyAgreement, 2: saltEnc, 3: saltAuth, 4: protocol}
  // after a fresh key agreement.
  Map hmac_secret_input(const Bytes& salt1, const Bytes& salt2 = {}) {
    refresh();
    const Bytes salt_enc = encrypt(concat(salt1, salt2));
    return Map{{1, platform_key()}, {2, salt_enc}, {3, authenticate_shared(salt_enc)}, {4, protocol_}};
  }

 private:
  Harness& h_;
  int protocol_;
  crypto::SeededRng rng_;
  crypto::PrivateKey key_;
  Bytes hmac_key_, aes_key_;
  Status status_ = Status::Other;
};

// Extension outputs of a makeCredential/getAssertion reply's authData.
inline const cbor::Value* auth_data_extension(const AuthData& ad, const char* name) {
  return ad.extensions ? ad.extensions->find(name) : nullptr;
}

}  // namespace vauth::ctaptest
