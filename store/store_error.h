// The one exception type of the persistent stores: a store that cannot be
// opened or written says why (and, for damage, where) instead of guessing.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace vauth::store {

class StoreError : public std::runtime_error {
 public:
  explicit StoreError(const std::string& what, std::optional<uint64_t> offset = std::nullopt)
      : std::runtime_error(what), offset_(offset) {}
  // The byte offset in the journal of the damage, when the error is about damage.
  std::optional<uint64_t> offset() const { return offset_; }

 private:
  std::optional<uint64_t> offset_;
};

}  // namespace vauth::store
