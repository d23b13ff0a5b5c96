// The payloads of journal records (CBOR maps, integer keys, unknown keys ignored):
//
//   Batch     {1: 1, 2: seq, 3: [mutation, ...], 4: counter floor?}
//             one commit(): applied entirely or (torn) not at all.
//   Snapshot  {1: 2, 2: seq, 3: part index, 4: part count, 5: state scalars (part 0),
//              6: [credential, ...], 7: counter floor?}
//             the full State as written by compaction, in parts of at most
//             kSnapshotChunk credentials so no one record (or decode) grows with the store.
//   Sealed    {1: 3, 2: nonce, 3: AES-256-GCM(one of the above)}
//
// `seq` numbers batches consecutively (a snapshot carries the seq of the last batch
// it includes), so a reordered or repeated record is damage, not history.
// The counter floor is the batched mode's durable reservation of sign counter values.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "store/state.h"
#include "vauth/base/bytes.h"

namespace vauth::store::journal {

inline constexpr size_t kSnapshotChunk = 1024;

struct BatchRecord {
  uint64_t seq = 0;
  std::vector<Mutation> mutations;
  std::optional<uint32_t> counter_floor;
};

struct SnapshotRecord {
  uint64_t seq = 0;
  uint64_t index = 0;
  uint64_t count = 1;
  std::optional<State> scalars;  // part 0 only; its credentials are empty
  std::vector<Credential> credentials;
  std::optional<uint32_t> counter_floor;
};

struct SealedRecord {
  Bytes nonce;
  Bytes ciphertext;
};

using Record = std::variant<BatchRecord, SnapshotRecord, SealedRecord>;

Bytes encode_batch(uint64_t seq, std::span<const Mutation> mutations, std::optional<uint32_t> counter_floor);
// The snapshot of `state` as the payloads of its parts.
std::vector<Bytes> encode_snapshot(const State& state, uint64_t seq, std::optional<uint32_t> counter_floor);
// Throws StoreError (without offset) if the payload is not a record this build understands.
Record decode_record(ByteView payload);

}  // namespace vauth::store::journal
