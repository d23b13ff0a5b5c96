#include "vauth/daemon/event_bus.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

#include <nlohmann/json.hpp>

namespace vauth::daemon {
namespace {

// Wall-clock time for humans reading a trace; the core's injected clock is monotonic.
std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

}  // namespace

EventBus::Id EventBus::subscribe(Subscriber subscriber) {
  const Id id = next_id_++;
  subscribers_.emplace(id, std::move(subscriber));
  return id;
}

void EventBus::unsubscribe(Id id) { subscribers_.erase(id); }

void EventBus::publish(const std::string& type, nlohmann::json fields) {
  ++seq_;
  if (subscribers_.empty()) return;
  nlohmann::json event = {{"seq", seq_}, {"time", utc_now()}, {"type", type}};
  if (fields.is_object()) event.update(fields);
  // Replace invalid UTF-8 rather than throw from inside whatever published the event.
  const std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // A subscriber may unsubscribe (itself or another) while we deliver: iterate a snapshot.
  std::vector<Subscriber> snapshot;
  snapshot.reserve(subscribers_.size());
  for (const auto& [id, s] : subscribers_) snapshot.push_back(s);
  for (const auto& s : snapshot) s(line);
}

}  // namespace vauth::daemon
