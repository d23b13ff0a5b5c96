#include "vauth/daemon/option_sources.h"

#include <boost/program_options/parsers.hpp>

namespace po = boost::program_options;

namespace vauth::daemon {
namespace {

ForbiddenKeys file_forbidden() {
  ForbiddenKeys f;
  for (const auto& k : OptionSources::command_line_only()) f[k] = "is only a command-line option";
  return f;
}

// A [[device]] table or a persona sets what may differ between keys, not the daemon's own settings.
ForbiddenKeys per_device_forbidden(const std::vector<const po::options_description*>& daemon_wide) {
  ForbiddenKeys f = file_forbidden();
  for (const auto* group : daemon_wide) {
    for (const auto& o : group->options()) {
      f.emplace(o->long_name(), "is a daemon-wide option: set it at the top level of the file");
    }
  }
  return f;
}

}  // namespace

const std::vector<std::string>& OptionSources::command_line_only() {
  static const std::vector<std::string> keys{"help", "config", "print-config", "list-personas"};
  return keys;
}

void OptionSources::store(po::variables_map& vm, const po::options_description& all,
                          const std::vector<const po::options_description*>& daemon_wide) {
  if (vm.count("help")) return;  // --help works whatever the config file says
  for (const auto& [key, value] : vm) {
    if (!value.defaulted()) set_keys_[key] = true;  // the command line
  }

  ConfigState& st = *state_;
  if (!st.file_given && !st.file && vm.count("config")) st.file = load_config(vm["config"].as<std::string>());
  const ForbiddenKeys device_forbidden = per_device_forbidden(daemon_wide);
  if (st.file && !st.personas_checked) {
    for (const toml::table* personas : st.file->personas()) st.personas.add_from_config(*personas, st.file->name);
    check_personas(all, device_forbidden);
    st.personas_checked = true;
  }

  if (st.file) {
    const auto devices = st.file->devices();
    if (device_) store_table(*devices.at(*device_), st.file->name, all, vm, {}, device_forbidden, where_);
    store_table(st.file->root, st.file->name, all, vm, st.file->structural_keys(), file_forbidden(), where_);
  }
  for (const auto& [key, _] : where_) set_keys_[key] = true;

  // The persona is chosen by now; its options are the lowest layer above the defaults.
  if (vm.count("persona")) persona_ = vm["persona"].as<std::string>();
  std::vector<const Persona*> chain;
  try {
    chain = st.personas.chain(persona_);
  } catch (const ConfigError& e) {
    auto w = where_.find("persona");
    throw ConfigError((w != where_.end() ? w->second : std::string("--persona")) + ": " + e.what());
  }
  for (const Persona* p : chain) {
    std::map<std::string, std::string> from_persona;
    store_table(*p->table, p->origin, all, vm, persona_own_keys(), device_forbidden, from_persona);
    where_.insert(from_persona.begin(), from_persona.end());
  }
  profile_ = ctap::Profile{};
  apply_persona_profile(chain, profile_);

  std::vector<std::string> leave_out = command_line_only();
  settings_ = to_toml(vm, all, leave_out);
}

// Every persona a config file defines is checked when the file loads, used or not.
void OptionSources::check_personas(const po::options_description& all, const ForbiddenKeys& forbidden) {
  for (const auto& [name, p] : state_->personas.all()) {
    auto chain = state_->personas.chain(name);
    ctap::Profile scratch;
    apply_persona_profile(chain, scratch);
    po::variables_map vm;
    std::map<std::string, std::string> where;
    store_table(*p.table, p.origin, all, vm, persona_own_keys(), forbidden, where);
  }
}

bool OptionSources::device_sets(const std::string& key) const {
  if (!device_ || !state_->file) return false;
  const auto devices = state_->file->devices();
  return devices.at(*device_)->contains(key);
}

std::string OptionSources::locate(const std::string& message) const {
  // The first "--option" the message names that a file gave.
  size_t pos = 0;
  while ((pos = message.find("--", pos)) != std::string::npos) {
    size_t end = pos + 2;
    while (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-')) ++end;
    const std::string key = message.substr(pos + 2, end - pos - 2);
    if (auto w = where_.find(key); w != where_.end()) {
      const std::string prefix = "vauthd: ";
      std::string body = message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
      return prefix + w->second + ": " + key + ": " + body;
    }
    pos = end;
  }
  return message;
}

}  // namespace vauth::daemon
