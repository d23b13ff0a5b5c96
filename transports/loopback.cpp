#include "transports/loopback.h"

#include <algorithm>
#include <thread>

namespace vauth::transport {
namespace {

// TimePoint is a steady_clock time point, so the real wait is a plain sleep.
void sleep_until(TimePoint deadline) { std::this_thread::sleep_until(deadline); }

}  // namespace

LoopbackDevice::LoopbackDevice(ctap::MessageHandler& handler, TimerQueue& timers,
                               CtaphidConfig config, WaitUntil wait_until)
    : timers_(timers),
      wait_until_(wait_until ? std::move(wait_until) : WaitUntil(sleep_until)),
      engine_(handler, timers, [this](const Report& r) { out_.push_back(r); }, config) {}

void LoopbackDevice::write(ByteView report) {
  if (report.size() > kReportSize) return;
  Report padded{};
  std::copy(report.begin(), report.end(), padded.begin());
  engine_.on_report(padded);
}

std::optional<Report> LoopbackDevice::read(Duration timeout) {
  const TimePoint give_up = timers_.now() + timeout;
  for (;;) {
    if (!out_.empty()) {
      Report r = out_.front();
      out_.pop_front();
      return r;
    }
    const TimePoint now = timers_.now();
    const std::optional<TimePoint> next = timers_.next_deadline();
    const bool timer_due = next && *next <= now;
    if (!timer_due) {
      if (now >= give_up) return std::nullopt;
      wait_until_(next ? std::min(*next, give_up) : give_up);
    }
    timers_.run_due();
  }
}

}  // namespace vauth::transport
