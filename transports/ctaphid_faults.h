// The CTAPHID fault layer: a filter between the CTAPHID engine and the
// backend's input sink. It regroups the engine's output reports into messages
// (an init packet and the continuations its BCNT promises), asks the FaultPlan
// about each one (layer "ctaphid", command = the CTAPHID command of the message:
// init, ping, msg, cbor, wink, lock, keepalive, error; channel = its CID) and
// sends it on changed as the fired rules say:
//   drop[=I]        the whole message, or only its packet I (0 = init packet)
//   duplicate[=N]   the message N more times (keepalive: a flood)
//   reorder         continuation packets 0 and 1 swapped
//   corrupt[=I]     payload byte I inverted (default: the last one)
//   wrong-cid       every packet on another channel
//   wrong-seq       the first continuation packet numbered 1 instead of 0
//   truncate[=N]    BCNT cut to N bytes (default half) and the packets beyond dropped
//   error=CODE      a CTAPHID_ERROR with CODE instead of the message
//   init-nonce      an INIT response whose nonce is not the client's
//   delay=MS        the message (and everything after it, in order) held MS ms
//   pace=MS         every packet of the message MS ms after the one before it
// The engine knows nothing of this; with no ctaphid rules every report passes straight through.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "transports/ctaphid.h"
#include "vauth/base/timer_queue.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::transport {

class CtaphidFaultFilter {
 public:
  using Send = std::function<void(const Report&)>;
  CtaphidFaultFilter(faults::FaultPlan& plan, TimerQueue& timers, Send out);
  ~CtaphidFaultFilter();
  CtaphidFaultFilter(const CtaphidFaultFilter&) = delete;
  CtaphidFaultFilter& operator=(const CtaphidFaultFilter&) = delete;

  // One report from the engine.
  void send(const Report& report);
  // The device went away: forget partial and delayed messages.
  void reset();

 private:
  struct Held {
    TimePoint release;
    std::vector<Report> packets;
  };
  void on_message(std::vector<Report> packets);
  void emit(std::vector<Report> packets, Duration delay, Duration pace);
  void release_due();

  faults::FaultPlan& plan_;
  TimerQueue& timers_;
  Send out_;
  std::vector<Report> partial_;
  size_t partial_missing_ = 0;
  std::deque<Held> held_;
  std::optional<TimerQueue::TimerId> timer_;
};

// "init", "cbor", "keepalive", ... or "0x42": the names ctaphid rules match.
const char* ctaphid_command_name(uint8_t cmd);

}  // namespace vauth::transport
