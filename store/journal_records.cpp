#include "store/journal_records.h"

#include <limits>
#include <string>

#include "store/codec.h"
#include "store/snapshot_reader.h"
#include "store/store_error.h"
#include "vauth/cbor/codec.h"

namespace vauth::store::journal {

namespace {

using cbor::Value;
enum Kind : uint64_t { kBatch = 1, kSnapshot = 2, kSealed = 3 };

// Records are written by us, so these limits only bound what a damaged or hostile
// file can make the decoder do; a 64 MiB record has at most ~64 Mi items anyway.
const cbor::Limits kLimits{8, size_t{1} << 26};

[[noreturn]] void bad(const std::string& what) { throw StoreError("malformed record: " + what); }

uint64_t get_uint(const Value& m, int key, const char* what, uint64_t max = std::numeric_limits<uint64_t>::max()) {
  const Value* v = m.find(Value(key));
  if (!v || !v->is_unsigned() || v->as_unsigned() > max) bad(std::string(what) + " missing or out of range");
  return v->as_unsigned();
}

std::optional<uint32_t> get_floor(const Value& m, int key) {
  if (!m.find(Value(key))) return std::nullopt;
  return static_cast<uint32_t>(get_uint(m, key, "counter floor", std::numeric_limits<uint32_t>::max()));
}

const Value::Array& get_array(const Value& m, int key, const char* what) {
  const Value* v = m.find(Value(key));
  if (!v) {
    static const Value::Array kEmpty;
    return kEmpty;
  }
  if (!v->is_array()) bad(std::string(what) + " is not an array");
  return v->as_array();
}

}  // namespace

Bytes encode_batch(uint64_t seq, std::span<const Mutation> mutations, std::optional<uint32_t> counter_floor) {
  Value::Array list;
  list.reserve(mutations.size());
  for (const Mutation& m : mutations) list.push_back(codec::encode(m));
  Value::Map m;
  m[Value(1)] = Value(uint64_t{kBatch});
  m[Value(2)] = Value(seq);
  m[Value(3)] = Value(std::move(list));
  if (counter_floor) m[Value(4)] = Value(*counter_floor);
  return cbor::encode(Value(std::move(m)));
}

std::vector<Bytes> encode_snapshot(const State& state, uint64_t seq, std::optional<uint32_t> counter_floor) {
  // Discoverable credentials first (ascending IDs: load_credential's fast path), then
  // the non-discoverable ones (their flag tells the loader which map they belong in).
  std::vector<const Credential*> all;
  all.reserve(state.credentials.size() + state.non_discoverable.size());
  for (const auto& [id, c] : state.credentials) all.push_back(&c);
  for (const auto& [id, c] : state.non_discoverable) all.push_back(&c);
  const size_t n = all.size();
  const size_t parts = n == 0 ? 1 : (n + kSnapshotChunk - 1) / kSnapshotChunk;
  std::vector<Bytes> out;
  out.reserve(parts);
  size_t next = 0;
  for (size_t part = 0; part < parts; ++part) {
    Value::Array creds;
    for (size_t k = 0; k < kSnapshotChunk && next < n; ++k, ++next) creds.push_back(codec::encode(*all[next]));
    Value::Map m;
    m[Value(1)] = Value(uint64_t{kSnapshot});
    m[Value(2)] = Value(seq);
    m[Value(3)] = Value(part);
    m[Value(4)] = Value(parts);
    if (part == 0) m[Value(5)] = codec::encode_scalars(state);
    m[Value(6)] = Value(std::move(creds));
    if (part == 0 && counter_floor) m[Value(7)] = Value(*counter_floor);
    out.push_back(cbor::encode(Value(std::move(m))));
  }
  return out;
}

Record decode_record(ByteView payload) {
  // Snapshot parts ({1: 2, ...}) are most of a large journal: try the fast reader first.
  if (payload.size() > 3 && payload[1] == 0x01 && payload[2] == kSnapshot) {
    if (auto s = fast_decode_snapshot(payload)) return std::move(*s);
  }
  auto decoded = cbor::decode(payload, kLimits);
  if (!decoded) bad(std::string("not valid CBOR (") + cbor::to_string(decoded.error()) + ")");
  const Value& v = *decoded;
  if (!v.is_map()) bad("not a map");
  const uint64_t kind = get_uint(v, 1, "record kind");
  switch (kind) {
    case kBatch: {
      BatchRecord b;
      b.seq = get_uint(v, 2, "batch seq");
      for (const Value& m : get_array(v, 3, "mutations")) b.mutations.push_back(codec::decode_mutation(m));
      b.counter_floor = get_floor(v, 4);
      return b;
    }
    case kSnapshot: {
      SnapshotRecord s;
      s.seq = get_uint(v, 2, "snapshot seq");
      s.index = get_uint(v, 3, "snapshot part index");
      s.count = get_uint(v, 4, "snapshot part count");
      if (s.count == 0 || s.index >= s.count) bad("snapshot part index/count inconsistent");
      if (s.index == 0) {
        const Value* scalars = v.find(Value(5));
        if (!scalars) bad("snapshot part 0 has no state");
        State st;
        codec::decode_scalars(*scalars, st);
        s.scalars = std::move(st);
        s.counter_floor = get_floor(v, 7);
      }
      for (const Value& c : get_array(v, 6, "credentials")) s.credentials.push_back(codec::decode_credential(c));
      return s;
    }
    case kSealed: {
      const Value* nonce = v.find(Value(2));
      const Value* ct = v.find(Value(3));
      if (!nonce || !ct || !nonce->is_bytes() || !ct->is_bytes()) bad("sealed record without nonce/ciphertext");
      return SealedRecord{nonce->as_bytes(), ct->as_bytes()};
    }
    default:
      bad("unknown record kind " + std::to_string(kind) + " (written by a newer vauth?)");
  }
}

}  // namespace vauth::store::journal
