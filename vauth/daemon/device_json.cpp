#include "vauth/daemon/device_json.h"

#include <algorithm>
#include <cstdio>

#include "vauth/daemon/base64url.h"
#include "vauth/daemon/provisioning_json.h"
#include "vauth/daemon/uv_routes.h"

namespace vauth::daemon {

std::string uuid_string(const std::array<uint8_t, 16>& b) {
  char buf[37];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
}

nlohmann::json device_brief(const VirtualDevice& d) {
  const auto& state = d.state();
  const auto& where = d.location();
  nlohmann::json j = {
      {"index", d.index()},
      {"name", d.info().name},
      {"serial", d.info().serial},
      {"transport", where.transport},
      {"where", where.where},
      {"ready", where.ready},
      {"attached", d.attached()},
      {"credentialCount", state.credentials.size() + state.non_discoverable.size()},
      {"pinSet", state.pin_hash.has_value()},
      {"presence", to_string(d.presence_settings().mode)},
      {"presencePending", d.presence().pending().has_value()},
  };
  // Only a proxied key has it: which upstream answers, and whether it still does.
  if (const ProxyLink* proxy = d.proxy()) {
    j["proxy"] = {{"upstream", d.proxy_upstream()}, {"state", proxy->upstream_failed() ? "lost" : "connected"}};
  }
  return j;
}

nlohmann::json presence_json(const VirtualDevice& d) {
  const auto& s = d.presence_settings();
  nlohmann::json p = {{"mode", to_string(s.mode)}, {"delay_ms", s.delay.count()}, {"timeout_ms", s.timeout.count()},
                      {"pending", nullptr}};
  if (const auto& pending = d.presence().pending()) {
    p["pending"] = {{"id", pending->id},
                    {"operation", pending->request.operation},
                    {"rpId", pending->request.rp_id},
                    {"waiting_ms", (d.now() - pending->since).count()}};
  }
  return p;
}

nlohmann::json device_detail(const VirtualDevice& d) {
  auto j = device_brief(d);
  const auto& state = d.state();
  const auto& profile = d.authenticator().profile();
  j["detail"] = d.location().detail;
  j["vendorId"] = d.info().vendor_id;
  j["productId"] = d.info().product_id;
  j["aaguid"] = uuid_string(profile.aaguid);
  j["signCount"] = state.sign_count;
  j["pin"] = {{"set", state.pin_hash.has_value()}, {"retries", state.pin_retries}};
  j["presence"] = presence_json(d);
  j["uv"] = uv_json(d);
  j["u2f"] = profile.u2f;
  j["residentKeys"] = profile.resident_keys;
  return j;
}

nlohmann::json credential_json(const store::Credential& c, uint32_t sign_count) {
  return credential_to_json(c, sign_count, /*include_private_key=*/false);
}

nlohmann::json credentials_json(const store::State& state) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto* c : stored_credentials(state)) out.push_back(credential_json(*c, state.sign_count));
  return out;
}

}  // namespace vauth::daemon
