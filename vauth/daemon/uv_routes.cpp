#include "vauth/daemon/uv_routes.h"

namespace vauth::daemon {
namespace {

using Mode = ctap::ControlledUserVerifier::Mode;

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Match: return "auto";
    case Mode::NoMatch: return "fail";
    case Mode::Wait: return "manual";
  }
  return "?";
}

ControlResponse error(unsigned status, std::string error, std::string detail, std::string allow = {}) {
  return ControlResponse{status, {{"error", std::move(error)}, {"detail", std::move(detail)}}, std::move(allow)};
}

ControlResponse put_uv(VirtualDevice& d, const std::string& body_text, EventBus& events) {
  if (!d.authenticator().profile().built_in_uv) {
    return error(409, "no sensor", "device " + std::to_string(d.index()) + " has no built-in UV (vauthd --uv none)");
  }
  auto body = nlohmann::json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return error(400, "malformed JSON", "the body is not valid JSON");
  if (!body.is_object()) return error(400, "bad request", "the body must be a JSON object");
  UvSettings s = d.uv_settings();
  for (const auto& [key, value] : body.items()) {
    if (key == "mode") {
      const std::string mode = value.is_string() ? value.get<std::string>() : "";
      if (mode == "auto") s.mode = Mode::Match;
      else if (mode == "fail") s.mode = Mode::NoMatch;
      else if (mode == "manual") s.mode = Mode::Wait;
      else return error(400, "bad request", "mode must be \"auto\", \"fail\" or \"manual\"");
    } else if (key == "isUserVerified") {  // W3C WebAuthn automation: Set User Verified
      if (!value.is_boolean()) return error(400, "bad request", "isUserVerified must be true or false");
      s.mode = value.get<bool>() ? Mode::Match : Mode::NoMatch;
    } else if (key == "timeout_ms") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 3'600'000) {
        return error(400, "bad request", "timeout_ms must be an integer from 0 to 3600000 (milliseconds)");
      }
      s.timeout = Duration(value.get<int64_t>());
    } else {
      return error(400, "bad request", "unknown field \"" + key + "\"");
    }
  }
  d.set_uv(s);
  events.publish("uv.mode", {{"device", d.index()}, {"mode", mode_name(s.mode)}, {"timeout_ms", s.timeout.count()}});
  return ControlResponse{200, uv_json(d), {}};
}

ControlResponse answer(VirtualDevice& d, bool match, EventBus& events) {
  ctap::ControlledUserVerifier& uv = d.user_verifier();
  if (!uv.pending()) {
    return error(409, "nothing pending", "device " + std::to_string(d.index()) + " is not waiting for a finger");
  }
  const ctap::UvRequest req = *uv.last_request();
  const bool answered = match ? uv.match() : uv.no_match();
  d.kick();
  if (!answered) return error(409, "nothing pending", "the reading was answered meanwhile");
  events.publish("uv.answer", {{"device", d.index()}, {"result", match ? "match" : "no-match"},
                               {"operation", req.operation}, {"rpId", req.rp_id}});
  return ControlResponse{
      200, {{"device", d.index()}, {"result", match ? "match" : "no-match"}, {"operation", req.operation}, {"rpId", req.rp_id}},
      {}};
}

}  // namespace

nlohmann::json uv_json(const VirtualDevice& d) {
  const auto& s = d.uv_settings();
  const store::State& st = d.state();
  nlohmann::json j = {{"builtIn", d.authenticator().profile().built_in_uv},
                      {"mode", mode_name(s.mode)},
                      {"timeout_ms", s.timeout.count()},
                      {"enrolled", st.enrollments.size()},
                      {"uvRetries", st.uv_retries},
                      {"pending", nullptr}};
  const auto& uv = d.user_verifier();
  if (uv.pending() && uv.last_request()) {
    j["pending"] = {{"operation", uv.last_request()->operation}, {"rpId", uv.last_request()->rp_id}};
  }
  return j;
}

ControlResponse uv_route(const ControlRequest& r, VirtualDevice& d, const std::vector<std::string>& rest,
                         EventBus& events) {
  if (rest.size() == 1) {
    if (r.method == "GET") return ControlResponse{200, uv_json(d), {}};
    if (r.method == "PUT" || r.method == "POST") return put_uv(d, r.body, events);
    return error(405, "method not allowed", r.method + " is not one of GET, PUT, POST", "GET, PUT, POST");
  }
  if (rest.size() == 2 && (rest[1] == "match" || rest[1] == "nomatch")) {
    if (r.method != "POST") return error(405, "method not allowed", r.method + " is not one of POST", "POST");
    return answer(d, rest[1] == "match", events);
  }
  return error(404, "not found", "no resource at " + r.target.substr(0, 200));
}

}  // namespace vauth::daemon
