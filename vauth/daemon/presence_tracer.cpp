#include "vauth/daemon/presence_tracer.h"

#include <nlohmann/json.hpp>

namespace vauth::daemon {

const char* to_string(ctap::ControlledPresence::Mode mode) {
  switch (mode) {
    case ctap::ControlledPresence::Mode::Approve: return "auto";
    case ctap::ControlledPresence::Mode::Deny: return "deny";
    case ctap::ControlledPresence::Mode::Wait: return "manual";
  }
  return "?";
}

void PresenceTracer::request(const ctap::PresenceRequest& req, Done done) {
  const uint64_t id = next_id_++;
  // Recorded before asking: the inner policy may answer before request() returns.
  pending_ = Pending{id, req, timers_.now()};
  if (events_) {
    events_->publish("presence.prompt", {{"device", device_}, {"id", id}, {"operation", req.operation},
                                         {"rpId", req.rp_id}, {"mode", to_string(inner_.mode())}});
  }
  inner_.request(req, [this, id, done = std::move(done)](ctap::PresenceResult r) {
    if (pending_ && pending_->id == id) pending_.reset();
    if (events_) {
      events_->publish("presence.result", {{"device", device_}, {"id", id}, {"result", ctap::to_string(r)}});
    }
    done(r);
  });
  const bool armed = armed_until_ && timers_.now() <= *armed_until_;
  if (armed && pending_ && pending_->id == id) {
    armed_until_.reset();
    inner_.approve();
  }
}

void PresenceTracer::arm_touch(Duration window) { armed_until_ = timers_.now() + window; }

}  // namespace vauth::daemon
