// performBuiltInUv (CTAP 2.1 §6.5.2.x "uvRetries") with the simulated sensor.
#include "vauth/ctap/built_in_uv.h"

namespace vauth::ctap {

Status plan_built_in_uv(const Session& s, bool uv_option, bool& built_in) {
  built_in = false;
  if (uv_option) {
    if (!s.uv_configured()) return Status::InvalidOption;
    built_in = true;
    return Status::Ok;
  }
  if (s.always_uv()) {
    if (!s.uv_configured()) return Status::PuatRequired;
    built_in = true;
  }
  return Status::Ok;
}

bool make_cred_uv_not_required(const Session& s) {
  return s.profile.make_cred_uv_not_required && !s.always_uv();
}

void Session::verify_user(UvRequest req, std::function<void(Status)> then) {
  const uint8_t before = state().uv_retries;
  if (before == 0) return then(Status::UvBlocked);  // at once, without a reading: fall back to the PIN
  // The attempt is spent durably before the reading, so pulling the plug during
  // a wrong finger costs the attempt (like the PIN retry counter). It also
  // counts towards getInfo uvCountSinceLastPinEntry (CTAP 2.2), match or not.
  const uint32_t count = state().uv_count_since_pin_entry;
  store.commit(std::vector<store::Mutation>{
      store::Mutation{store::change::SetUvRetries{static_cast<uint8_t>(before - 1)}},
      store::Mutation{store::change::SetUvCountSincePinEntry{count == UINT32_MAX ? count : count + 1}}});
  read_sensor(std::move(req), [this, before, count, then = std::move(then)](UvResult r) {
    switch (r) {
      case UvResult::Match:
        store.commit(store::Mutation{store::change::SetUvRetries{profile.max_uv_retries}});
        return then(Status::Ok);
      case UvResult::NoMatch: return then(state().uv_retries == 0 ? Status::UvBlocked : Status::UvInvalid);
      case UvResult::TimedOut:
      case UvResult::Cancelled:
        // No finger was read: the attempt is given back.
        store.commit(std::vector<store::Mutation>{store::Mutation{store::change::SetUvRetries{before}},
                                                  store::Mutation{store::change::SetUvCountSincePinEntry{count}}});
        return then(r == UvResult::TimedOut ? Status::UserActionTimeout : Status::KeepaliveCancel);
    }
  });
}

void Session::read_sensor(UvRequest req, std::function<void(UvResult)> then) {
  waiting_for_user = true;
  waiting_for_uv = true;
  verifier.verify(req, [this, then = std::move(then)](UvResult r) {
    waiting_for_user = false;
    waiting_for_uv = false;
    if (closed) return;
    then(r);
  });
}

}  // namespace vauth::ctap
