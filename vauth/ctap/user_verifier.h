// Built-in user verification (a simulated fingerprint sensor) is injected like
// Presence: the authenticator asks for one reading; a policy (match, no match)
// or something outside (a test, the control API) answers. A finger on a
// fingerprint sensor is also a touch, so a match proves user presence too.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "vauth/base/clock.h"
#include "vauth/base/timer_queue.h"

namespace vauth::ctap {

enum class UvResult { Match, NoMatch, TimedOut, Cancelled };
const char* to_string(UvResult r);

struct UvRequest {
  std::string operation;  // "makeCredential", "getAssertion", "getPinUvAuthToken", "enrollSample", ...
  std::string rp_id;      // empty when not tied to an RP
};

class UserVerifier {
 public:
  using Done = std::function<void(UvResult)>;
  virtual ~UserVerifier() = default;
  // One reading of the sensor. At most one is outstanding; `done` is called
  // exactly once, possibly before verify() returns.
  virtual void verify(const UvRequest& req, Done done) = 0;
  // Ends the outstanding reading with UvResult::Cancelled. No-op when idle.
  virtual void cancel() = 0;
};

// The sensor's behaviour, switchable at run time (vauthd --uv, the control API):
//   Match   — every reading matches an enrolled finger (the W3C automation
//             "isUserVerified: true");
//   NoMatch — every reading fails ("isUserVerified: false");
//   Wait    — hold the reading until match()/no_match() is called or `timeout`
//             passes (TimedOut). A timeout of 0 waits forever.
class ControlledUserVerifier final : public UserVerifier {
 public:
  enum class Mode { Match, NoMatch, Wait };

  explicit ControlledUserVerifier(TimerQueue& timers, Mode mode = Mode::Match) : timers_(timers), mode_(mode) {}
  ~ControlledUserVerifier() override;

  void set_mode(Mode m) { mode_ = m; }
  Mode mode() const { return mode_; }
  void set_timeout(Duration d) { timeout_ = d; }
  Duration timeout() const { return timeout_; }

  void verify(const UvRequest& req, Done done) override;
  void cancel() override { finish(UvResult::Cancelled); }

  // Completes the outstanding reading; false if none is outstanding.
  bool match() { return finish(UvResult::Match); }
  bool no_match() { return finish(UvResult::NoMatch); }

  bool pending() const { return static_cast<bool>(done_); }
  const std::optional<UvRequest>& last_request() const { return last_request_; }
  size_t request_count() const { return request_count_; }

 private:
  bool finish(UvResult r);

  TimerQueue& timers_;
  Mode mode_;
  Duration timeout_{0};
  Done done_;
  std::optional<TimerQueue::TimerId> timer_;
  std::optional<UvRequest> last_request_;
  size_t request_count_ = 0;
};

}  // namespace vauth::ctap
