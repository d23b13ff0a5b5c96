// CTAPHID framing (CTAP 2.1 §11.2.4): parsing one 64-byte report, splitting a
// message into reports, and reassembling a message from its packets. Pure value
// code with no timers or channels, so the engine only decides *what* happens.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "transports/ctaphid.h"

namespace vauth::transport::ctaphid {

constexpr uint8_t kInitBit = 0x80;

// One report, decoded. `data` views the report the packet was parsed from.
struct Packet {
  uint32_t cid = 0;
  bool is_init = false;
  uint8_t cmd = 0;    // init packets: the command without kInitBit
  uint8_t seq = 0;    // continuation packets: 0..0x7f
  size_t bcnt = 0;    // init packets: the whole message length (may exceed kMaxMessageSize)
  ByteView data;      // kInitPayload or kContPayload bytes, including any padding
};

Packet parse_packet(std::span<const uint8_t, kReportSize> report);

// Calls `emit` with the reports carrying `payload` (init packet, then
// continuations with SEQ 0, 1, ...), zero-padded. Requires
// payload.size() <= kMaxMessageSize.
void frame_message(uint32_t cid, uint8_t cmd, ByteView payload,
                   const std::function<void(const Report&)>& emit);

// A message being rebuilt from an init packet and its continuations.
class Reassembly {
 public:
  enum class Step { kIncomplete, kComplete, kBadSequence };

  // `total` is the init packet's BCNT (> kInitPayload, <= kMaxMessageSize);
  // `first` the init packet's data.
  Reassembly(uint32_t cid, uint8_t cmd, size_t total, ByteView first);

  // Appends a continuation packet's data. A SEQ other than the next expected
  // one leaves the message unusable (kBadSequence).
  Step add(uint8_t seq, ByteView data);

  uint32_t cid() const { return cid_; }
  uint8_t cmd() const { return cmd_; }
  bool complete() const { return payload_.size() == total_; }
  // The reassembled payload; only meaningful once complete().
  Bytes take_payload() { return std::move(payload_); }

 private:
  uint32_t cid_;
  uint8_t cmd_;
  size_t total_;
  uint8_t next_seq_ = 0;
  Bytes payload_;
};

}  // namespace vauth::transport::ctaphid
