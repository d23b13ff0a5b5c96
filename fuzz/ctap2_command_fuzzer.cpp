// Whole CTAP2 commands into the authenticator: the first byte is the command,
// the rest its CBOR parameters. The authenticator must answer every input
// exactly once, with a status byte, and never crash. Presence approves at once
// (so command paths run to the end); the store is in memory.
#include <cstdint>
#include <cstdlib>

#include "store/store.h"
#include "vauth/base/timer_queue.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/authenticator.h"

using namespace vauth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ManualClock clock;
  static TimerQueue timers(clock);
  static store::MemoryStore store;
  static crypto::SeededRng rng(1);
  static ctap::AutoPresence presence;
  static ctap::Authenticator authenticator(ctap::Environment{store, rng, timers, presence, ctap::Profile{}});

  int replies = 0;
  authenticator.handle_cbor(ByteView(data, size), [&replies](Bytes response) {
    ++replies;
    if (response.empty()) __builtin_trap();
  });
  if (replies != 1) __builtin_trap();
  // Keep the store small across runs so the fuzzer stays fast.
  if (store.state().credentials.size() > 64) authenticator.handle_cbor(Bytes{0x07}, [](Bytes) {});
  return 0;
}
