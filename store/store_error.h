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

// A system call on the store's files failed: `error_number()` is its errno
// (EIO, ENOSPC, EROFS, ...), so the authenticator can tell "disk full"
// (CTAP2_ERR_KEY_STORE_FULL) from other write failures (CTAP1_ERR_OTHER).
class StoreIoError : public StoreError {
 public:
  StoreIoError(const std::string& what, int error_number) : StoreError(what), error_number_(error_number) {}
  int error_number() const { return error_number_; }

 private:
  int error_number_;
};

}  // namespace vauth::store
