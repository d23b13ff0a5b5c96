// The large-blob entries a control-API commit orphans. When the control API
// removes resident credentials (DELETE .../credentials[/{id}], or an add that
// replaces the account's credential), the entries of the large-blob array that
// open under their largeBlobKeys go in the same commit: no one can read them
// any more, and they take room from the credentials that stay.
// (CTAP's own deleteCredential and a replacing makeCredential leave the array
// to the platform, as a real key does: docs/conformance.md.)
#pragma once

#include <optional>
#include <vector>

#include "store/state.h"
#include "vauth/base/bytes.h"

namespace vauth::daemon {

// `st`'s large-blob array without the entries of the credentials `removed`
// (IDs), or nullopt when it would not change. A key that a credential staying
// on the device also holds (one not in `removed`, or `added`, the credential
// the same commit puts in) keeps its entries: they are not orphans.
std::optional<Bytes> large_blob_array_without_removed(const store::State& st, const std::vector<Bytes>& removed,
                                                      const store::Credential* added = nullptr);

}  // namespace vauth::daemon
