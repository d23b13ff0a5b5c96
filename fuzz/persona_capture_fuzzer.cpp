// Fuzzes persona capture's reading of a getInfo answer (status byte + CBOR),
// which comes from whatever key is plugged in. Besides memory safety it checks
// that every persona file it writes is valid TOML.
#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>

#include "vauth/daemon/persona_capture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const vauth::ByteView answer(data, size);
  auto text = vauth::daemon::persona_from_get_info(answer, "fuzzed", {"fuzz", "", 0, 0});
  if (text) {
    try {
      (void)toml::parse(*text);
    } catch (const toml::parse_error&) {
      __builtin_trap();
    }
  }
  return 0;
}
