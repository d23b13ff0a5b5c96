// vauthd's stderr log: one line per message, plain ("vauthd: message") or a
// JSON object per line ({"time", "level", "message"}) for log collectors.
// Readiness lines are not log lines: they stay on stdout, unchanged.
#pragma once

#include <string_view>

namespace vauth::daemon {

enum class LogLevel { Info, Warning, Error };

void set_json_log(bool json);
void log_message(LogLevel level, std::string_view message);

}  // namespace vauth::daemon
