// One authenticator in this process, reached through the in-process CTAPHID
// transport (transports/loopback): the whole stack below the kernel, with an
// in-memory store and presence that approves at once (what CI uses).
#pragma once

#include <memory>
#include <string>

#include "bench/report_pipe.h"
#include "store/store.h"
#include "vauth/base/timer_queue.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/authenticator.h"

namespace vauth::bench {

struct InprocDevice {
  explicit InprocDevice(uint64_t seed, const std::string& pin = {});

  // Adds `count` discoverable ES256 credentials in batches of store mutations
  // (not makeCredential): ~10 per RP, named "rp<k>.bench.example", random keys
  // and IDs. Returns the RP that the credential number `count - 1` belongs to.
  std::string provision_resident(size_t count);

  SteadyClock clock;
  TimerQueue timers{clock};
  store::MemoryStore store;
  crypto::SeededRng rng;
  ctap::AutoPresence presence;
  std::unique_ptr<ctap::Authenticator> authenticator;
  std::unique_ptr<transport::LoopbackDevice> device;
  std::unique_ptr<LoopbackPipe> pipe;
};

}  // namespace vauth::bench
