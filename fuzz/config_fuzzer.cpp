// vauthd's config loader on arbitrary TOML: the text goes through the whole
// pipeline (TOML parsing, translation into the command line's options,
// [[device]] tables, persona definitions and chains, validation,
// --print-config). Any input must end in options or an error value, never a
// crash, an uncaught exception or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vauth/daemon/options.h"

using namespace vauth::daemon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // --no-control: no default socket lookups; --print-config also exercises the TOML writer.
  const char* plain[] = {"vauthd", "--no-control"};
  const char* print[] = {"vauthd", "--no-control", "--print-config"};
  ParseResult r = parse_options(2, plain, text, "fuzz.toml");
  if (r.options && r.options->device_options.size() != r.options->devices) __builtin_trap();
  parse_options(3, print, text, "fuzz.toml");
  return 0;
}
