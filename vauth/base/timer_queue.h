// Timers for a single-threaded core. Layers schedule callbacks here instead of
// owning threads or event loops; whoever drives the device (the daemon's Asio loop,
// a test, the in-process loopback) calls run_due() when next_deadline() is reached.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "vauth/base/clock.h"

namespace vauth {

class TimerQueue {
 public:
  using TimerId = uint64_t;
  using Callback = std::function<void()>;

  explicit TimerQueue(const Clock& clock) : clock_(clock) {}

  const Clock& clock() const { return clock_; }
  TimePoint now() const { return clock_.now(); }

  TimerId call_at(TimePoint when, Callback fn);
  TimerId call_after(Duration delay, Callback fn) { return call_at(now() + delay, std::move(fn)); }
  // Cancelling an id that already fired or was cancelled is a no-op.
  void cancel(TimerId id);

  std::optional<TimePoint> next_deadline() const;
  // Runs every callback whose deadline is <= now(), in deadline order (FIFO for
  // equal deadlines). Callbacks may schedule or cancel timers. Returns how many ran.
  size_t run_due();
  bool empty() const { return timers_.empty(); }

 private:
  struct Key {
    TimePoint when;
    TimerId id;
    bool operator<(const Key& o) const { return when != o.when ? when < o.when : id < o.id; }
  };
  const Clock& clock_;
  TimerId next_id_ = 1;
  std::map<Key, Callback> timers_;
  std::map<TimerId, TimePoint> deadlines_;
};

}  // namespace vauth
