#include "vauth/ctap/fault_presence.h"

namespace vauth::ctap {

FaultPresence::~FaultPresence() {
  if (timer_) timers_.cancel(*timer_);
}

void FaultPresence::request(const PresenceRequest& req, Done done) {
  std::vector<faults::Fired> fired;
  if (plan_.has_rules(faults::Layer::Presence)) {
    faults::Call call;
    call.command = req.operation;
    fired = plan_.consult(faults::Layer::Presence, call);
  }
  if (fired.empty()) return inner_.request(req, std::move(done));
  const faults::Fired& f = fired.front();
  if (f.action == faults::Action::TwoTouches) {
    // The first answer, if it is a touch, is ignored and the prompt repeated.
    return inner_.request(req, [this, req, done = std::move(done)](PresenceResult first) mutable {
      if (first != PresenceResult::Approved) return done(first);
      inner_.request(req, std::move(done));
    });
  }
  PresenceResult result = PresenceResult::Approved;
  if (f.action == faults::Action::Timeout) result = PresenceResult::TimedOut;
  if (f.action == faults::Action::Deny) result = PresenceResult::Denied;
  const Duration after(f.value.value_or(0));
  done_ = std::move(done);
  if (after.count() == 0) return finish(result);
  timer_ = timers_.call_after(after, [this, result] {
    timer_.reset();
    finish(result);
  });
}

void FaultPresence::cancel() {
  if (done_) return finish(PresenceResult::Cancelled);
  inner_.cancel();
}

void FaultPresence::finish(PresenceResult r) {
  if (timer_) {
    timers_.cancel(*timer_);
    timer_.reset();
  }
  if (!done_) return;
  Done done = std::move(done_);
  done_ = nullptr;
  done(r);
}

}  // namespace vauth::ctap
