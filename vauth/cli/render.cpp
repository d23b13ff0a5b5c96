#include "vauth/cli/render.h"

namespace vauth::cli {
namespace {

std::string text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return "";
  const auto& v = j.at(key);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string plural(size_t n, const std::string& word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

std::string presence_line(const nlohmann::json& p) {
  std::string line = text(p, "mode");
  if (line == "manual") line += " (timeout " + text(p, "timeout_ms") + " ms)";
  else if (p.value("delay_ms", 0) > 0) line += " (after " + text(p, "delay_ms") + " ms)";
  if (p.contains("pending") && p.at("pending").is_object()) {
    const auto& q = p.at("pending");
    line += "; waiting for a touch: " + text(q, "operation") + (text(q, "rpId").empty() ? "" : " for " + text(q, "rpId")) +
            " since " + text(q, "waiting_ms") + " ms";
  }
  return line;
}

// ", proxy of UPSTREAM (state)" for a key that forwards to another (--proxy).
std::string proxy_note(const nlohmann::json& d) {
  if (!d.contains("proxy")) return "";
  return ", proxy of " + text(d.at("proxy"), "upstream") + " (" + text(d.at("proxy"), "state") + ")";
}

}  // namespace

void render_devices(std::ostream& out, const nlohmann::json& devices) {
  if (devices.empty()) out << "no devices\n";
  for (const auto& d : devices) {
    out << "device " << text(d, "index") << ": \"" << text(d, "name") << "\" serial " << text(d, "serial") << ", "
        << (d.value("ready", false) ? text(d, "transport") + " " + text(d, "where") : std::string("not plugged in yet"))
        << ", " << plural(d.value("credentialCount", 0u), "credential") << ", "
        << (d.value("pinSet", false) ? "PIN set" : "no PIN") << ", presence " << text(d, "presence")
        << (d.value("presencePending", false) ? " (waiting for a touch)" : "") << proxy_note(d) << "\n";
  }
}

void render_status(std::ostream& out, const nlohmann::json& d) {
  out << "device " << text(d, "index") << ": \"" << text(d, "name") << "\" serial " << text(d, "serial") << "\n"
      << "  plugged in:   " << (d.value("ready", false) ? text(d, "transport") + " " + text(d, "where") + " " + text(d, "detail") : "no")
      << (d.value("attached", false) ? " (a host has it open)" : "") << "\n"
      << "  aaguid:       " << text(d, "aaguid") << "\n"
      << "  sign count:   " << text(d, "signCount") << "\n"
      << "  PIN:          "
      << (d.at("pin").value("set", false) ? "set, " + text(d.at("pin"), "retries") + " retries" + " left"
                                       : std::string("not set"))
      << "\n"
      << "  credentials:  " << text(d, "credentialCount") << " stored\n"
      << "  presence:     " << presence_line(d.at("presence")) << "\n";
  if (d.contains("proxy")) {
    out << "  proxy of:     " << text(d.at("proxy"), "upstream") << " (" << text(d.at("proxy"), "state") << ")\n";
  }
}

void render_credentials(std::ostream& out, const nlohmann::json& creds, const std::string& device) {
  if (creds.empty()) {
    out << "device " << device << " holds no stored credentials\n";
    return;
  }
  for (const auto& c : creds) {
    out << text(c, "rpId") << "  " << text(c, "userName");
    if (!text(c, "userDisplayName").empty()) out << " (" << text(c, "userDisplayName") << ")";
    out << "  alg " << text(c, "algorithm") << "  id " << text(c, "credentialId");
    if (c.contains("isResidentCredential") && !c["isResidentCredential"].get<bool>()) out << "  (non-resident)";
    out << "\n";
  }
}

void render_presence(std::ostream& out, const nlohmann::json& p, const std::string& device) {
  out << "device " << device << " presence: " << presence_line(p) << "\n";
}

void render_event(std::ostream& out, const nlohmann::json& e) {
  out << text(e, "time") << " " << text(e, "type");
  for (const auto& [key, value] : e.items()) {
    if (key == "time" || key == "type" || key == "seq") continue;
    out << " " << key << "=" << (value.is_string() ? value.get<std::string>() : value.dump());
  }
  out << "\n";
}

}  // namespace vauth::cli
