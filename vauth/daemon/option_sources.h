// Where vauthd's option values come from, highest precedence first: the
// command line, a [[device]] table of the config file (per-device passes
// only), the config file's top level, the persona and its bases, the
// built-in defaults. parse_options() stores the command line and hands the
// rest to store(); the state shared by the passes (the loaded file, the
// persona catalog) lives in ConfigState.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vauth/ctap/profile.h"
#include "vauth/daemon/config_file.h"
#include "vauth/daemon/personas.h"

namespace vauth::daemon {

// What every pass shares: the config file (loaded on the first pass that
// sees --config, or given by a test or the fuzzer) and the persona catalog.
struct ConfigState {
  std::optional<ConfigFile> file;
  bool file_given = false;  // `file` came from the caller: ignore --config
  PersonaCatalog personas = PersonaCatalog::built_in();
  bool personas_checked = false;
};

class OptionSources {
 public:
  // device: the index of the [[device]] table this pass resolves, or nullopt for the top level.
  OptionSources(std::shared_ptr<ConfigState> state, std::optional<size_t> device)
      : state_(std::move(state)), device_(device) {}

  // With the command line already in `vm`: loads the config file (once),
  // checks the personas, and stores the device table, the top level and the
  // persona's options. `daemon_wide` are the groups a [[device]] table or a
  // persona may not set. Throws ConfigError (and po::error).
  void store(boost::program_options::variables_map& vm, const boost::program_options::options_description& all,
             const std::vector<const boost::program_options::options_description*>& daemon_wide);

  // The persona's profile (before options such as --algorithms change it).
  const ctap::Profile& profile() const { return profile_; }
  const std::string& persona() const { return persona_; }
  const ConfigState& state() const { return *state_; }
  // Whether this pass's [[device]] table sets `key` itself.
  bool device_sets(const std::string& key) const;
  // Whether `key` came from somewhere other than the built-in defaults.
  bool is_set(const std::string& key) const { return set_keys_.count(key) > 0; }
  // The effective option values of this pass, as TOML (--print-config).
  const toml::table& settings() const { return settings_; }

  // Puts "FILE:LINE:COLUMN: " before a message about an option that came from a file.
  std::string locate(const std::string& message) const;

  // Options only the command line may give.
  static const std::vector<std::string>& command_line_only();

 private:
  void check_personas(const boost::program_options::options_description& all, const ForbiddenKeys& forbidden);

  std::shared_ptr<ConfigState> state_;
  std::optional<size_t> device_;
  ctap::Profile profile_;
  std::string persona_ = "default";
  std::map<std::string, std::string> where_;  // option → "FILE:LINE:COLUMN"
  std::map<std::string, bool> set_keys_;
  toml::table settings_;
};

}  // namespace vauth::daemon
