// The persistentPinUvAuthToken (CTAP 2.2 §6.5.5.7, permission pcmr): a token a
// platform may keep across power cycles to list credentials without asking for
// the PIN again. It is a second token beside the pinUvAuthToken and does not
// disturb it: it only authorises the read-only credential-management
// subcommands (getCredsMetadata, enumerateRPsBegin, enumerateCredentialsBegin),
// is bound to no RP, has no usage timer, and lives in the store, so it survives
// power cycles and restarts until changePIN or authenticatorReset replaces it.
#pragma once

#include <cstdint>
#include <optional>

#include "vauth/base/bytes.h"
#include "vauth/ctap/profile.h"

namespace vauth::ctap {

class Session;

// Whether this key grants pcmr and advertises "perCredMgmtRO": it needs
// discoverable credentials, CTAP 2.1 permission tokens and authenticatorCredentialManagement.
bool persistent_token_supported(const Profile& profile);

// The token to hand out for a pcmr request: the stored one, or a fresh one made
// durable first (so every platform that asks gets the same token until it is revoked).
Bytes issue_persistent_token(Session& s);

// Whether `param` authenticates `message` under the persistent token with this
// protocol (which the caller has already checked is offered). False when none was issued.
bool verify_persistent_token(const Session& s, int64_t protocol_version, ByteView param, ByteView message);

// getInfo encIdentifier (0x19) and encCredStoreState (0x1E), CTAP 2.2: 16-byte
// values only the holder of the persistent token can read, as IV (16 random
// bytes, new every time) || AES-128-CBC(key, IV, value) with key =
// HKDF-SHA-256(persistent token, salt 32 zero bytes, info "encIdentifier" or
// "encCredStoreState", 16 bytes). The device identifier is derived from the
// master secret (stable until reset); the credential store state from the
// master secret and store::State::credential_generation, so it changes with
// every discoverable credential made, updated or deleted. nullopt while no
// persistent token exists: no platform could read them.
std::optional<Bytes> enc_identifier(const Session& s);
std::optional<Bytes> enc_cred_store_state(const Session& s);

}  // namespace vauth::ctap
