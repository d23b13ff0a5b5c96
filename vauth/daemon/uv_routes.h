// The control API's fingerprint sensor resources (docs/control-api.md):
//   GET  /v1/devices/N/uv            mode, timeout, enrolled fingers, uvRetries, pending reading
//   PUT|POST /v1/devices/N/uv        {"mode": "auto|fail|manual", "timeout_ms": n} or the W3C
//                                    WebAuthn automation form {"isUserVerified": true|false}
//   POST /v1/devices/N/uv/match      answer the pending reading: the finger matches
//   POST /v1/devices/N/uv/nomatch    ... does not match
#pragma once

#include <string>
#include <vector>

#include "vauth/daemon/control_routes.h"
#include "vauth/daemon/event_bus.h"
#include "vauth/daemon/virtual_device.h"

namespace vauth::daemon {

// `rest` starts with "uv".
ControlResponse uv_route(const ControlRequest& request, VirtualDevice& device, const std::vector<std::string>& rest,
                         EventBus& events);

nlohmann::json uv_json(const VirtualDevice& device);

}  // namespace vauth::daemon
