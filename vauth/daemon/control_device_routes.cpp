// Run-time devices in the control API (docs/control-api.md): POST /v1/devices
// adds a key, DELETE /v1/devices/{n} removes one, POST .../unplug and .../plug
// make it vanish from the host and come back. The DeviceManager does the work;
// this file validates requests completely before asking it to.
#include "vauth/ctap/pin_policy.h"
#include "vauth/daemon/control_helpers.h"
#include "vauth/daemon/device_json.h"

namespace vauth::daemon {
namespace {

std::optional<std::string> text_field(const nlohmann::json& body, const char* name, size_t max_bytes) {
  if (!body.contains(name)) return std::nullopt;
  const auto& v = body.at(name);
  if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > max_bytes ||
      v.get<std::string>().find('\0') != std::string::npos) {
    fail(400, "bad request",
         std::string(name) + " must be a non-empty string of at most " + std::to_string(max_bytes) + " bytes");
  }
  return v.get<std::string>();
}

ctap::ControlledPresence::Mode presence_mode(const nlohmann::json& m) {
  const std::string mode = m.is_string() ? m.get<std::string>() : "";
  if (mode == "auto") return ctap::ControlledPresence::Mode::Approve;
  if (mode == "deny") return ctap::ControlledPresence::Mode::Deny;
  if (mode == "manual") return ctap::ControlledPresence::Mode::Wait;
  fail(400, "bad request", "presence mode must be \"auto\", \"deny\" or \"manual\"");
}

// "presence": "manual", or the object PUT .../presence takes.
PresenceSettings presence_field(const nlohmann::json& v, PresenceSettings s) {
  if (v.is_string()) {
    s.mode = presence_mode(v);
    return s;
  }
  if (!v.is_object()) fail(400, "bad request", "presence must be a mode string or an object");
  only_fields(v, {"mode", "delay_ms", "timeout_ms"});
  if (v.contains("mode")) s.mode = presence_mode(v.at("mode"));
  if (auto d = duration_field(v, "delay_ms")) s.delay = *d;
  if (auto t = duration_field(v, "timeout_ms")) s.timeout = *t;
  return s;
}

StoreSettings::Kind store_field(const nlohmann::json& v) {
  const std::string kind = v.is_string() ? v.get<std::string>() : "";
  if (kind == "durable") return StoreSettings::Kind::Durable;
  if (kind == "batched") return StoreSettings::Kind::Batched;
  if (kind == "ephemeral") return StoreSettings::Kind::Ephemeral;
  fail(400, "bad request", "store must be \"durable\", \"batched\" or \"ephemeral\"");
}

nlohmann::json plug_state(const VirtualDevice& d) {
  return {{"device", d.index()},
          {"plugged", d.location().ready},
          {"transport", d.location().transport},
          {"where", d.location().where}};
}

}  // namespace

DeviceManager& ControlRoutes::manager() {
  if (!manager_) fail(501, "not implemented", "this daemon cannot add, remove, plug or unplug devices");
  return *manager_;
}

ControlResponse ControlRoutes::add_device(const ControlRequest& r) {
  DeviceManager& m = manager();
  // An empty body is a device like the others.
  const nlohmann::json body = r.body.empty() ? nlohmann::json::object() : parse_object(r);
  only_fields(body, {"pin", "serial", "name", "presence", "store", "plugged"});
  DeviceOverrides o;
  o.pin = text_field(body, "pin", 63);
  if (o.pin && !ctap::pin_meets_policy(*o.pin, m.defaults().base.profile)) {
    fail(400, "PIN policy violation",
         "a PIN has at least " + std::to_string(m.defaults().base.profile.min_pin_length) +
             " characters, at most 63 bytes, and no NUL");
  }
  o.serial = text_field(body, "serial", 63);  // a UHID uniq field holds 63 bytes
  o.name = text_field(body, "name", 127);     // a UHID name holds 127
  if (body.contains("presence")) o.presence = presence_field(body.at("presence"), m.defaults().base.presence);
  if (body.contains("store")) o.store = store_field(body.at("store"));
  bool plug = true;
  if (body.contains("plugged")) {
    if (!body.at("plugged").is_boolean()) fail(400, "bad request", "plugged must be true or false");
    plug = body.at("plugged").get<bool>();
  }
  if (m.devices().size() >= DeviceManager::kMaxDevices) {
    fail(409, "too many devices", "vauthd serves at most " + std::to_string(DeviceManager::kMaxDevices) + " devices");
  }

  VirtualDevice* d = nullptr;
  try {
    d = &m.create(o);
  } catch (const std::exception& e) {
    fail(409, "cannot create the device", e.what());  // e.g. its state directory is locked by another daemon
  }
  events_.publish("device.added", {{"device", d->index()}});
  if (plug) {
    try {
      m.plug(*d);
    } catch (const std::exception& e) {
      const size_t index = d->index();
      m.remove(*d);  // all or nothing: no half-added device stays behind
      fail(503, "cannot plug the device in", "device " + std::to_string(index) + ": " + e.what());
    }
  }
  return ControlResponse{201, device_detail(*d), {}};
}

ControlResponse ControlRoutes::remove_device(VirtualDevice& d) {
  DeviceManager& m = manager();
  const size_t index = d.index();
  m.remove(d);
  return ok({{"device", index}, {"removed", true}});
}

ControlResponse ControlRoutes::plug_device(VirtualDevice& d) {
  DeviceManager& m = manager();
  if (m.plugged(d)) fail(409, "already plugged in", "device " + std::to_string(d.index()) + " is plugged in");
  try {
    m.plug(d);
  } catch (const std::exception& e) {
    fail(503, "cannot plug the device in", e.what());
  }
  return ok(plug_state(d));
}

ControlResponse ControlRoutes::unplug_device(VirtualDevice& d) {
  DeviceManager& m = manager();
  if (!m.plugged(d)) fail(409, "not plugged in", "device " + std::to_string(d.index()) + " is unplugged already");
  m.unplug(d);
  return ok(plug_state(d));
}

}  // namespace vauth::daemon
