#include "vauth/base/timer_queue.h"

namespace vauth {

TimerQueue::TimerId TimerQueue::call_at(TimePoint when, Callback fn) {
  TimerId id = next_id_++;
  timers_.emplace(Key{when, id}, std::move(fn));
  deadlines_.emplace(id, when);
  return id;
}

void TimerQueue::cancel(TimerId id) {
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return;
  timers_.erase(Key{it->second, id});
  deadlines_.erase(it);
}

std::optional<TimePoint> TimerQueue::next_deadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.when;
}

size_t TimerQueue::run_due() {
  size_t ran = 0;
  const TimePoint limit = now();
  while (!timers_.empty() && timers_.begin()->first.when <= limit) {
    auto node = timers_.extract(timers_.begin());
    deadlines_.erase(node.key().id);
    node.mapped()();
    ++ran;
  }
  return ran;
}

}  // namespace vauth
