#include "vauth/daemon/log.h"

#include <chrono>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

namespace vauth::daemon {
namespace {

bool json_log = false;

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
    default: return "info";
  }
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void set_json_log(bool json) { json_log = json; }

void log_message(LogLevel level, std::string_view message) {
  if (json_log) {
    const nlohmann::json line = {{"time", utc_now()}, {"level", level_name(level)}, {"message", message}};
    std::cerr << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  } else {
    std::cerr << "vauthd: " << message << std::endl;
  }
}

}  // namespace vauth::daemon
