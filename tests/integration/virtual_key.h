// An in-process vauth key for integration tests: a real Authenticator behind the
// real CTAPHID engine, reachable by libfido2 through fido_dev_set_io_functions()
// as if it were /dev/hidrawN. Real time (libfido2 passes real timeouts).
#pragma once

#include <map>
#include <string>

#include "store/store.h"
#include "transports/loopback.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/authenticator.h"
#include "vauth/ctap/user_verifier.h"

namespace vauth::test {

struct VirtualKey {
  explicit VirtualKey(ctap::Profile profile = {}, uint64_t seed = 42)
      : rng(seed),
        presence(timers),
        uv(timers),
        authenticator(ctap::Environment{store, rng, timers, presence, std::move(profile), &uv}),
        device(authenticator, timers) {}

  SteadyClock clock;
  TimerQueue timers{clock};
  store::MemoryStore store;
  crypto::SeededRng rng;
  ctap::ControlledPresence presence;
  ctap::ControlledUserVerifier uv;  // the fingerprint sensor
  ctap::Authenticator authenticator;
  transport::LoopbackDevice device;
};

}  // namespace vauth::test
