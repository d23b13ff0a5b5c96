#include "vauth/ctap/pin_protocol.h"

#include "vauth/crypto/primitives.h"

namespace vauth::ctap {

std::optional<Bytes> PinProtocolV1::shared_secret(const crypto::PrivateKey& ours,
                                                  const crypto::PublicKey& peer) const {
  auto z = ours.ecdh_x(peer);
  if (!z) return std::nullopt;
  Bytes secret = crypto::sha256(*z);
  crypto::cleanse(*z);
  return secret;
}

std::optional<Bytes> PinProtocolV1::encrypt(ByteView shared, ByteView plaintext, crypto::Rng&) const {
  static const Bytes kZeroIv(16, 0);
  return crypto::aes256_cbc_encrypt(shared, kZeroIv, plaintext);
}

std::optional<Bytes> PinProtocolV1::decrypt(ByteView shared, ByteView ciphertext) const {
  static const Bytes kZeroIv(16, 0);
  return crypto::aes256_cbc_decrypt(shared, kZeroIv, ciphertext);
}

Bytes PinProtocolV1::authenticate(ByteView key, ByteView message) const {
  Bytes mac = crypto::hmac_sha256(key, message);
  mac.resize(16);
  return mac;
}

bool PinProtocolV1::verify(ByteView key, ByteView message, ByteView signature) const {
  if (signature.size() != 16) return false;
  return crypto::equal_ct(authenticate(key, message), signature);
}

namespace {
constexpr size_t kIvLength = 16;
// The shared secret of protocol 2 is HMAC key || AES key; a pinUvAuthToken is a single 32-byte key.
ByteView hmac_key(ByteView key) { return key.size() == 64 ? key.first(32) : key; }
ByteView aes_key(ByteView shared) { return shared.size() == 64 ? shared.subspan(32) : ByteView{}; }
}  // namespace

std::optional<Bytes> PinProtocolV2::shared_secret(const crypto::PrivateKey& ours,
                                                  const crypto::PublicKey& peer) const {
  auto z = ours.ecdh_x(peer);
  if (!z) return std::nullopt;
  const Bytes salt(32, 0);
  Bytes secret = crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 HMAC key"), 32);
  append(secret, crypto::hkdf_sha256(*z, salt, to_bytes("CTAP2 AES key"), 32));
  crypto::cleanse(*z);
  return secret;
}

std::optional<Bytes> PinProtocolV2::encrypt(ByteView shared, ByteView plaintext, crypto::Rng& rng) const {
  Bytes iv = rng.bytes(kIvLength);
  auto ct = crypto::aes256_cbc_encrypt(aes_key(shared), iv, plaintext);
  if (!ct) return std::nullopt;
  append(iv, *ct);
  return iv;
}

std::optional<Bytes> PinProtocolV2::decrypt(ByteView shared, ByteView ciphertext) const {
  if (ciphertext.size() < kIvLength) return std::nullopt;
  return crypto::aes256_cbc_decrypt(aes_key(shared), ciphertext.first(kIvLength), ciphertext.subspan(kIvLength));
}

Bytes PinProtocolV2::authenticate(ByteView key, ByteView message) const {
  return crypto::hmac_sha256(hmac_key(key), message);
}

bool PinProtocolV2::verify(ByteView key, ByteView message, ByteView signature) const {
  if (signature.size() != 32) return false;
  return crypto::equal_ct(authenticate(key, message), signature);
}

const PinProtocol* pin_protocol(int64_t version) {
  static const PinProtocolV1 v1;
  static const PinProtocolV2 v2;
  if (version == 1) return &v1;
  if (version == 2) return &v2;
  return nullptr;
}

}  // namespace vauth::ctap
