// A ctap::Presence decorator in front of the device's ControlledPresence: it
// reports every prompt and its result on the event bus, remembers the request
// that is waiting (the control API shows it and completes it), and lets the
// FIDO conformance hook press the button just before the prompt arrives.
#pragma once

#include <optional>

#include "vauth/base/timer_queue.h"
#include "vauth/ctap/presence.h"
#include "vauth/daemon/event_bus.h"

namespace vauth::daemon {

class PresenceTracer final : public ctap::Presence {
 public:
  struct Pending {
    uint64_t id = 0;
    ctap::PresenceRequest request;
    TimePoint since;
  };

  PresenceTracer(ctap::ControlledPresence& inner, TimerQueue& timers, EventBus* events, size_t device)
      : inner_(inner), timers_(timers), events_(events), device_(device) {}

  void request(const ctap::PresenceRequest& req, Done done) override;
  void cancel() override { inner_.cancel(); }

  // The request waiting for the user, if any (in any mode: an `auto` prompt with a delay waits too).
  const std::optional<Pending>& pending() const { return pending_; }
  // Ends the waiting request; false if none waits.
  bool approve() { return inner_.approve(); }
  bool deny() { return inner_.deny(); }
  // The conformance tool may press before the authenticator asks: the next
  // request within `window` is approved as soon as it arrives.
  void arm_touch(Duration window);

 private:
  ctap::ControlledPresence& inner_;
  TimerQueue& timers_;
  EventBus* events_;
  size_t device_;
  std::optional<Pending> pending_;
  uint64_t next_id_ = 1;
  std::optional<TimePoint> armed_until_;
};

const char* to_string(ctap::ControlledPresence::Mode mode);  // "auto", "deny", "manual"

}  // namespace vauth::daemon
