#include "vauth/daemon/large_blob_orphans.h"

#include <algorithm>
#include <set>

#include "vauth/daemon/large_blob_entry.h"

namespace vauth::daemon {
namespace {

struct ByteViewLess {
  bool operator()(ByteView a, ByteView b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
};

}  // namespace

std::optional<Bytes> large_blob_array_without_removed(const store::State& st, const std::vector<Bytes>& removed,
                                                      const store::Credential* added) {
  std::vector<ByteView> keys;  // into `st`'s own (wiping) buffers: no copies of the keys
  for (const Bytes& id : removed) {
    const store::Credential* c = st.find_any_credential(id);
    if (c && !c->large_blob_key.empty()) keys.push_back(c->large_blob_key);
  }
  if (keys.empty()) return std::nullopt;  // the common case: no pass over the other credentials
  // Sets, so that deleting all of 100,000 credentials stays O(n log n).
  const std::set<Bytes> removed_ids(removed.begin(), removed.end());
  std::set<ByteView, ByteViewLess> kept;
  if (added && !added->large_blob_key.empty()) kept.insert(added->large_blob_key);
  // Only resident credentials carry a largeBlobKey (provisioning_json.cpp, makeCredential).
  for (const auto& [id, c] : st.credentials) {
    if (!c.large_blob_key.empty() && !removed_ids.contains(id)) kept.insert(c.large_blob_key);
  }
  std::erase_if(keys, [&](ByteView k) { return kept.contains(k); });
  return large_blob_array_without(st.large_blob_array, keys);
}

}  // namespace vauth::daemon
