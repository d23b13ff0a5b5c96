// CTAP1/U2F APDUs into the authenticator: every input gets exactly one answer
// ending in a status word, and nothing crashes.
#include <cstdint>

#include "fuzz/fuzz_authenticator.h"
#include "vauth/ctap/apdu.h"

using namespace vauth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::FuzzAuthenticator key(2);
  ctap::Authenticator& authenticator = key.authenticator;

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
