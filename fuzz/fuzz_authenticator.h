// The authenticator every command-level fuzz target drives: in-memory store,
// seeded RNG, manual clock, presence that approves at once (so command paths
// run to the end). One per fuzzer process, kept across inputs.
#pragma once

#include <cstdint>

#include "store/store.h"
#include "vauth/base/timer_queue.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/authenticator.h"

namespace vauth::fuzz {

struct FuzzAuthenticator {
  explicit FuzzAuthenticator(uint64_t seed)
      : rng(seed), authenticator(ctap::Environment{store, rng, timers, presence, ctap::Profile{}}) {}

  ManualClock clock;
  TimerQueue timers{clock};
  store::MemoryStore store;
  crypto::SeededRng rng;
  ctap::AutoPresence presence;
  ctap::Authenticator authenticator;
};

}  // namespace vauth::fuzz
