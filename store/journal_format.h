// The journal's bytes: a header, then records.
//
//   header  = "VAUTHJ" | version u16 LE | flags u32 LE | ext_len u32 LE | ext (CBOR map)
//             | CRC-32C of everything before, u32 LE
//   record  = length u32 LE | CRC-32C(length bytes ‖ payload) u32 LE | payload
//   payload = a CBOR map {1: kind, ...} (see journal_records.h)
//
// The CRC covers the length too, so a flipped length bit is caught like any other.
// Records never span more than kMaxRecord bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vauth/base/bytes.h"
#include "vauth/cbor/value.h"

namespace vauth::store::journal {

inline constexpr char kMagic[6] = {'V', 'A', 'U', 'T', 'H', 'J'};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr uint32_t kFlagSealed = 1u << 0;
inline constexpr uint32_t kKnownFlags = kFlagSealed;
inline constexpr size_t kRecordHeader = 8;
inline constexpr uint32_t kMaxRecord = 64u << 20;
inline constexpr uint32_t kMaxHeaderExt = 64u << 10;

struct Header {
  uint16_t version = kFormatVersion;
  uint32_t flags = 0;
  cbor::Value ext = cbor::Value(cbor::Value::Map{});  // {1: file id, 2: seal parameters}
};

Bytes encode_header(const Header& h);
// Parses the header at the start of `file`; throws StoreError (wrong magic, newer
// version, unknown flags, damaged header). Returns the header and its length.
std::pair<Header, size_t> decode_header(ByteView file);

Bytes frame_record(ByteView payload);

struct RecordRef {
  uint64_t offset;  // of the record's length field
  ByteView payload;
};

struct ScanResult {
  std::vector<RecordRef> records;  // every valid record, in order
  uint64_t good_end = 0;           // end of the last valid record
  // Set when bytes after good_end are not a valid record and no valid record follows
  // them: an interrupted append, never acknowledged. The caller drops it.
  std::optional<uint64_t> torn_at;
};

// Walks the records from `start`. A bad record followed by a valid one is damage
// in the middle: throws StoreError with the bad record's offset.
ScanResult scan_records(ByteView file, size_t start);

}  // namespace vauth::store::journal
