// CTAP1/U2F APDUs into the authenticator: every input gets exactly one answer
// ending in a status word, and nothing crashes.
#include <cstdint>

#include "store/store.h"
#include "vauth/base/timer_queue.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/apdu.h"
#include "vauth/ctap/authenticator.h"

using namespace vauth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ManualClock clock;
  static TimerQueue timers(clock);
  static store::MemoryStore store;
  static crypto::SeededRng rng(2);
  static ctap::AutoPresence presence;
  static ctap::Authenticator authenticator(ctap::Environment{store, rng, timers, presence, ctap::Profile{}});

  auto apdu = ctap::parse_apdu(ByteView(data, size));
  if (apdu && apdu->data.size() > size) __builtin_trap();

  int replies = 0;
  authenticator.handle_msg(ByteView(data, size), [&replies](Bytes response) {
    ++replies;
    if (response.size() < 2) __builtin_trap();
  });
  if (replies != 1) __builtin_trap();
  return 0;
}
