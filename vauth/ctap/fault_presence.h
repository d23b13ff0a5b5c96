// A Presence decorator: the presence fault layer. For each prompt it asks the
// FaultPlan (layer "presence", command = the operation: "makeCredential",
// "getAssertion", "reset", "u2fRegister", ...) and, when a rule fires:
//   timeout[=MS]  the prompt times out (after MS ms; default at once);
//   deny          the user refuses;
//   approve=MS    the user touches after MS ms, whatever the normal policy says;
//   two-touches   the first touch is swallowed: the device asks again.
// Otherwise the prompt goes to the inner presence unchanged.
#pragma once

#include <optional>

#include "vauth/base/timer_queue.h"
#include "vauth/ctap/presence.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::ctap {

class FaultPresence final : public Presence {
 public:
  FaultPresence(Presence& inner, faults::FaultPlan& plan, TimerQueue& timers)
      : inner_(inner), plan_(plan), timers_(timers) {}
  ~FaultPresence() override;

  void request(const PresenceRequest& req, Done done) override;
  void cancel() override;

 private:
  void finish(PresenceResult r);

  Presence& inner_;
  faults::FaultPlan& plan_;
  TimerQueue& timers_;
  Done done_;  // a request this layer answers itself
  std::optional<TimerQueue::TimerId> timer_;
};

}  // namespace vauth::ctap
