#include "vauth/ctap/presence.h"

namespace vauth::ctap {

const char* to_string(PresenceResult r) {
  switch (r) {
    case PresenceResult::Approved: return "approved";
    case PresenceResult::Denied: return "denied";
    case PresenceResult::TimedOut: return "timed-out";
    case PresenceResult::Cancelled: return "cancelled";
  }
  return "?";
}

ControlledPresence::~ControlledPresence() {
  if (timer_) timers_.cancel(*timer_);
}

void ControlledPresence::request(const PresenceRequest& req, Done done) {
  // A second request replaces a stale first one: the first is cancelled.
  finish(PresenceResult::Cancelled);
  last_request_ = req;
  ++request_count_;
  done_ = std::move(done);
  switch (mode_) {
    case Mode::Approve:
    case Mode::Deny: {
      const PresenceResult r = mode_ == Mode::Approve ? PresenceResult::Approved : PresenceResult::Denied;
      if (delay_.count() == 0) {
        finish(r);
      } else {
        timer_ = timers_.call_after(delay_, [this, r] { timer_.reset(); finish(r); });
      }
      break;
    }
    case Mode::Wait:
      if (timeout_.count() > 0) {
        timer_ = timers_.call_after(timeout_, [this] { timer_.reset(); finish(PresenceResult::TimedOut); });
      }
      break;
  }
}

bool ControlledPresence::finish(PresenceResult r) {
  if (!done_) return false;
  if (timer_) {
    timers_.cancel(*timer_);
    timer_.reset();
  }
  Done done = std::move(done_);
  done_ = nullptr;
  done(r);
  return true;
}

}  // namespace vauth::ctap
