#include "transports/ctaphid_packet.h"

#include <algorithm>

namespace vauth::transport::ctaphid {
namespace {

constexpr size_t kCidSize = 4;
constexpr size_t kInitHeader = kCidSize + 3;  // CID | CMD | BCNTH | BCNTL
constexpr size_t kContHeader = kCidSize + 1;  // CID | SEQ

void put_cid(Report& r, uint32_t cid) {
  for (size_t i = 0; i < kCidSize; ++i) r[i] = static_cast<uint8_t>(cid >> (24 - 8 * i));
}

}  // namespace

Packet parse_packet(std::span<const uint8_t, kReportSize> report) {
  Packet p;
  p.cid = get_u32_be(report.data());
  const uint8_t type = report[kCidSize];
  p.is_init = (type & kInitBit) != 0;
  if (p.is_init) {
    p.cmd = type & ~kInitBit;
    p.bcnt = get_u16_be(report.data() + kCidSize + 1);
    p.data = report.subspan(kInitHeader);
  } else {
    p.seq = type;
    p.data = report.subspan(kContHeader);
  }
  return p;
}

void frame_message(uint32_t cid, uint8_t cmd, ByteView payload,
                   const std::function<void(const Report&)>& emit) {
  Report r{};
  put_cid(r, cid);
  r[kCidSize] = cmd | kInitBit;
  r[kCidSize + 1] = static_cast<uint8_t>(payload.size() >> 8);
  r[kCidSize + 2] = static_cast<uint8_t>(payload.size());
  size_t chunk = std::min(payload.size(), kInitPayload);
  std::copy_n(payload.begin(), chunk, r.begin() + kInitHeader);
  emit(r);

  size_t offset = chunk;
  for (uint8_t seq = 0; offset < payload.size(); ++seq) {
    r.fill(0);
    put_cid(r, cid);
    r[kCidSize] = seq;
    chunk = std::min(payload.size() - offset, kContPayload);
    std::copy_n(payload.begin() + offset, chunk, r.begin() + kContHeader);
    emit(r);
    offset += chunk;
  }
}

Reassembly::Reassembly(uint32_t cid, uint8_t cmd, size_t total, ByteView first)
    : cid_(cid), cmd_(cmd), total_(std::min(total, kMaxMessageSize)) {
  payload_.reserve(total_);
  append(payload_, first.first(std::min(first.size(), total_)));
}

Reassembly::Step Reassembly::add(uint8_t seq, ByteView data) {
  // SEQ is 7 bits, so at most 128 continuations: exactly what kMaxMessageSize
  // allows; a 129th packet can never be "next", so the buffer stays bounded.
  if (complete() || seq != next_seq_) return Step::kBadSequence;
  ++next_seq_;
  const size_t wanted = total_ - payload_.size();
  append(payload_, data.first(std::min(data.size(), wanted)));
  return complete() ? Step::kComplete : Step::kIncomplete;
}

}  // namespace vauth::transport::ctaphid
