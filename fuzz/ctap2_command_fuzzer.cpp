// Whole CTAP2 commands into the authenticator: the first byte is the command,
// the rest its CBOR parameters. The authenticator must answer every input
// exactly once, with a status byte, and never crash. Presence approves at once
// (so command paths run to the end); the store is in memory.
#include <cstdint>
#include <cstdlib>

#include "fuzz/fuzz_authenticator.h"

using namespace vauth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::FuzzAuthenticator key(1);
  ctap::Authenticator& authenticator = key.authenticator;
  const store::MemoryStore& store = key.store;

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
