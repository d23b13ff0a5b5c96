#include "store/journal_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include "store/journal_format.h"
#include "store/journal_records.h"

namespace vauth::store {

namespace {

using cbor::Value;
namespace fs = std::filesystem;

constexpr int kExtFileId = 1, kExtSeal = 2;

Bytes new_file_id() {
  // Not a secret: it only ties sealed records to their file (GCM associated data).
  std::random_device rd;
  Bytes id(16);
  for (auto& b : id) b = static_cast<uint8_t>(rd());
  return id;
}

// Commits that must never be lost to a power cut, whatever the mode: losing a
// PIN retry decrement would hand an attacker extra guesses, losing a reset or a
// new PIN would resurrect what the user removed.
bool security_critical(std::span<const Mutation> mutations) {
  for (const Mutation& m : mutations) {
    if (std::holds_alternative<change::SetPin>(m.change) || std::holds_alternative<change::SetPinRetries>(m.change) ||
        std::holds_alternative<change::Reset>(m.change) || std::holds_alternative<change::SetMasterSecret>(m.change)) {
      return true;
    }
  }
  return false;
}

std::string at(uint64_t offset) { return " at byte offset " + std::to_string(offset); }

}  // namespace

JournalStore::JournalStore(fs::path dir, JournalOptions options) : dir_(std::move(dir)), options_(std::move(options)) {
  if (!options_.warn) options_.warn = [](std::string_view msg) { std::cerr << "vauth store: " << msg << "\n"; };
  posix::ensure_private_dir(dir_, options_.warn);
  lock_ = posix::lock_exclusive(dir_ / "lock", "store " + dir_.string());
  // A compaction that did not reach its rename: the journal is still whole.
  for (const char* leftover : {"journal.compact", "journal.new"}) {
    std::error_code ec;
    if (fs::remove(dir_ / leftover, ec)) options_.warn(std::string("removed unfinished ") + leftover);
  }
  if (!fs::exists(journal_path())) create_journal();
  open_journal();
  last_sync_ = std::chrono::steady_clock::now();
}

JournalStore::~JournalStore() {
  try {
    if (!failed_ && fd_) {
      // Give back a batched reservation on a clean close, so the next open need not jump.
      if (counter_floor_ && *counter_floor_ > state_.sign_count) {
        append(journal::encode_batch(seq_ + 1, {}, state_.sign_count));
        ++seq_;
        counter_floor_ = state_.sign_count;
        ++pending_;
      }
      if (pending_) sync();
    }
  } catch (const std::exception& e) {
    options_.warn(std::string("closing the store: ") + e.what());
  }
}

void JournalStore::create_journal() {
  journal::Header h;
  Bytes file_id = new_file_id();
  Value::Map ext;
  ext[Value(kExtFileId)] = Value(file_id);
  if (options_.passphrase) {
    auto [sealer, entry] = Sealer::create(*options_.passphrase, file_id, options_.scrypt);
    ext[Value(kExtSeal)] = std::move(entry);
    h.flags |= journal::kFlagSealed;
  }
  h.ext = Value(std::move(ext));
  // Written beside and renamed into place, so a journal always has a whole header.
  const fs::path tmp = dir_ / "journal.new";
  {
    posix::Fd fd = posix::open_file(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
    posix::pwrite_all(fd.get(), journal::encode_header(h), 0, tmp);
    posix::fsync_or_throw(fd.get(), tmp);
  }
  if (::rename(tmp.c_str(), journal_path().c_str()) != 0) throw StoreError("cannot create " + journal_path().string());
  posix::fsync_dir(dir_);
}

void JournalStore::open_journal() {
  const fs::path path = journal_path();
  fd_ = posix::open_file(path, O_RDWR);
  posix::check_private_file(fd_.get(), path, options_.warn);
  const Bytes file = posix::read_all(fd_.get(), path);
  auto [header, header_end] = journal::decode_header(file);
  const Value* file_id = header.ext.find(Value(kExtFileId));
  if (!file_id || !file_id->is_bytes()) throw StoreError("journal header has no file id", 0);
  if (header.flags & journal::kFlagSealed) {
    if (!options_.passphrase) throw StoreError("store " + dir_.string() + " is sealed: a passphrase is required");
    const Value* entry = header.ext.find(Value(kExtSeal));
    if (!entry) throw StoreError("sealed journal has no seal parameters", 0);
    sealer_ = Sealer::open(*options_.passphrase, file_id->as_bytes(), *entry);
  } else if (options_.passphrase) {
    throw StoreError("store " + dir_.string() +
                     " is not sealed but a passphrase was given; export and re-import it into a new sealed store");
  }

  journal::ScanResult scan = journal::scan_records(file, header_end);  // throws on damage in the middle
  end_ = header_end;
  replay(scan, header_end);  // validates the records' content before anything is truncated
  if (scan.torn_at) {
    options_.warn("journal " + path.string() + ": dropping a torn or corrupt last record" + at(*scan.torn_at) + " (" +
                  std::to_string(file.size() - *scan.torn_at) +
                  " bytes, an append that was interrupted before it was acknowledged)");
    // Appends must continue from the last good record, not after the garbage.
    if (::ftruncate(fd_.get(), static_cast<off_t>(scan.good_end)) != 0) {
      throw StoreError("cannot truncate the torn tail of " + path.string());
    }
    posix::fsync_or_throw(fd_.get(), path);
  }
  end_ = scan.good_end;
  raise_counter_to_floor();
}

journal::Record JournalStore::decode_payload(ByteView payload) const {
  journal::Record rec = journal::decode_record(payload);
  if (auto* sealed = std::get_if<journal::SealedRecord>(&rec)) {
    if (!sealer_) throw StoreError("a sealed record in a journal that is not sealed");
    auto plain = sealer_->open_record(sealed->nonce, sealed->ciphertext);
    if (!plain) throw StoreError("sealed record fails authentication (altered, or from another file)");
    rec = journal::decode_record(*plain);
    if (std::holds_alternative<journal::SealedRecord>(rec)) throw StoreError("nested sealed record");
  } else if (sealer_) {
    throw StoreError("a plain record in a sealed journal");
  }
  return rec;
}

std::vector<std::variant<journal::Record, StoreError>> JournalStore::decode_all(
    const std::vector<journal::RecordRef>& refs) const {
  // Decoding (CBOR, and AES-GCM when sealed) is most of the work of opening a
  // large store and each record decodes on its own, so it is spread over a few
  // threads; applying stays sequential. The threads end before open returns.
  std::vector<std::variant<journal::Record, StoreError>> out(refs.size(), StoreError(""));
  auto work = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      try {
        out[i] = decode_payload(refs[i].payload);
      } catch (const StoreError& e) {
        out[i] = e;
      } catch (const std::exception& e) {  // bad_alloc and the like, reported as damage
        out[i] = StoreError(e.what());
      }
    }
  };
  const size_t workers = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 8, refs.size() / 32 + 1});
  std::vector<std::thread> threads;
  const size_t per = (refs.size() + workers - 1) / workers;
  for (size_t w = 1; w < workers; ++w) {
    threads.emplace_back(work, std::min(refs.size(), w * per), std::min(refs.size(), (w + 1) * per));
  }
  work(0, std::min(refs.size(), per));
  for (auto& t : threads) t.join();
  return out;
}

void JournalStore::replay(const journal::ScanResult& scan, size_t header_end) {
  uint64_t snapshot_parts = 0, snapshot_count = 0;
  bool have_snapshot = false;
  auto decoded = decode_all(scan.records);
  for (size_t i = 0; i < scan.records.size(); ++i) {
    const journal::RecordRef& ref = scan.records[i];
    try {
      if (auto* err = std::get_if<StoreError>(&decoded[i])) throw *err;
      journal::Record rec = std::move(std::get<journal::Record>(decoded[i]));
      if (auto* snap = std::get_if<journal::SnapshotRecord>(&rec)) {
        if (have_snapshot && snapshot_parts == snapshot_count) throw StoreError("snapshot after batches");
        if (snap->index != snapshot_parts || (snapshot_parts > 0 && snap->count != snapshot_count)) {
          throw StoreError("snapshot part out of order");
        }
        if (snap->index == 0) {
          if (ref.offset != header_end) throw StoreError("snapshot not at the start of the journal");
          state_ = std::move(*snap->scalars);
          seq_ = snap->seq;
          snapshot_count = snap->count;
          have_snapshot = true;
          counter_floor_ = snap->counter_floor;
        }
        for (Credential& c : snap->credentials) load_credential(state_, std::move(c));
        ++snapshot_parts;
        if (snapshot_parts == snapshot_count) snapshot_bytes_ = ref.offset + journal::kRecordHeader + ref.payload.size();
      } else {
        auto& batch = std::get<journal::BatchRecord>(rec);
        if (have_snapshot && snapshot_parts != snapshot_count) throw StoreError("batch inside a snapshot");
        if (batch.seq != seq_ + 1) {
          throw StoreError("batch sequence " + std::to_string(batch.seq) + " where " + std::to_string(seq_ + 1) +
                           " was expected (a record was repeated, reordered or removed)");
        }
        seq_ = batch.seq;
        for (const Mutation& m : batch.mutations) apply(state_, m);
        if (batch.counter_floor) counter_floor_ = batch.counter_floor;
      }
      ++records_;
    } catch (const StoreError& e) {
      // The CRC matched, so this is not a torn write: a bug or deliberate editing.
      throw StoreError("journal " + journal_path().string() + ": record" + at(ref.offset) + ": " + e.what(),
                       ref.offset);
    }
  }
  if (have_snapshot && snapshot_parts != snapshot_count) {
    throw StoreError("journal " + journal_path().string() + ": snapshot is incomplete (" +
                         std::to_string(snapshot_parts) + " of " + std::to_string(snapshot_count) + " parts)",
                     scan.good_end);
  }
  if (!have_snapshot) snapshot_bytes_ = header_end;
}

void JournalStore::raise_counter_to_floor() {
  if (!counter_floor_ || *counter_floor_ <= state_.sign_count) return;
  // A batched writer reserved counter values up to the floor and may have used
  // some whose records were lost: continue above all of them.
  const uint32_t floor = *counter_floor_;
  options_.warn("sign counter raised from " + std::to_string(state_.sign_count) + " to " + std::to_string(floor) +
                " (batched mode's reservation; increments may have been lost)");
  Mutation m{change::SetSignCount{floor}};
  append(journal::encode_batch(seq_ + 1, std::span<const Mutation>(&m, 1), floor));
  ++seq_;
  counter_floor_ = floor;
  apply(state_, m);
  sync();
}

Bytes JournalStore::payload_for_disk(Bytes plain) const { return sealer_ ? sealer_->seal(plain) : plain; }

void JournalStore::append(ByteView plain_payload) {
  const Bytes record = journal::frame_record(payload_for_disk(Bytes(plain_payload.begin(), plain_payload.end())));
  try {
    posix::pwrite_all(fd_.get(), record, end_, journal_path());
  } catch (...) {
    // Leave no partial record for the next append to follow (ENOSPC, EIO).
    if (::ftruncate(fd_.get(), static_cast<off_t>(end_)) != 0) failed_ = true;
    throw;
  }
  end_ += record.size();
  ++records_;
}

void JournalStore::commit(std::span<const Mutation> mutations) {
  if (failed_) throw StoreError("store " + dir_.string() + " failed earlier (a write or sync error); restart the daemon");
  // Apply to a copy first only to learn the resulting counter; cheap compared to a sync.
  std::optional<uint32_t> floor;
  bool sync_now = options_.durability == Durability::durable;
  if (options_.durability == Durability::batched) {
    uint32_t count = state_.sign_count;
    for (const Mutation& m : mutations) {
      if (auto* c = std::get_if<change::SetSignCount>(&m.change)) count = c->count;
    }
    if (count > counter_floor_.value_or(state_.sign_count)) {
      // Reserve ahead, durably, before the counter is used beyond the last reservation.
      const uint64_t reserved = uint64_t{count} + options_.counter_reserve;
      floor = static_cast<uint32_t>(std::min<uint64_t>(reserved, UINT32_MAX));
      sync_now = true;
    }
    if (security_critical(mutations)) sync_now = true;
  }
  append(journal::encode_batch(seq_ + 1, mutations, floor));
  ++seq_;
  ++pending_;
  if (floor) counter_floor_ = floor;
  if (sync_now || sync_due()) sync();
  for (const Mutation& m : mutations) apply(state_, m);
  maybe_compact();
}

bool JournalStore::sync_due() const {
  if (pending_ == 0) return false;
  return pending_ >= options_.batch_commits ||
         std::chrono::steady_clock::now() - last_sync_ >= options_.batch_interval;
}

void JournalStore::sync() {
  try {
    posix::fdatasync_or_throw(fd_.get(), journal_path());
  } catch (...) {
    // After a failed fdatasync the kernel may have dropped the dirty pages:
    // nothing written since the last good sync can be trusted (the "fsyncgate" lesson).
    failed_ = true;
    throw;
  }
  pending_ = 0;
  ++syncs_;
  last_sync_ = std::chrono::steady_clock::now();
}

void JournalStore::maybe_compact() {
  const uint64_t threshold = std::max<uint64_t>(options_.compact_min_bytes, options_.compact_ratio * snapshot_bytes_);
  if (end_ <= threshold) return;
  try {
    compact();
  } catch (const StoreError& e) {
    // The commit itself is durable; the journal just stays long. Try again after
    // it has grown as much again, rather than on every commit.
    options_.warn(std::string("compaction failed: ") + e.what());
    snapshot_bytes_ = end_;
  }
}

void JournalStore::compact() {
  if (failed_) throw StoreError("store failed earlier; not compacting");
  const fs::path tmp = dir_ / "journal.compact";
  journal::Header h;
  Bytes file_id = new_file_id();
  Value::Map ext;
  ext[Value(kExtFileId)] = Value(file_id);
  std::optional<Sealer> sealer;
  if (sealer_) {
    sealer = sealer_->rebind(file_id);
    ext[Value(kExtSeal)] = sealer->header_entry();
    h.flags |= journal::kFlagSealed;
  }
  h.ext = Value(std::move(ext));
  Bytes out = journal::encode_header(h);
  for (Bytes& part : journal::encode_snapshot(state_, seq_, counter_floor_)) {
    vauth::append(out, journal::frame_record(sealer ? sealer->seal(part) : part));
  }
  posix::Fd fd = posix::open_file(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
  try {
    posix::pwrite_all(fd.get(), out, 0, tmp);
    posix::fsync_or_throw(fd.get(), tmp);
    // The rename is the commit point: before it the old journal is whole, after it the new one is.
    if (::rename(tmp.c_str(), journal_path().c_str()) != 0) throw StoreError("cannot rename " + tmp.string());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  fd_ = std::move(fd);
  if (sealer) sealer_ = std::move(sealer);
  end_ = out.size();
  snapshot_bytes_ = out.size();
  records_ = 0;
  pending_ = 0;  // the old journal's pending commits are in the fsynced snapshot
  ++compactions_;
  posix::fsync_dir(dir_);
}

JournalStore::Stats JournalStore::stats() const {
  return Stats{end_, snapshot_bytes_, records_, compactions_, syncs_, sealer_.has_value()};
}

}  // namespace vauth::store
