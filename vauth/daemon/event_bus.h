// The daemon's event stream: every layer's wrapper publishes what happened
// (CTAP requests and responses, presence prompts and results, devices coming
// and going), and each GET /v1/events client subscribes. Publishing never
// blocks: subscribers only queue, and the control server bounds their queues.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace vauth::daemon {

class EventBus {
 public:
  using Id = uint64_t;
  // Receives one event as a single line of JSON (no newline).
  using Subscriber = std::function<void(const std::string& json)>;

  Id subscribe(Subscriber subscriber);
  void unsubscribe(Id id);
  bool has_subscribers() const { return !subscribers_.empty(); }

  // Adds "seq", "time" (UTC, RFC 3339 with milliseconds) and "type" to `fields`
  // (a JSON object) and hands the line to every subscriber. Serialised only
  // when someone listens, so an unwatched daemon pays nothing.
  void publish(const std::string& type, nlohmann::json fields);

  uint64_t published() const { return seq_; }

 private:
  std::map<Id, Subscriber> subscribers_;
  Id next_id_ = 1;
  uint64_t seq_ = 0;
};

}  // namespace vauth::daemon
