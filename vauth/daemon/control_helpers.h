// Validation and answers shared by the control API's route files: every
// handler throws ApiError through fail() and ControlRoutes::handle() turns it
// into the JSON error answer, so a refused request changes nothing.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "vauth/base/clock.h"
#include "vauth/daemon/control_routes.h"

namespace vauth::daemon {

// Thrown by validation anywhere in a handler; handle() turns it into the JSON error answer.
struct ApiError {
  unsigned status;
  std::string error;
  std::string detail;
  std::string allow;
};

[[noreturn]] inline void fail(unsigned status, std::string error, std::string detail) {
  throw ApiError{status, std::move(error), std::move(detail), {}};
}

inline void require_method(const ControlRequest& r, std::initializer_list<const char*> allowed) {
  std::string allow;
  for (const char* m : allowed) {
    if (r.method == m) return;
    allow += (allow.empty() ? "" : ", ") + std::string(m);
  }
  throw ApiError{405, "method not allowed", r.method + " is not one of " + allow, allow};
}

inline nlohmann::json parse_object(const ControlRequest& r) {
  if (r.body.empty()) fail(400, "bad request", "this request needs a JSON object body");
  auto body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) fail(400, "malformed JSON", "the body is not valid JSON");
  if (!body.is_object()) fail(400, "bad request", "the body must be a JSON object");
  return body;
}

// Unknown fields are refused rather than ignored: a typo must not silently change nothing.
inline void only_fields(const nlohmann::json& body, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : body.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) fail(400, "bad request", "unknown field \"" + key + "\"");
  }
}

// A duration field: a non-negative integer of milliseconds, at most an hour.
inline std::optional<Duration> duration_field(const nlohmann::json& body, const char* name) {
  if (!body.contains(name)) return std::nullopt;
  const auto& v = body.at(name);
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 3'600'000) {
    fail(400, "bad request", std::string(name) + " must be an integer from 0 to 3600000 (milliseconds)");
  }
  return Duration(v.get<int64_t>());
}

inline ControlResponse ok(nlohmann::json body) {
  return ControlResponse{200, std::move(body), {}};
}

}  // namespace vauth::daemon
