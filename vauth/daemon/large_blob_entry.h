// One credential's blob inside the serialized large-blob array (CTAP 2.1
// §6.10.3, WebAuthn's largeBlob extension): the map {1: ciphertext, 2: nonce,
// 3: origSize}, where ciphertext is AES-256-GCM under the credential's
// largeBlobKey of the raw-DEFLATE-compressed blob, with associated data
// "blob" || uint64LittleEndian(origSize). Provisioning uses this to put a W3C
// `largeBlob` into the array and to read it back for export, the way a
// browser's client would through authenticatorLargeBlobs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vauth/base/bytes.h"
#include "vauth/base/expected.h"
#include "vauth/crypto/rng.h"

namespace vauth::daemon {

// The largest blob provisioning accepts or export inflates, whatever an entry's
// origSize claims: the array itself is bounded by the profile (a few KiB).
inline constexpr size_t kMaxLargeBlobSize = 1024 * 1024;

// The array `array` (empty: the initial array) with every entry that opens
// under `key` replaced by one new entry holding `blob`, followed by its
// truncated SHA-256. The error says why the current array cannot be edited
// (it is not a CBOR array). The caller checks the result against the profile's
// maxSerializedLargeBlobArray.
Expected<Bytes, std::string> large_blob_array_with(ByteView array, ByteView key, ByteView blob, crypto::Rng& rng);

// The array `array` without the entries that authenticate under any of `keys`
// (AES-256-GCM opens them, whether or not their content inflates), or
// nullopt when there is none to drop (also when the array is not one vauth can
// read: an entry it cannot see into is never dropped).
std::optional<Bytes> large_blob_array_without(ByteView array, const std::vector<ByteView>& keys);

// The blob of the first entry in `array` that opens under `key` and inflates to
// its origSize; nullopt if there is none (or the array is not intact).
std::optional<Bytes> large_blob_in(ByteView array, ByteView key);

}  // namespace vauth::daemon
