// Sealing at rest: with a passphrase, every journal record is AES-256-GCM
// encrypted under a key derived by scrypt, so a copied journal reveals nothing
// but its size and record count. The header carries the scrypt salt/parameters
// and a key check, so a wrong passphrase is a clear error, not "corruption".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vauth/base/bytes.h"
#include "vauth/cbor/value.h"
#include "vauth/crypto/secret_bytes.h"

namespace vauth::store {

struct ScryptParams {
  uint8_t log2_n = 15;  // N = 32768: 32 MiB and ~0.1 s per open, once per daemon start
  uint32_t r = 8;
  uint32_t p = 1;
};

// A passphrase from a file (the first line; a trailing newline is not part of it).
std::string passphrase_from_file(const std::string& path);
// A passphrase from an environment variable; throws StoreError if it is unset.
std::string passphrase_from_env(const std::string& name);

class Sealer {
 public:
  // A new seal for a new journal: fresh salt; returns the header entry to store.
  static std::pair<Sealer, cbor::Value> create(std::string_view passphrase, ByteView file_id, const ScryptParams& params);
  // The seal of an existing journal from its header entry; throws StoreError on a wrong passphrase.
  static Sealer open(std::string_view passphrase, ByteView file_id, const cbor::Value& header_entry);
  // The same key for a new file (compaction): no second scrypt run.
  Sealer rebind(ByteView file_id) const;
  const cbor::Value& header_entry() const { return entry_; }

  Bytes seal(ByteView plaintext) const;
  // nullopt when the ciphertext was altered (or belongs to another file).
  std::optional<Bytes> open_record(ByteView nonce, ByteView ciphertext) const;

 private:
  Sealer(crypto::SecretBytes master, Bytes file_id, cbor::Value entry);
  crypto::SecretBytes master_;  // scrypt output
  crypto::SecretBytes record_key_;
  Bytes file_id_;  // AAD: a record cannot be moved into another journal
  cbor::Value entry_;
};

}  // namespace vauth::store
