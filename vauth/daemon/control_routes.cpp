#include "vauth/daemon/control_routes.h"

#include <charconv>
#include <initializer_list>
#include <vector>

#include "vauth/ctap/pin_policy.h"
#include "vauth/daemon/base64url.h"
#include "vauth/daemon/control_helpers.h"
#include "vauth/daemon/device_json.h"
#include "vauth/daemon/get_info_json.h"
#include "vauth/daemon/large_blob_orphans.h"
#include "vauth/daemon/uv_routes.h"
#include "vauth/faults/fault_parse.h"

namespace vauth::daemon {

std::vector<std::string> split_path(const std::string& target) {
  const std::string path = target.substr(0, target.find_first_of("?#"));
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    const size_t j = path.find('/', i);
    const size_t end = j == std::string::npos ? path.size() : j;
    if (end > i) out.push_back(path.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

ControlResponse ControlRoutes::handle(const ControlRequest& request) {
  try {
    return route(request, split_path(request.target));
  } catch (const ApiError& e) {
    return ControlResponse{e.status, {{"error", e.error}, {"detail", e.detail}}, e.allow};
  } catch (const std::exception& e) {
    // A bug or a store failure: say so, and keep serving.
    return ControlResponse{500, {{"error", "internal error"}, {"detail", e.what()}}, {}};
  }
}

VirtualDevice& ControlRoutes::device(const std::string& index) {
  size_t n = 0;
  const auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), n);
  // Devices keep their index for life (removed ones leave gaps): look it up, never use it as a position.
  if (ec == std::errc() && end == index.data() + index.size()) {
    for (const auto& d : devices_) {
      if (d->index() == n) return *d;
    }
  }
  std::string known;
  for (const auto& d : devices_) known += (known.empty() ? "" : ", ") + std::to_string(d->index());
  fail(404, "no such device", "device \"" + index.substr(0, 100) + "\" does not exist (devices: " +
                                  (known.empty() ? "none" : known) + ")");
}

ControlResponse ControlRoutes::route(const ControlRequest& r, const std::vector<std::string>& path) {
  if (path.size() == 2 && path[0] == "conformance") return conformance(r, path[1]);
  if (path.size() >= 2 && path[0] == "v1" && path[1] == "devices") {
    if (path.size() == 2) {
      require_method(r, {"GET", "POST"});
      if (r.method == "POST") return add_device(r);
      nlohmann::json list = nlohmann::json::array();
      for (const auto& d : devices_) list.push_back(device_brief(*d));
      return ok(std::move(list));
    }
    VirtualDevice& d = device(path[2]);
    if (path.size() == 3 && r.method == "DELETE") return remove_device(d);
    return device_route(r, d, std::vector<std::string>(path.begin() + 3, path.end()));
  }
  fail(404, "not found", "no resource at " + r.target.substr(0, 200));
}

ControlResponse ControlRoutes::device_route(const ControlRequest& r, VirtualDevice& d,
                                            const std::vector<std::string>& rest) {
  if (rest.empty()) {
    require_method(r, {"GET", "DELETE"});
    return ok(device_detail(d));
  }
  const std::string& what = rest[0];
  if (what == "uv") return uv_route(r, d, rest, events_);
  if (what == "info" && rest.size() == 1) {
    require_method(r, {"GET"});
    // A proxied key answers getInfo from the real key, which only a client request reaches.
    if (d.proxy()) fail(409, "proxied key", "device " + std::to_string(d.index()) + " forwards to a real key; ask it (fido2-token -I)");
    return ok(get_info_json(d.authenticator().info()));
  }
  if (auto answer = provisioning_route(r, d, rest)) return std::move(*answer);
  if (what == "credentials" && rest.size() == 1) {
    require_method(r, {"GET", "POST", "DELETE"});
    if (r.method == "GET") return ok(credentials_json(d.state()));
    return delete_all_credentials(d);
  }
  if (what == "credentials" && rest.size() == 2) {
    require_method(r, {"GET", "DELETE"});
    if (r.method == "DELETE") return delete_credential(d, rest[1]);
    const auto id = base64url_decode(rest[1]);
    const store::Credential* c = id ? d.state().find_any_credential(*id) : nullptr;
    if (!c) fail(404, "no such credential", "device " + std::to_string(d.index()) + " holds no credential " + rest[1]);
    return ok(credential_json(*c, d.state().sign_count));
  }
  if (what == "faults" && rest.size() <= 2) return faults_route(r, d, rest.size() == 2 ? rest[1] : "");
  if (rest.size() == 1) {
    if (what == "presence") {
      require_method(r, {"GET", "PUT"});
      if (r.method == "GET") return ok(presence_json(d));
      return put_presence(d, parse_object(r));
    }
    if (what == "touch" || what == "deny") {
      require_method(r, {"POST"});
      return answer_presence(d, what == "touch");
    }
    if (what == "plug" || what == "unplug") {
      require_method(r, {"POST"});
      return what == "plug" ? plug_device(d) : unplug_device(d);
    }
    if (what == "power-cycle") {
      require_method(r, {"POST"});
      d.power_cycle();
      return ok({{"device", d.index()}, {"powerCycled", true}});
    }
    if (what == "reset") {
      require_method(r, {"POST"});
      return reset(d);
    }
    if (what == "pin") {
      require_method(r, {"PUT", "DELETE"});  // DELETE: control_provisioning_routes.cpp
      return set_pin(d, parse_object(r));
    }
  }
  fail(404, "not found", "no resource at " + r.target.substr(0, 200));
}

// GET lists the device's fault plan with hit counts, POST adds a rule, DELETE
// clears the plan (or, with an id, one rule). docs/faults.md has the rules.
ControlResponse ControlRoutes::faults_route(const ControlRequest& r, VirtualDevice& d, const std::string& id) {
  faults::FaultPlan& plan = d.faults();
  if (!id.empty()) {
    require_method(r, {"DELETE"});
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec != std::errc() || end != id.data() + id.size() || !plan.remove(n)) {
      fail(404, "no such fault", "device " + std::to_string(d.index()) + " has no fault rule " + id.substr(0, 40));
    }
    events_.publish("fault.removed", {{"device", d.index()}, {"id", n}});
    return ok({{"device", d.index()}, {"removed", n}});
  }
  require_method(r, {"GET", "POST", "DELETE"});
  if (r.method == "GET") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : plan.entries()) list.push_back(faults::to_json(e));
    return ok(std::move(list));
  }
  if (r.method == "DELETE") {
    const size_t n = plan.entries().size();
    plan.clear();
    events_.publish("fault.cleared", {{"device", d.index()}, {"count", n}});
    return ok({{"device", d.index()}, {"cleared", n}});
  }
  auto rule = faults::parse_rule_json(parse_object(r));
  if (!rule) fail(400, "bad fault rule", rule.error());
  const uint64_t added = plan.add(std::move(*rule));
  d.kick();
  for (const auto& e : plan.entries()) {
    if (e.id != added) continue;
    nlohmann::json body = faults::to_json(e);
    events_.publish("fault.added", {{"device", d.index()}, {"id", added}, {"rule", e.rule.text()}});
    return ControlResponse{201, std::move(body), {}};
  }
  fail(500, "internal error", "the rule vanished");
}

ControlResponse ControlRoutes::put_presence(VirtualDevice& d, const nlohmann::json& body) {
  only_fields(body, {"mode", "delay_ms", "timeout_ms"});
  PresenceSettings s = d.presence_settings();
  if (body.contains("mode")) {
    const auto& m = body.at("mode");
    if (!m.is_string()) fail(400, "bad request", "mode must be \"auto\", \"deny\" or \"manual\"");
    const auto mode = m.get<std::string>();
    if (mode == "auto") s.mode = ctap::ControlledPresence::Mode::Approve;
    else if (mode == "deny") s.mode = ctap::ControlledPresence::Mode::Deny;
    else if (mode == "manual") s.mode = ctap::ControlledPresence::Mode::Wait;
    else fail(400, "bad request", "mode must be \"auto\", \"deny\" or \"manual\", not \"" + mode + "\"");
  }
  if (auto v = duration_field(body, "delay_ms")) s.delay = *v;
  if (auto v = duration_field(body, "timeout_ms")) s.timeout = *v;
  // A request already waiting keeps the policy it was asked under; the new one applies to the next.
  d.set_presence(s);
  events_.publish("presence.mode", {{"device", d.index()}, {"mode", to_string(s.mode)},
                                    {"delay_ms", s.delay.count()}, {"timeout_ms", s.timeout.count()}});
  return ok(presence_json(d));
}

ControlResponse ControlRoutes::answer_presence(VirtualDevice& d, bool approve) {
  const auto pending = d.presence().pending();
  if (!pending) fail(409, "nothing pending", "device " + std::to_string(d.index()) + " is not waiting for a touch");
  const bool answered = approve ? d.presence().approve() : d.presence().deny();
  d.kick();
  if (!answered) fail(409, "nothing pending", "the request was answered meanwhile");
  return ok({{"device", d.index()},
             {"result", approve ? "approved" : "denied"},
             {"operation", pending->request.operation},
             {"rpId", pending->request.rp_id}});
}

ControlResponse ControlRoutes::reset(VirtualDevice& d) {
  // The administrator's wipe: no user presence and no reset window, unlike authenticatorReset.
  d.store().commit(store::Mutation{store::change::Reset{d.rng().bytes(32)}});
  d.power_cycle();
  events_.publish("device.reset", {{"device", d.index()}});
  return ok({{"device", d.index()}, {"reset", true}});
}

ControlResponse ControlRoutes::set_pin(VirtualDevice& d, const nlohmann::json& body) {
  only_fields(body, {"pin"});
  if (!body.contains("pin") || !body.at("pin").is_string()) fail(400, "bad request", "pin must be a string");
  const auto pin = body.at("pin").get<std::string>();
  const auto& profile = d.authenticator().profile();
  if (!ctap::pin_meets_policy(pin, profile)) {
    fail(400, "PIN policy violation", "a PIN has at least " + std::to_string(profile.min_pin_length) +
                                          " characters, at most 63 bytes, and no NUL");
  }
  // Like changePIN: PIN tokens issued under the old PIN stop working, the
  // CTAP 2.2 persistent (pcmr) token too, in the same commit as the new PIN.
  d.store().commit(std::vector<store::Mutation>{
      store::Mutation{store::change::SetPin{ctap::pin_hash(pin), profile.max_pin_retries}},
      store::Mutation{store::change::SetPersistentToken{}}});
  d.power_cycle();
  events_.publish("device.pin-set", {{"device", d.index()}});
  return ok({{"device", d.index()}, {"pin", {{"set", true}, {"retries", profile.max_pin_retries}}}});
}

ControlResponse ControlRoutes::delete_credential(VirtualDevice& d, const std::string& text) {
  const auto id = base64url_decode(text);
  if (!id || !d.state().find_any_credential(*id)) {
    fail(404, "no such credential", "device " + std::to_string(d.index()) + " holds no credential " + text.substr(0, 200));
  }
  std::vector<store::Mutation> batch{{store::change::DeleteCredential{*id}}};
  // Its large-blob entries go with it (docs/control-api.md): one commit, both or neither.
  if (auto array = large_blob_array_without_removed(d.state(), {*id})) {
    batch.push_back({store::change::SetLargeBlobArray{std::move(*array)}});
  }
  d.store().commit(batch);
  events_.publish("credential.deleted", {{"device", d.index()}, {"credentialId", text}});
  return ok({{"device", d.index()}, {"deleted", 1}});
}

ControlResponse ControlRoutes::delete_all_credentials(VirtualDevice& d) {
  std::vector<store::Mutation> batch;
  for (const auto& [id, c] : d.state().credentials) batch.push_back({store::change::DeleteCredential{id}});
  for (const auto& [id, c] : d.state().non_discoverable) batch.push_back({store::change::DeleteCredential{id}});
  const size_t deleted = batch.size();
  std::vector<Bytes> ids;
  for (const auto& [id, c] : d.state().credentials) ids.push_back(id);
  if (auto array = large_blob_array_without_removed(d.state(), ids)) {
    batch.push_back({store::change::SetLargeBlobArray{std::move(*array)}});
  }
  if (!batch.empty()) d.store().commit(batch);  // one atomic commit: all or none
  events_.publish("credential.deleted", {{"device", d.index()}, {"count", deleted}});
  return ok({{"device", d.index()}, {"deleted", deleted}});
}

ControlResponse ControlRoutes::conformance(const ControlRequest& r, const std::string& hook) {
  // The FIDO conformance tools drive "the" authenticator: device 1.
  if (hook != "userpresence" && hook != "powercycle") fail(404, "not found", "no conformance hook " + hook);
  require_method(r, {"POST"});
  if (devices_.empty()) fail(404, "no such device", "no devices");
  VirtualDevice& d = *devices_.front();
  if (hook == "powercycle") {
    d.power_cycle();
    return ok({{"device", 1}, {"powerCycled", true}});
  }
  if (d.presence().pending()) {
    d.presence().approve();
    d.kick();
    return ok({{"device", 1}, {"result", "approved"}});
  }
  // The tool may press before the prompt arrives: approve the next one within 10 s.
  d.presence().arm_touch(Duration(10'000));
  return ok({{"device", 1}, {"result", "armed"}});
}

}  // namespace vauth::daemon
