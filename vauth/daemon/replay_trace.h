// Reading a recorded session back from a --trace file (JSON lines): the
// CTAPHID packet lines of one device, reassembled per direction and channel
// into exchanges — each message the host sent, with the messages the key
// answered on its channel (keepalives left out). `vauthd --replay` answers
// from these (replay_upstream.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vauth/base/bytes.h"
#include "vauth/base/expected.h"

namespace vauth::daemon {

struct RecordedMessage {
  uint32_t cid = 0;
  uint8_t cmd = 0;  // CTAPHID command without the init bit
  Bytes payload;
};

struct RecordedExchange {
  RecordedMessage request;
  std::vector<RecordedMessage> answers;  // in order; empty for CANCEL
  size_t line = 0;                       // where the request's last packet is in the file (1-based)
};

struct RecordedSession {
  size_t device = 0;  // the trace's device whose packets these are
  std::vector<RecordedExchange> exchanges;
};

// `device`: which device of the trace (default: the first one with packets).
// Errors name the line: a line that is not JSON, a packet whose hex is not 64 bytes.
Expected<RecordedSession, std::string> parse_recorded_session(std::string_view trace_text,
                                                              std::optional<size_t> device = std::nullopt);

}  // namespace vauth::daemon
