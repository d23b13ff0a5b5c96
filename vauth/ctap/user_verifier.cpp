#include "vauth/ctap/user_verifier.h"

namespace vauth::ctap {

const char* to_string(UvResult r) {
  switch (r) {
    case UvResult::Match: return "match";
    case UvResult::NoMatch: return "no-match";
    case UvResult::TimedOut: return "timed-out";
    case UvResult::Cancelled: return "cancelled";
  }
  return "?";
}

ControlledUserVerifier::~ControlledUserVerifier() {
  if (timer_) timers_.cancel(*timer_);
}

void ControlledUserVerifier::verify(const UvRequest& req, Done done) {
  finish(UvResult::Cancelled);  // a stale reading gives way to the new one
  last_request_ = req;
  ++request_count_;
  done_ = std::move(done);
  switch (mode_) {
    case Mode::Match: finish(UvResult::Match); break;
    case Mode::NoMatch: finish(UvResult::NoMatch); break;
    case Mode::Wait:
      if (timeout_.count() > 0) {
        timer_ = timers_.call_after(timeout_, [this] {
          timer_.reset();
          finish(UvResult::TimedOut);
        });
      }
      break;
  }
}

bool ControlledUserVerifier::finish(UvResult r) {
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
