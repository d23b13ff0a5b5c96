// The control API's resources (docs/control-api.md), independent of HTTP
// plumbing: a method, a target and a body in; a status and a JSON body out.
// Every request is validated completely before anything changes, so a 4xx
// answer never leaves a half-applied change behind.
#pragma once

#include <memory>
#include <string>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "vauth/daemon/device_manager.h"
#include "vauth/daemon/virtual_device.h"

namespace vauth::daemon {

struct ControlRequest {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // "/v1/devices/1?x=y"
  std::string body;
};

struct ControlResponse {
  unsigned status = 200;
  nlohmann::json body;
  std::string allow;  // for 405: the methods the resource accepts
};

class ControlRoutes {
 public:
  using Devices = std::vector<std::unique_ptr<VirtualDevice>>;
  // Refers to the daemon's device list, so devices added later are served too.
  // Without a manager, devices cannot be added, removed, plugged or unplugged (501).
  ControlRoutes(const Devices& devices, EventBus& events, DeviceManager* manager = nullptr)
      : devices_(devices), events_(events), manager_(manager) {}

  ControlResponse handle(const ControlRequest& request);

 private:
  ControlResponse route(const ControlRequest& request, const std::vector<std::string>& path);
  ControlResponse device_route(const ControlRequest& request, VirtualDevice& device,
                               const std::vector<std::string>& rest);
  ControlResponse conformance(const ControlRequest& request, const std::string& hook);
  VirtualDevice& device(const std::string& index);

  ControlResponse faults_route(const ControlRequest& request, VirtualDevice& d, const std::string& id);
  ControlResponse put_presence(VirtualDevice& d, const nlohmann::json& body);
  ControlResponse answer_presence(VirtualDevice& d, bool approve);
  ControlResponse reset(VirtualDevice& d);
  ControlResponse set_pin(VirtualDevice& d, const nlohmann::json& body);
  ControlResponse delete_credential(VirtualDevice& d, const std::string& id);
  ControlResponse delete_all_credentials(VirtualDevice& d);
  // Provisioning (control_provisioning_routes.cpp): nullopt when `rest` is not one of its resources.
  std::optional<ControlResponse> provisioning_route(const ControlRequest& request, VirtualDevice& d,
                                                    const std::vector<std::string>& rest);
  ControlResponse add_credential(VirtualDevice& d, const nlohmann::json& body);
  ControlResponse import_device(VirtualDevice& d, const nlohmann::json& body);
  ControlResponse clear_pin(VirtualDevice& d);
  // Run-time devices (control_device_routes.cpp).
  DeviceManager& manager();
  ControlResponse add_device(const ControlRequest& request);
  ControlResponse remove_device(VirtualDevice& d);
  ControlResponse plug_device(VirtualDevice& d);
  ControlResponse unplug_device(VirtualDevice& d);

  const Devices& devices_;
  EventBus& events_;
  DeviceManager* manager_;
};

// The path segments of a target without its query: "/v1/devices/1?x" -> {"v1", "devices", "1"}.
std::vector<std::string> split_path(const std::string& target);

}  // namespace vauth::daemon
