#include "store/journal_format.h"

#include <cstring>
#include <string>

#include "store/crc32c.h"
#include "store/store_error.h"
#include "vauth/cbor/codec.h"

namespace vauth::store::journal {

namespace {

void put_u16_le(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put_u32_le(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint16_t get_u16_le(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get_u32_le(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

constexpr size_t kFixedHeader = sizeof kMagic + 2 + 4 + 4;

// Every payload starts with the CBOR head of a small map and the key 1 (the kind):
// a cheap test that rules out almost every offset before a CRC is computed, so
// the search for a valid record after a bad one stays linear.
bool plausible_payload(const uint8_t* p, size_t n) {
  return n >= 3 && p[0] >= 0xa1 && p[0] <= 0xb7 && p[1] == 0x01 && p[2] >= 0x01 && p[2] <= 0x17;
}

// The length of the valid record at `pos`, if there is one.
std::optional<size_t> valid_record_at(ByteView file, size_t pos) {
  if (file.size() - pos < kRecordHeader) return std::nullopt;
  const uint8_t* p = file.data() + pos;
  const uint32_t len = get_u32_le(p);
  if (len > kMaxRecord || len > file.size() - pos - kRecordHeader) return std::nullopt;
  if (!plausible_payload(p + kRecordHeader, len)) return std::nullopt;
  const uint32_t crc = crc32c(ByteView(p + kRecordHeader, len), crc32c(ByteView(p, 4)));
  if (crc != get_u32_le(p + 4)) return std::nullopt;
  return kRecordHeader + len;
}

}  // namespace

Bytes encode_header(const Header& h) {
  Bytes ext = cbor::encode(h.ext);
  Bytes out(kMagic, kMagic + sizeof kMagic);
  put_u16_le(out, h.version);
  put_u32_le(out, h.flags);
  put_u32_le(out, static_cast<uint32_t>(ext.size()));
  append(out, ext);
  put_u32_le(out, crc32c(out));
  return out;
}

std::pair<Header, size_t> decode_header(ByteView file) {
  if (file.size() < sizeof kMagic || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) {
    throw StoreError("not a vauth journal (wrong magic; expected \"VAUTHJ\")", 0);
  }
  if (file.size() < kFixedHeader) throw StoreError("journal header is truncated", 0);
  Header h;
  h.version = get_u16_le(file.data() + 6);
  // Checked before the CRC: a newer format may lay its header out differently.
  if (h.version > kFormatVersion) {
    throw StoreError("journal format version " + std::to_string(h.version) + " is newer than this vauth reads (" +
                         std::to_string(kFormatVersion) + "); use a newer vauth",
                     6);
  }
  if (h.version == 0) throw StoreError("journal format version 0 is invalid", 6);
  h.flags = get_u32_le(file.data() + 8);
  const uint32_t ext_len = get_u32_le(file.data() + 12);
  if (ext_len > kMaxHeaderExt || file.size() < kFixedHeader + ext_len + 4) {
    throw StoreError("journal header is truncated or damaged", 0);
  }
  const size_t end = kFixedHeader + ext_len;
  if (crc32c(file.first(end)) != get_u32_le(file.data() + end)) {
    throw StoreError("journal header fails its CRC (damaged)", 0);
  }
  if (h.flags & ~kKnownFlags) {
    throw StoreError("journal uses unknown feature flags 0x" + to_hex(Bytes{static_cast<uint8_t>(h.flags >> 24),
                                                                            static_cast<uint8_t>(h.flags >> 16),
                                                                            static_cast<uint8_t>(h.flags >> 8),
                                                                            static_cast<uint8_t>(h.flags)}) +
                         "; use a newer vauth",
                     8);
  }
  auto ext = cbor::decode(file.subspan(kFixedHeader, ext_len), cbor::Limits{8, 1024});
  if (!ext || !ext->is_map()) throw StoreError("journal header extension is not a CBOR map", kFixedHeader);
  h.ext = std::move(*ext);
  return {std::move(h), end + 4};
}

Bytes frame_record(ByteView payload) {
  if (payload.size() > kMaxRecord) throw StoreError("record of " + std::to_string(payload.size()) + " bytes is too large");
  Bytes out;
  out.reserve(kRecordHeader + payload.size());
  put_u32_le(out, static_cast<uint32_t>(payload.size()));
  const uint32_t crc = crc32c(payload, crc32c(ByteView(out.data(), 4)));
  put_u32_le(out, crc);
  append(out, payload);
  return out;
}

ScanResult scan_records(ByteView file, size_t start) {
  ScanResult r;
  size_t pos = start;
  while (pos < file.size()) {
    if (auto len = valid_record_at(file, pos)) {
      r.records.push_back({pos, file.subspan(pos + kRecordHeader, *len - kRecordHeader)});
      pos += *len;
      continue;
    }
    // A bad record. If any valid record follows, acknowledged data lies beyond
    // the damage: refuse rather than drop it.
    // The payload prefilter keeps this linear on real files; the budget keeps a
    // hostile file (many plausible headers with long bogus lengths) from making
    // it quadratic. Out of budget, we refuse: dropping could lose acknowledged data.
    uint64_t budget = (uint64_t{64} << 20) + 4 * uint64_t{file.size()};
    for (size_t q = pos + 1; q + kRecordHeader < file.size(); ++q) {
      if (file.size() - q >= kRecordHeader + 3 && plausible_payload(file.data() + q + kRecordHeader, 3)) {
        const uint64_t len = get_u32_le(file.data() + q);
        if (len <= file.size() - q - kRecordHeader) {
          if (budget < len) {
            throw StoreError("journal is damaged at byte offset " + std::to_string(pos) +
                                 " and what follows cannot be checked cheaply; refusing to drop it",
                             pos);
          }
          budget -= len;
        }
      }
      if (valid_record_at(file, q)) {
        throw StoreError("journal is damaged at byte offset " + std::to_string(pos) +
                             " (a record there fails its check, yet a valid record follows at offset " +
                             std::to_string(q) + "); refusing to drop acknowledged data. Keep a copy of the file and "
                             "see docs/store.md",
                         pos);
      }
    }
    r.torn_at = pos;
    break;
  }
  r.good_end = pos;
  return r;
}

}  // namespace vauth::store::journal
