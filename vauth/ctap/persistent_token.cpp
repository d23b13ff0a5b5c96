#include "vauth/ctap/persistent_token.h"

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/pin_protocol.h"
#include "vauth/ctap/session.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {
namespace {
constexpr size_t kTokenLength = 32, kValueLength = 16, kIvLength = 16;

std::optional<Bytes> encrypt_for_token(const Session& s, const char* label, const Bytes& value) {
  const ByteView token = s.state().persistent_token;
  if (token.size() != kTokenLength) return std::nullopt;
  Bytes key = crypto::hkdf_sha256(token, Bytes(32, 0), to_bytes(label), kValueLength);
  Bytes out = s.rng.bytes(kIvLength);
  auto ct = crypto::aes128_cbc_encrypt(key, out, value);
  crypto::cleanse(key);
  if (!ct) return std::nullopt;
  append(out, *ct);
  return out;
}
}  // namespace

bool persistent_token_supported(const Profile& p) {
  return p.persistent_cred_mgmt_ro && p.resident_keys && p.pin_uv_auth_token &&
         p.command_enabled(command::kCredentialManagement);
}

Bytes issue_persistent_token(Session& s) {
  if (s.state().persistent_token.size() != kTokenLength) {
    s.store.commit(store::Mutation{store::change::SetPersistentToken{s.rng.bytes(kTokenLength)}});
  }
  return crypto::to_plain(s.state().persistent_token);  // leaves encrypted for the platform
}

bool verify_persistent_token(const Session& s, int64_t protocol_version, ByteView param, ByteView message) {
  const ByteView token = s.state().persistent_token;
  const PinProtocol* protocol = pin_protocol(protocol_version);
  if (token.size() != kTokenLength || !protocol) return false;
  return protocol->verify(token, message, param);
}

// Both values come from the master secret through HKDF: stable until reset,
// and they reveal nothing about the secret itself.
std::optional<Bytes> enc_identifier(const Session& s) {
  const Bytes id = crypto::hkdf_sha256(s.state().master_secret, {}, to_bytes("vauth deviceIdentifier"), kValueLength);
  return encrypt_for_token(s, "encIdentifier", id);
}

std::optional<Bytes> enc_cred_store_state(const Session& s) {
  Bytes generation(8);
  for (size_t i = 0; i < 8; ++i) generation[i] = static_cast<uint8_t>(s.state().credential_generation >> (56 - 8 * i));
  const Bytes state =
      crypto::hkdf_sha256(s.state().master_secret, generation, to_bytes("vauth credStoreState"), kValueLength);
  return encrypt_for_token(s, "encCredStoreState", state);
}

}  // namespace vauth::ctap
