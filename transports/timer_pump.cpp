#include "transports/timer_pump.h"

namespace vauth::transport {

void TimerPump::kick() {
  timers_.run_due();
  arm();
}

void TimerPump::arm() {
  const auto next = timers_.next_deadline();
  if (next == armed_for_) return;
  armed_for_ = next;
  if (!next) {
    timer_.cancel();
    return;
  }
  // TimerQueue's TimePoint is steady_clock-based when driven for real (SteadyClock).
  timer_.expires_at(std::chrono::steady_clock::time_point(next->time_since_epoch()));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    armed_for_.reset();
    kick();
  });
}

}  // namespace vauth::transport
