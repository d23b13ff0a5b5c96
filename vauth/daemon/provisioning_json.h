// Provisioning (docs/control-api.md "Provisioning", docs/store.md): the JSON
// forms of a credential with its private key and of a whole device, and their
// validation. Nothing here touches a device: parsing yields the store changes,
// the routes commit them in one atomic commit.
//
// A credential is the W3C WebAuthn Automation "Credential Parameters" object
// (credentialId, isResidentCredential, rpId, privateKey, userHandle, signCount)
// plus the fields GET /v1/devices/{n}/credentials shows (rpName, userName,
// userDisplayName, algorithm) and what vauth stores besides (credProtect,
// credBlob, largeBlobKey, hmacSecret, thirdPartyPayment, privateKeySeed).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/state.h"
#include "vauth/base/expected.h"
#include "vauth/ctap/profile.h"

namespace vauth::daemon {

inline constexpr const char* kDeviceDocumentFormat = "vauth-device";
inline constexpr int kDeviceDocumentVersion = 1;

struct ProvisionedCredential {
  store::Credential credential;  // `created` is left 0: the caller orders it
  uint32_t sign_count = 0;       // the W3C signCount: the device counter must exceed it
  // The W3C largeBlob (uncompressed): goes into the large-blob array under the
  // credential's largeBlobKey, which the caller generates when none was given.
  std::optional<Bytes> large_blob;
};

// A credential from its JSON form; the error names the field and what is wrong.
// The profile bounds the credential ID, credBlob and decides whether resident
// credentials exist. Does not look at any device's state (duplicates are the caller's).
Expected<ProvisionedCredential, std::string> credential_from_json(const nlohmann::json& j,
                                                                  const ctap::Profile& profile);

// The JSON form. The private key (PKCS#8 in privateKey; RS256 also as
// privateKeySeed, the only form vauth can import it in) only when asked for,
// and with it the largeBlob that `large_blob_array` holds under the
// credential's largeBlobKey, if there is one.
nlohmann::json credential_to_json(const store::Credential& c, uint32_t sign_count, bool include_private_key,
                                  ByteView large_blob_array = {});

// Every stored credential (discoverable and provisioned non-discoverable), by RP ID, oldest first.
std::vector<const store::Credential*> stored_credentials(const store::State& s);

// The whole device, secrets included: {"format": "vauth-device", "version": 1, ...}.
nlohmann::json device_to_json(const store::State& s);

// The changes that make a device the one `j` describes: everything it had is
// replaced (authenticatorReset first), all in one commit.
Expected<std::vector<store::Mutation>, std::string> device_import_mutations(const nlohmann::json& j,
                                                                            const ctap::Profile& profile);

// Whether a device has never been used (no credential, PIN, finger, large blob
// or signature): `vauthd --import` only provisions such a device, so a restart
// does not throw away what was made since.
bool unused(const store::State& s);

}  // namespace vauth::daemon
