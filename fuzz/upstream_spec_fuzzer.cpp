// Fuzzes the --proxy SPEC parser. Besides memory safety it checks the round
// trip logs and --print-config rely on: an accepted spec prints as text that
// parses back to the same text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "transports/upstream_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto spec = vauth::transport::parse_upstream_spec(text)) {
    auto again = vauth::transport::parse_upstream_spec(spec->text());
    if (!again || again->text() != spec->text()) __builtin_trap();
  }
  return 0;
}
