// vauthctl's human-readable output. Scripts use --json, which prints the
// daemon's JSON unchanged, so nothing here is a stable format.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

namespace vauth::cli {

void render_devices(std::ostream& out, const nlohmann::json& devices);
void render_status(std::ostream& out, const nlohmann::json& device);
void render_credentials(std::ostream& out, const nlohmann::json& credentials, const std::string& device);
void render_presence(std::ostream& out, const nlohmann::json& presence, const std::string& device);
// One line per event: time, type, then the other fields as key=value.
void render_event(std::ostream& out, const nlohmann::json& event);

}  // namespace vauth::cli
