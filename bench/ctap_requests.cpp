#include "bench/ctap_requests.h"

#include "vauth/cbor/codec.h"
#include "vauth/crypto/primitives.h"

namespace vauth::bench {
namespace {

using Map = cbor::Value::Map;
using Array = cbor::Value::Array;

// authData: rpIdHash(32) flags(1) signCount(4) [aaguid(16) L(2) credentialId(L) ...].
constexpr size_t kAuthDataFixed = 37, kAaguidSize = 16;
constexpr uint8_t kFlagAT = 0x40;

std::optional<cbor::Value> body_of(ByteView reply) {
  if (reply.size() < 2 || reply[0] != 0) return std::nullopt;
  auto decoded = cbor::decode(reply.subspan(1));
  if (!decoded || !decoded->is_map()) return std::nullopt;
  return std::move(*decoded);
}

Bytes extended_apdu(uint8_t ins, uint8_t p1, ByteView data) {
  Bytes a{0x00, ins, p1, 0x00, 0x00};
  put_u16_be(a, static_cast<uint16_t>(data.size()));
  append(a, data);
  a.push_back(0x00);
  a.push_back(0x00);
  return a;
}

}  // namespace

Bytes ctap_request(uint8_t command, const Map& params) {
  Bytes out{command};
  append(out, cbor::encode(cbor::Value(params)));
  return out;
}

Bytes make_credential_request(const std::string& rp_id, ByteView user_id, crypto::Algorithm alg, bool resident,
                              ByteView client_data_hash) {
  Map params{{1, Bytes(client_data_hash.begin(), client_data_hash.end())},
             {2, Map{{"id", rp_id}, {"name", "Bench RP"}}},
             {3, Map{{"id", Bytes(user_id.begin(), user_id.end())}, {"name", "bench"}, {"displayName", "Bench"}}},
             {4, Array{Map{{"alg", static_cast<int>(alg)}, {"type", "public-key"}}}}};
  if (resident) params[7] = Map{{"rk", true}};
  return ctap_request(kMakeCredential, params);
}

Bytes get_assertion_request(const std::string& rp_id, ByteView client_data_hash, const Bytes* allow) {
  Map params{{1, rp_id}, {2, Bytes(client_data_hash.begin(), client_data_hash.end())}};
  if (allow) params[3] = Array{Map{{"id", *allow}, {"type", "public-key"}}};
  return ctap_request(kGetAssertion, params);
}

std::optional<Bytes> credential_id_of(ByteView reply) {
  auto body = body_of(reply);
  if (!body) return std::nullopt;
  const cbor::Value* ad = body->find(2);
  if (!ad || !ad->is_bytes()) return std::nullopt;
  const Bytes& a = ad->as_bytes();
  if (a.size() < kAuthDataFixed + kAaguidSize + 2 || !(a[32] & kFlagAT)) return std::nullopt;
  const size_t at = kAuthDataFixed + kAaguidSize;
  const size_t len = get_u16_be(a.data() + at);
  if (a.size() < at + 2 + len) return std::nullopt;
  return Bytes(a.begin() + static_cast<ptrdiff_t>(at + 2), a.begin() + static_cast<ptrdiff_t>(at + 2 + len));
}

bool is_assertion(ByteView reply) {
  auto body = body_of(reply);
  if (!body) return false;
  const cbor::Value* ad = body->find(2);
  const cbor::Value* sig = body->find(3);
  return ad && ad->is_bytes() && ad->as_bytes().size() >= kAuthDataFixed && sig && sig->is_bytes();
}

Bytes PinClient::key_agreement_request() const { return ctap_request(kClientPin, Map{{1, 1}, {2, 2}}); }

bool PinClient::accept_key_agreement(ByteView reply) {
  auto body = body_of(reply);
  if (!body) return false;
  const cbor::Value* ka = body->find(1);
  const cbor::Value* x = ka ? ka->find(-2) : nullptr;
  const cbor::Value* y = ka ? ka->find(-3) : nullptr;
  if (!x || !y || !x->is_bytes() || !y->is_bytes()) return false;
  auto peer = crypto::PublicKey::p256(x->as_bytes(), y->as_bytes());
  if (!peer) return false;
  auto z = key_.ecdh_x(*peer);
  if (!z) return false;
  shared_ = crypto::sha256(*z);
  return true;
}

Bytes PinClient::pin_token_request(const std::string& pin) const {
  Bytes hash = crypto::sha256(to_bytes(pin));
  hash.resize(16);
  const Bytes enc = crypto::aes256_cbc_encrypt(shared_, Bytes(16, 0), hash).value_or(Bytes{});
  return ctap_request(kClientPin, Map{{1, 1}, {2, 5}, {3, platform_key()}, {6, enc}});
}

Map PinClient::platform_key() const {
  const auto& pub = key_.public_key();
  return Map{{1, 2}, {3, -25}, {-1, 1}, {-2, pub.x()}, {-3, pub.y()}};
}

Bytes PinClient::set_pin_request(const std::string& pin) const {
  Bytes padded = to_bytes(pin);
  padded.resize(64, 0);
  const Bytes enc = crypto::aes256_cbc_encrypt(shared_, Bytes(16, 0), padded).value_or(Bytes{});
  Bytes auth = crypto::hmac_sha256(shared_, enc);
  auth.resize(16);
  return ctap_request(kClientPin, Map{{1, 1}, {2, 3}, {3, platform_key()}, {4, auth}, {5, enc}});
}

std::optional<Bytes> PinClient::pin_token(ByteView reply) const {
  auto body = body_of(reply);
  if (!body) return std::nullopt;
  const cbor::Value* enc = body->find(2);
  if (!enc || !enc->is_bytes()) return std::nullopt;
  return crypto::aes256_cbc_decrypt(shared_, Bytes(16, 0), enc->as_bytes());
}

Bytes u2f_register_apdu(ByteView challenge, ByteView application) {
  return extended_apdu(0x01, 0x00, concat(challenge, application));
}

Bytes u2f_authenticate_apdu(ByteView challenge, ByteView application, ByteView key_handle) {
  Bytes data = concat(challenge, application);
  data.push_back(static_cast<uint8_t>(key_handle.size()));
  append(data, key_handle);
  return extended_apdu(0x02, 0x03, data);
}

std::optional<Bytes> u2f_key_handle(ByteView reply) {
  constexpr size_t kPoint = 65;
  if (!u2f_ok(reply) || reply.size() < 1 + kPoint + 1 || reply[0] != 0x05) return std::nullopt;
  const size_t len = reply[1 + kPoint];
  if (reply.size() < 2 + kPoint + len) return std::nullopt;
  return Bytes(reply.begin() + 2 + kPoint, reply.begin() + 2 + static_cast<ptrdiff_t>(kPoint + len));
}

}  // namespace vauth::bench
