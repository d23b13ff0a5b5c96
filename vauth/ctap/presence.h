// User presence ("touch the key") is injected. The authenticator asks; the
// answer comes now or later from a policy (auto-approve, deny) or from outside
// (a test, the control API).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "vauth/base/clock.h"
#include "vauth/base/timer_queue.h"

namespace vauth::ctap {

enum class PresenceResult { Approved, Denied, TimedOut, Cancelled };
const char* to_string(PresenceResult r);

struct PresenceRequest {
  std::string operation;  // "makeCredential", "getAssertion", "reset", "selection", "u2fRegister", ...
  std::string rp_id;      // empty when not tied to an RP
};

class Presence {
 public:
  using Done = std::function<void(PresenceResult)>;
  virtual ~Presence() = default;
  // At most one request is outstanding. `done` is called exactly once, possibly
  // before request() returns.
  virtual void request(const PresenceRequest& req, Done done) = 0;
  // Ends the outstanding request with PresenceResult::Cancelled. No-op when idle.
  virtual void cancel() = 0;
};

// Approves every request at once: the CI default.
class AutoPresence final : public Presence {
 public:
  void request(const PresenceRequest&, Done done) override { done(PresenceResult::Approved); }
  void cancel() override {}
};

// A presence policy with a switchable mode, used by tests and the daemon:
//   Approve — approve after `delay` (0 = at once);
//   Deny    — deny after `delay`;
//   Wait    — hold the request until approve()/deny() is called or `timeout` passes
//             (then TimedOut). A timeout of 0 waits forever.
class ControlledPresence final : public Presence {
 public:
  enum class Mode { Approve, Deny, Wait };

  explicit ControlledPresence(TimerQueue& timers, Mode mode = Mode::Approve)
      : timers_(timers), mode_(mode) {}
  ~ControlledPresence() override;

  void set_mode(Mode m) { mode_ = m; }
  Mode mode() const { return mode_; }
  void set_delay(Duration d) { delay_ = d; }
  void set_timeout(Duration d) { timeout_ = d; }

  void request(const PresenceRequest& req, Done done) override;
  void cancel() override { finish(PresenceResult::Cancelled); }

  // Completes the outstanding request; returns false if none is outstanding.
  bool approve() { return finish(PresenceResult::Approved); }
  bool deny() { return finish(PresenceResult::Denied); }

  bool pending() const { return static_cast<bool>(done_); }
  const std::optional<PresenceRequest>& last_request() const { return last_request_; }
  size_t request_count() const { return request_count_; }

 private:
  bool finish(PresenceResult r);

  TimerQueue& timers_;
  Mode mode_;
  Duration delay_{0};
  Duration timeout_{0};
  Done done_;
  std::optional<TimerQueue::TimerId> timer_;
  std::optional<PresenceRequest> last_request_;
  size_t request_count_ = 0;
};

}  // namespace vauth::ctap
