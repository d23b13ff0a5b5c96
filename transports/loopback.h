// An in-process device: the CTAPHID engine with report queues instead of a kernel.
// Used by unit tests, by libfido2 through fido_dev_set_io_functions(), and by
// benchmarks. Single-threaded: read() runs the timer queue while it waits.
#pragma once

#include <deque>
#include <functional>
#include <optional>

#include "transports/ctaphid.h"

namespace vauth::transport {

class LoopbackDevice {
 public:
  // How read() lets time pass until `deadline`: sleep on a real clock (default),
  // or advance a ManualClock for virtual-time tests.
  using WaitUntil = std::function<void(TimePoint deadline)>;

  LoopbackDevice(ctap::MessageHandler& handler, TimerQueue& timers, CtaphidConfig config = {},
                 WaitUntil wait_until = {});

  // A 64-byte host → device report (shorter input is zero-padded, longer ignored).
  void write(ByteView report);
  // The next device → host report, running due timers while waiting at most
  // `timeout`. nullopt on timeout.
  std::optional<Report> read(Duration timeout);
  size_t queued() const { return out_.size(); }

  CtaphidEngine& engine() { return engine_; }

 private:
  TimerQueue& timers_;
  WaitUntil wait_until_;
  std::deque<Report> out_;
  CtaphidEngine engine_;
};

}  // namespace vauth::transport
