#include "vauth/ctap/persistent_token.h"

#include "vauth/ctap/pin_protocol.h"
#include "vauth/ctap/session.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {
namespace {
constexpr size_t kTokenLength = 32;
}

bool persistent_token_supported(const Profile& p) {
  return p.persistent_cred_mgmt_ro && p.resident_keys && p.pin_uv_auth_token &&
         p.command_enabled(command::kCredentialManagement);
}

Bytes issue_persistent_token(Session& s) {
  if (s.state().persistent_token.size() != kTokenLength) {
    s.store.commit(store::Mutation{store::change::SetPersistentToken{s.rng.bytes(kTokenLength)}});
  }
  return s.state().persistent_token;
}

bool verify_persistent_token(const Session& s, int64_t protocol_version, ByteView param, ByteView message) {
  const Bytes& token = s.state().persistent_token;
  const PinProtocol* protocol = pin_protocol(protocol_version);
  if (token.size() != kTokenLength || !protocol) return false;
  return protocol->verify(token, message, param);
}

}  // namespace vauth::ctap
