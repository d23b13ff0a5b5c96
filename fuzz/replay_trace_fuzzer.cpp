// Fuzzes the --replay trace reader: any text, as a file handed to
// `vauthd --replay` may hold. Besides memory safety it checks what the replay
// relies on: every exchange has a request, and no payload exceeds the CTAPHID maximum.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "transports/ctaphid.h"
#include "vauth/daemon/replay_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = vauth::daemon::parse_recorded_session(text)) {
    if (s->exchanges.empty()) __builtin_trap();
    for (const auto& e : s->exchanges) {
      if (e.request.payload.size() > vauth::transport::kMaxMessageSize || e.line == 0) __builtin_trap();
      for (const auto& a : e.answers) {
        if (a.payload.size() > vauth::transport::kMaxMessageSize) __builtin_trap();
      }
    }
  }
  return 0;
}
