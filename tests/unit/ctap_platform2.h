// The platform's side of PIN/UV auth protocol 2 (CTAP 2.1 §6.5.7), written from
// the spec with raw primitives: tokens from a PIN or from built-in UV, and the
// full-length HMAC pinUvAuthParam. For the UV, bio enrollment and config tests.
#pragma once

#include "tests/unit/ctap_test_support.h"

namespace vauth::ctaptest {

constexpr int kPermMc = 0x01, kPermGa = 0x02, kPermCm = 0x04, kPermBe = 0x08, kPermLbw = 0x10, kPermAcfg = 0x20;
constexpr uint8_t kBioEnrollment = 0x09, kBioEnrollmentPreview = 0x40, kConfig = 0x0d;

class Platform2 {
 public:
  explicit Platform2(Harness& h, uint64_t seed = 0x2222)
      : h_(h), rng_(seed), key_(crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng_)) {}

  // getKeyAgreement; shared secret = HKDF(Z, "CTAP2 HMAC key") || HKDF(Z, "CTAP2 AES key").
  void refresh() {
    Response r = h_.call(kClientPin, Map{{1, 2}, {2, 2}});
    REQUIRE(r.ok());
    const cbor::Value* ka = r.get(1);
    REQUIRE(ka);
    auto peer = crypto::PublicKey::p256(ka->find(-2)->as_bytes(), ka->find(-3)->as_bytes());
    REQUIRE(peer);
    auto z = key_.ecdh_x(*peer);
    REQUIRE(z);
    const Bytes salt(32, 0);
    hmac_key_ = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 HMAC key"), 32);
    aes_key_ = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 AES key"), 32);
  }
  Map platform_key() const {
    return Map{{1, 2}, {3, -25}, {-1, 1}, {-2, key_.public_key().x()}, {-3, key_.public_key().y()}};
  }
  Bytes encrypt(ByteView plain) {
    Bytes iv = rng_.bytes(16);
    append(iv, *crypto::aes256_cbc_encrypt(aes_key_, ByteView(iv).first(16), plain));
    return iv;
  }
  std::optional<Bytes> decrypt(ByteView c) const {
    if (c.size() < 16) return std::nullopt;
    return crypto::aes256_cbc_decrypt(aes_key_, c.first(16), c.subspan(16));
  }

  Response set_pin(std::string_view pin) {
    refresh();
    Bytes padded = to_bytes(pin);
    padded.resize(64, 0);
    const Bytes enc = encrypt(padded);
    return h_.call(kClientPin, Map{{1, 2}, {2, 3}, {3, platform_key()}, {4, auth(hmac_key_, enc)}, {5, enc}});
  }
  Response change_pin(std::string_view old_pin, std::string_view new_pin) {
    refresh();
    Bytes padded = to_bytes(new_pin);
    padded.resize(64, 0);
    const Bytes new_enc = encrypt(padded);
    Bytes hash = crypto::sha256(to_bytes(old_pin));
    hash.resize(16);
    const Bytes hash_enc = encrypt(hash);
    return h_.call(kClientPin, Map{{1, 2}, {2, 4}, {3, platform_key()}, {4, auth(hmac_key_, concat(new_enc, hash_enc))},
                                   {5, new_enc}, {6, hash_enc}});
  }

  // getPinUvAuthTokenUsingPinWithPermissions (0x09).
  Response pin_token_raw(std::string_view pin, int permissions, std::optional<std::string> rp_id = {}) {
    refresh();
    Bytes hash = crypto::sha256(to_bytes(pin));
    hash.resize(16);
    Map m{{1, 2}, {2, 9}, {3, platform_key()}, {6, encrypt(hash)}, {9, permissions}};
    if (rp_id) m[0x0a] = *rp_id;
    return h_.call(kClientPin, m);
  }
  // getPinUvAuthTokenUsingUvWithPermissions (0x06), possibly still waiting for the sensor.
  Pending uv_token_start(int permissions, std::optional<std::string> rp_id = {}) {
    refresh();
    Map m{{1, 2}, {2, 6}, {3, platform_key()}, {9, permissions}};
    if (rp_id) m[0x0a] = *rp_id;
    return h_.start(kClientPin, m);
  }
  std::optional<Bytes> unwrap(const Response& r) {
    status_ = r.status;
    if (!r.ok()) return std::nullopt;
    const cbor::Value* enc = r.get(2);
    REQUIRE(enc);
    auto t = decrypt(enc->as_bytes());
    REQUIRE(t);
    REQUIRE(t->size() == 32);
    return t;
  }
  std::optional<Bytes> pin_token(std::string_view pin, int permissions, std::optional<std::string> rp_id = {}) {
    return unwrap(pin_token_raw(pin, permissions, std::move(rp_id)));
  }
  std::optional<Bytes> uv_token(int permissions, std::optional<std::string> rp_id = {}) {
    return unwrap(uv_token_start(permissions, std::move(rp_id)).get());
  }
  Status status() const { return status_; }

  // Protocol 2 pinUvAuthParam: the full 32-byte HMAC.
  static Bytes auth(ByteView token, ByteView msg) { return crypto::hmac_sha256(token, msg); }

 private:
  Harness& h_;
  crypto::SeededRng rng_;
  crypto::PrivateKey key_;
  Bytes hmac_key_, aes_key_;
  Status status_ = Status::Other;
};

inline Response get_info(Harness& h) {
  Response r = h.call(kGetInfo);
  REQUIRE(r.ok());
  return r;
}
inline const cbor::Value* info_option(const Response& info, const char* name) {
  const cbor::Value* options = info.get(4);
  REQUIRE(options);
  return options->find(name);
}

// Bio enrollment request: {1: modality 1, 2: sub, 3?: params, 4: 2, 5: auth}.
inline Map bio_request(int sub, const std::optional<Map>& params, const std::optional<Bytes>& token) {
  Map m{{1, 1}, {2, sub}};
  if (params) m[3] = *params;
  if (token) {
    Bytes msg{0x01, static_cast<uint8_t>(sub)};
    if (params) append(msg, cbor::encode(cbor::Value(*params)));
    m[4] = 2;
    m[5] = Platform2::auth(*token, msg);
  }
  return m;
}

// authenticatorConfig request: {1: sub, 2?: params, 3: 2, 4: auth(32×ff || 0d || sub || params)}.
inline Map config_request(int sub, const std::optional<Map>& params, const std::optional<Bytes>& token) {
  Map m{{1, sub}};
  if (params) m[2] = *params;
  if (token) {
    Bytes msg(32, 0xff);
    msg.push_back(0x0d);
    msg.push_back(static_cast<uint8_t>(sub));
    if (params) append(msg, cbor::encode(cbor::Value(*params)));
    m[3] = 2;
    m[4] = Platform2::auth(*token, msg);
  }
  return m;
}

// Enrolls one finger through the protocol (a be token from the PIN), with the
// sensor matching every sample; returns its template ID.
inline Bytes enroll_finger(Harness& h, Platform2& p, std::string_view pin) {
  auto token = p.pin_token(pin, kPermBe);
  REQUIRE(token);
  Response begin = h.call(kBioEnrollment, bio_request(1, Map{}, token));
  REQUIRE(begin.ok());
  Bytes id = begin.get(4)->as_bytes();
  uint64_t remaining = begin.get(6)->as_unsigned();
  while (remaining > 0) {
    Response next = h.call(kBioEnrollment, bio_request(2, Map{{1, id}}, token));
    REQUIRE(next.ok());
    remaining = next.get(6)->as_unsigned();
  }
  return id;
}

}  // namespace vauth::ctaptest
