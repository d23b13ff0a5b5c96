// authenticatorReset (CTAP 2.0 §5.6): forget every credential, the PIN, the large-blob
// array, the enrolled fingers and what authenticatorConfig set.
#include "vauth/ctap/commands.h"

namespace vauth::ctap {

void reset(Session& s, Done done) {
  if (s.profile.reset_window.count() > 0 && s.timers.now() - s.powered_up > s.profile.reset_window) {
    return done(error(Status::NotAllowed));
  }
  s.request_presence({"reset", ""}, [&s, done](Status st) {
    if (st != Status::Ok) return done(error(st));
    // A new master secret makes every non-discoverable credential ID ever issued
    // unusable, not just the stored ones.
    s.store.commit(store::Mutation{store::change::Reset{s.rng.bytes(32)}});
    s.pin.consecutive_failures = 0;
    s.pending_assertions.reset();
    s.enumeration.reset();
    s.large_blob_write = {};
    s.enrollment.reset();
    s.regenerate_key_agreement();
    revoke_pin_uv_auth_token(s);
    done(Response{});
  });
}

}  // namespace vauth::ctap
