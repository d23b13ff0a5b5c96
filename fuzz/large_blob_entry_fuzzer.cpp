// The large-blob array as provisioning reads and edits it
// (vauth/daemon/large_blob_entry.h). The input is the CBOR before the hash;
// the fuzzer appends a correct truncated SHA-256 so that the CBOR, entry and
// inflate paths are reached rather than stopping at the hash check. Whatever
// the array holds, reading must not crash, editing must either refuse or give
// an intact array in which the new blob reads back, and dropping the key's
// entries must leave an intact array in which the key reads nothing.
#include <cstdint>
#include <cstdlib>

#include "vauth/crypto/rng.h"
#include "vauth/ctap/large_blobs.h"
#include "vauth/daemon/large_blob_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vauth;
  const Bytes array = ctap::serialized_large_blob_array(ByteView(data, size));
  const Bytes key(32, 0x11);  // the key of the seed corpus's entries
  (void)daemon::large_blob_in(array, key);
  crypto::SeededRng rng(size);
  const Bytes blob{1, 2, 3};
  auto edited = daemon::large_blob_array_with(array, key, blob, rng);
  if (edited && (!ctap::large_blob_array_intact(*edited) || daemon::large_blob_in(*edited, key) != blob)) abort();
  if (auto without = daemon::large_blob_array_without(array, {key})) {
    if (!ctap::large_blob_array_intact(*without) || daemon::large_blob_in(*without, key)) abort();
  }
  return 0;
}
