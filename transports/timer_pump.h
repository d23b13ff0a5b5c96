// Drives a TimerQueue from a Boost.Asio io_context: one steady_timer always set
// to the queue's next deadline. Call kick() after anything that may have
// scheduled or cancelled timers (e.g. after feeding a report to the engine).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "vauth/base/timer_queue.h"

namespace vauth::transport {

class TimerPump {
 public:
  TimerPump(boost::asio::io_context& io, TimerQueue& timers) : timer_(io), timers_(timers) {}
  // Runs what is due and re-arms the Asio timer for the next deadline.
  void kick();

 private:
  void arm();
  boost::asio::steady_timer timer_;
  TimerQueue& timers_;
  std::optional<TimePoint> armed_for_;
};

}  // namespace vauth::transport
