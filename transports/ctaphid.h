// The CTAPHID engine (CTAP 2.1 §11.2): 64-byte reports in, 64-byte reports out,
// whole messages to a ctap::MessageHandler. It frames and reassembles, allocates
// and multiplexes channels, sends keepalives, honours CANCEL and LOCK, and never
// knows what a CTAP command means. Backends (uhid, usbip, loopback) only move reports.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "vauth/base/bytes.h"
#include "vauth/base/timer_queue.h"
#include "vauth/ctap/message_handler.h"

namespace vauth::transport {

constexpr size_t kReportSize = 64;
using Report = std::array<uint8_t, kReportSize>;

// CTAPHID command bytes (without the 0x80 init-packet bit).
namespace ctaphid_cmd {
constexpr uint8_t kPing = 0x01, kMsg = 0x03, kLock = 0x04, kInit = 0x06, kWink = 0x08,
                  kCbor = 0x10, kCancel = 0x11, kKeepalive = 0x3b, kError = 0x3f;
}
// CTAPHID_ERROR codes.
namespace ctaphid_err {
constexpr uint8_t kInvalidCmd = 0x01, kInvalidPar = 0x02, kInvalidLen = 0x03, kInvalidSeq = 0x04,
                  kMsgTimeout = 0x05, kChannelBusy = 0x06, kLockRequired = 0x0a,
                  kInvalidChannel = 0x0b, kOther = 0x7f;
}
constexpr uint32_t kBroadcastCid = 0xffffffff;
constexpr size_t kInitPayload = kReportSize - 7;  // 57
constexpr size_t kContPayload = kReportSize - 5;  // 59
constexpr size_t kMaxMessageSize = kInitPayload + 128 * kContPayload;  // 7609

struct CtaphidConfig {
  // How long the engine waits for the next continuation packet before MSG_TIMEOUT.
  Duration continuation_timeout{500};
  Duration keepalive_interval{100};
  // CTAPHID_INIT response: protocol version 2 and the device version.
  uint8_t device_major = 0, device_minor = 1, device_build = 0;
  // Channels remembered at once; the least recently used is forgotten beyond this.
  size_t max_channels = 64;
};

class CtaphidEngine {
 public:
  using Send = std::function<void(const Report&)>;
  using CidSource = std::function<uint32_t()>;  // must not return 0 or 0xffffffff

  // `send` receives every output report in order. `next_cid` defaults to 1, 2, 3, ...
  CtaphidEngine(ctap::MessageHandler& handler, TimerQueue& timers, Send send,
                CtaphidConfig config = {}, CidSource next_cid = {});
  ~CtaphidEngine();
  CtaphidEngine(const CtaphidEngine&) = delete;
  CtaphidEngine& operator=(const CtaphidEngine&) = delete;

  // One output report from the host (the HID report ID already stripped).
  // Reports of another length are ignored (a backend bug, logged by the backend).
  void on_report(ByteView report);

  // The device was unplugged / the host went away: abort any transaction (the
  // handler is cancelled and its late reply dropped) and forget all channels.
  void reset();

  // True while a request is being reassembled or processed.
  bool busy() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vauth::transport
