// The persistent store: an append-only journal of CRC-checked records in a
// private directory, replayed on open and compacted into a snapshot as it grows.
// See docs/store.md for the format and the guarantees of each durability mode.
//
//   <dir>/journal          header, then records (0600)
//   <dir>/journal.compact  a compaction in progress (renamed over `journal` when complete)
//   <dir>/lock             flock'ed by the one process that has the store open; holds its PID
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/journal_format.h"
#include "store/journal_records.h"
#include "store/posix_file.h"
#include "store/seal.h"
#include "store/store.h"
#include "store/store_error.h"

namespace vauth::store {

enum class Durability {
  durable,  // every commit() is on disk (fdatasync) before it returns
  batched,  // fdatasync at most every batch_interval or batch_commits commits; see docs/store.md
};

struct JournalOptions {
  Durability durability = Durability::durable;
  // batched: a commit is synced once this long has passed since the last sync,
  // or once this many commits are waiting (whichever comes first).
  std::chrono::milliseconds batch_interval{100};
  uint32_t batch_commits = 64;
  // batched: sign counter values reserved on disk ahead of use, so a counter whose
  // last increments were lost still jumps past them on the next open.
  uint32_t counter_reserve = 1024;
  // Compaction once the journal exceeds max(compact_min_bytes, compact_ratio × snapshot).
  uint64_t compact_min_bytes = 4u << 20;
  uint32_t compact_ratio = 4;
  // Seal at rest: a new store is created sealed, an existing sealed one needs it.
  std::optional<std::string> passphrase;
  ScryptParams scrypt;
  // Warnings (a dropped torn tail, loose permissions). Default: std::cerr.
  posix::Warn warn;
};

class JournalStore final : public Store {
 public:
  // Opens (or creates) the store in `dir`. Throws StoreError: damaged journal
  // (with the offset), newer format, locked by another process, wrong passphrase.
  explicit JournalStore(std::filesystem::path dir, JournalOptions options = {});
  // Syncs what batched mode still holds; never throws.
  ~JournalStore() override;
  JournalStore(const JournalStore&) = delete;
  JournalStore& operator=(const JournalStore&) = delete;

  const State& state() const override { return state_; }
  // Appends one record holding all `mutations`, makes it as durable as the mode
  // promises, then applies it. On a write error nothing is applied and the
  // exception propagates; after a failed fdatasync the store refuses further commits.
  void commit(std::span<const Mutation> mutations) override;
  using Store::commit;

  // batched: whether the caller's timer should call sync() now.
  bool sync_due() const;
  // Makes every acknowledged commit durable.
  void sync();
  // Rewrites the journal as one snapshot (atomically, by rename). Also automatic.
  void compact();

  struct Stats {
    uint64_t journal_bytes = 0;
    uint64_t snapshot_bytes = 0;  // size of the journal right after the last compaction
    uint64_t records = 0;         // records appended or replayed since the last compaction
    uint64_t compactions = 0;
    uint64_t syncs = 0;
    bool sealed = false;
  };
  Stats stats() const;
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path journal_path() const { return dir_ / "journal"; }

 private:
  void create_journal();
  void open_journal();
  void replay(const journal::ScanResult& scan, size_t header_end);
  journal::Record decode_payload(ByteView payload) const;
  std::vector<std::variant<journal::Record, StoreError>> decode_all(const std::vector<journal::RecordRef>& refs) const;
  void append(ByteView payload);
  void raise_counter_to_floor();
  void maybe_compact();
  Bytes payload_for_disk(Bytes plain) const;

  std::filesystem::path dir_;
  JournalOptions options_;
  posix::Fd lock_;
  posix::Fd fd_;
  std::optional<Sealer> sealer_;
  State state_;
  uint64_t seq_ = 0;       // of the last batch
  uint64_t end_ = 0;       // file size = end of the last good record
  uint64_t snapshot_bytes_ = 0;
  uint64_t records_ = 0;
  uint64_t compactions_ = 0;
  uint64_t syncs_ = 0;
  std::optional<uint32_t> counter_floor_;  // last reserved counter value on disk
  uint32_t pending_ = 0;                   // commits written but not yet synced
  std::chrono::steady_clock::time_point last_sync_;
  bool failed_ = false;
};

}  // namespace vauth::store
