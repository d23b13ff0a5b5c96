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

const PinProtocol* pin_protocol(int64_t version) {
  static const PinProtocolV1 v1;
  if (version == 1) return &v1;
  return nullptr;
}

}  // namespace vauth::ctap
