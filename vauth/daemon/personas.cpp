#include "vauth/daemon/personas.h"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "vauth/daemon/config_file.h"
#include "vauth/daemon/tracing_handler.h"

namespace vauth::daemon {
namespace {

std::string origin_of_built_in(const std::string& name) { return "persona " + name + " (built in)"; }

std::string where(const toml::node& n, const Persona& p) { return source_location(n, p.origin); }

[[noreturn]] void bad(const toml::node& n, const Persona& p, const std::string& key, const std::string& what) {
  throw ConfigError(where(n, p) + ": " + key + " " + what);
}

bool get_bool(const toml::node& n, const Persona& p, const std::string& key) {
  if (auto b = n.as_boolean()) return b->get();
  bad(n, p, key, "must be true or false");
}

uint64_t get_uint(const toml::node& n, const Persona& p, const std::string& key, uint64_t min, uint64_t max) {
  auto i = n.as_integer();
  if (!i || i->get() < 0 || static_cast<uint64_t>(i->get()) < min || static_cast<uint64_t>(i->get()) > max) {
    bad(n, p, key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<uint64_t>(i->get());
}

std::vector<std::string> get_strings(const toml::node& n, const Persona& p, const std::string& key,
                                     const std::set<std::string>& allowed = {}) {
  auto a = n.as_array();
  if (!a) bad(n, p, key, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *a) {
    auto s = e.as_string();
    if (!s) bad(e, p, key, "must be an array of strings");
    if (!allowed.empty() && !allowed.count(s->get())) {
      std::string list;
      for (const auto& x : allowed) list += (list.empty() ? "" : ", ") + x;
      bad(e, p, key, "has \"" + s->get() + "\"; known: " + list);
    }
    out.push_back(s->get());
  }
  return out;
}

uint8_t command_byte(const toml::node& e, const Persona& p) {
  if (auto i = e.as_integer(); i && i->get() >= 0 && i->get() <= 0xff) return static_cast<uint8_t>(i->get());
  if (auto s = e.as_string()) {
    for (unsigned c = 0; c <= 0xff; ++c) {
      if (ctap2_command_name(static_cast<uint8_t>(c)) == s->get()) return static_cast<uint8_t>(c);
    }
  }
  bad(e, p, "commands", "lists CTAP2 commands by name (makeCredential, getAssertion, getInfo, clientPIN, reset, "
                        "getNextAssertion, credentialManagement, credentialManagementPreview, selection, ...) or byte");
}

using Setter = std::function<void(const toml::node&, const Persona&, ctap::Profile&)>;

// The profile keys. Every one a persona can set, with its check.
const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> s{
      {"ctap2", [](auto& n, auto& p, auto& o) { o.ctap2 = get_bool(n, p, "ctap2"); }},
      {"versions",
       [](auto& n, auto& p, auto& o) {
         o.versions =
             get_strings(n, p, "versions", {"U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE", "FIDO_2_1", "FIDO_2_2", "FIDO_2_3"});
       }},
      {"extensions", [](auto& n, auto& p, auto& o) { o.extensions = get_strings(n, p, "extensions"); }},
      {"transports",
       [](auto& n, auto& p, auto& o) {
         o.transports = get_strings(n, p, "transports", {"usb", "nfc", "ble", "smart-card", "hybrid", "internal"});
       }},
      {"commands",
       [](auto& n, auto& p, auto& o) {
         auto a = n.as_array();
         if (!a) bad(n, p, "commands", "must be an array of command names");
         std::vector<uint8_t> commands;
         for (const auto& e : *a) commands.push_back(command_byte(e, p));
         o.commands = std::move(commands);
       }},
      {"pin-protocols",
       [](auto& n, auto& p, auto& o) {
         auto a = n.as_array();
         if (!a || a->empty()) bad(n, p, "pin-protocols", "must be a non-empty array of 1 and/or 2");
         std::vector<int64_t> v;
         for (const auto& e : *a) {
           const int64_t x = static_cast<int64_t>(get_uint(e, p, "pin-protocols", 1, 2));
           if (std::find(v.begin(), v.end(), x) != v.end()) bad(e, p, "pin-protocols", "lists a protocol twice");
           v.push_back(x);
         }
         o.pin_protocols = std::move(v);
       }},
      {"pin-uv-auth-token", [](auto& n, auto& p, auto& o) { o.pin_uv_auth_token = get_bool(n, p, "pin-uv-auth-token"); }},
      {"make-cred-uv-not-required",
       [](auto& n, auto& p, auto& o) { o.make_cred_uv_not_required = get_bool(n, p, "make-cred-uv-not-required"); }},
      {"resident-keys", [](auto& n, auto& p, auto& o) { o.resident_keys = get_bool(n, p, "resident-keys"); }},
      {"no-credentials-immediately",
       [](auto& n, auto& p, auto& o) { o.no_credentials_immediately = get_bool(n, p, "no-credentials-immediately"); }},
      {"firmware-version",
       [](auto& n, auto& p, auto& o) { o.firmware_version = get_uint(n, p, "firmware-version", 0, UINT32_MAX); }},
      {"max-message-size",
       [](auto& n, auto& p, auto& o) { o.max_message_size = get_uint(n, p, "max-message-size", 64, 7609); }},
      {"max-credential-count-in-list",
       [](auto& n, auto& p, auto& o) {
         o.max_credential_count_in_list = get_uint(n, p, "max-credential-count-in-list", 1, 1000);
       }},
      {"max-credential-id-length",
       [](auto& n, auto& p, auto& o) { o.max_credential_id_length = get_uint(n, p, "max-credential-id-length", 64, 1024); }},
      {"max-resident-credentials",
       [](auto& n, auto& p, auto& o) {
         o.max_resident_credentials = get_uint(n, p, "max-resident-credentials", 0, 1'000'000);
       }},
      {"min-pin-length", [](auto& n, auto& p, auto& o) { o.min_pin_length = get_uint(n, p, "min-pin-length", 4, 63); }},
      {"max-pin-retries",
       [](auto& n, auto& p, auto& o) { o.max_pin_retries = static_cast<uint8_t>(get_uint(n, p, "max-pin-retries", 1, 8)); }},
      // CTAP 2.2: the pcmr permission, and the PIN complexity policy with its URL.
      {"per-cred-mgmt-ro",
       [](auto& n, auto& p, auto& o) { o.persistent_cred_mgmt_ro = get_bool(n, p, "per-cred-mgmt-ro"); }},
      {"pin-complexity-policy",
       [](auto& n, auto& p, auto& o) { o.pin_complexity_policy = get_bool(n, p, "pin-complexity-policy"); }},
      {"pin-complexity-policy-url",
       [](auto& n, auto& p, auto& o) {
         if (!n.is_string()) bad(n, p, "pin-complexity-policy-url", "must be a URL string");
         o.pin_complexity_policy_url = n.as_string()->get();
       }},
  };
  return s;
}

Persona parse_persona(const std::string& name, const toml::table& table, std::string origin) {
  Persona p{name, "", "", std::move(origin), &table, nullptr};
  if (auto* d = table.get("description")) {
    if (!d->is_string()) bad(*d, p, "description", "must be a string");
    p.description = d->as_string()->get();
  }
  if (auto* b = table.get("base")) {
    if (!b->is_string()) bad(*b, p, "base", "must be the name of a persona");
    p.base = b->as_string()->get();
  }
  return p;
}

}  // namespace

const std::vector<std::string>& persona_own_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k{"description", "base"};
    for (const auto& [key, _] : setters()) k.push_back(key);
    return k;
  }();
  return keys;
}

PersonaCatalog PersonaCatalog::built_in() {
  PersonaCatalog c;
  for (const auto& e : embedded_personas()) {
    const std::string origin = origin_of_built_in(e.name);
    auto f = std::make_shared<const ConfigFile>(parse_config(e.toml, origin));
    Persona p = parse_persona(e.name, f->root, origin);
    p.file = f;
    c.personas_.emplace(e.name, std::move(p));
  }
  return c;
}

void PersonaCatalog::add_from_config(const toml::table& personas, const std::string& file) {
  for (const auto& [k, body] : personas) {
    const std::string name(k.str());
    if (personas_.count(name) && personas_.at(name).origin == origin_of_built_in(name)) {
      throw ConfigError(source_location(body, file) + ": persona " + name +
                        " is built in; give yours a new name with base = \"" + name + "\"");
    }
    personas_[name] = parse_persona(name, *body.as_table(), file);
  }
}

const Persona* PersonaCatalog::find(const std::string& name) const {
  auto it = personas_.find(name);
  return it == personas_.end() ? nullptr : &it->second;
}

std::vector<const Persona*> PersonaCatalog::chain(const std::string& name) const {
  std::vector<const Persona*> out;
  std::string next = name;
  while (!next.empty()) {
    const Persona* p = find(next);
    if (!p) {
      std::string known;
      for (const auto& [n, _] : personas_) known += (known.empty() ? "" : ", ") + n;
      const std::string who = out.empty() ? "persona" : "base of persona " + out.back()->name + ":";
      throw ConfigError(who + " \"" + next + "\" is not a persona (known: " + known + ")");
    }
    if (std::find(out.begin(), out.end(), p) != out.end()) {
      throw ConfigError(p->origin + ": persona " + name + " is its own base (through " + out.back()->name + ")");
    }
    out.push_back(p);
    next = p->base;
  }
  return out;
}

void apply_persona_profile(const std::vector<const Persona*>& chain, ctap::Profile& profile) {
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Persona& p = **it;
    for (const auto& [k, node] : *p.table) {
      auto s = setters().find(std::string(k.str()));
      if (s != setters().end()) s->second(node, p, profile);
    }
  }
}

std::string describe_personas(const PersonaCatalog& catalog) {
  std::ostringstream out;
  for (const auto& [name, p] : catalog.all()) {
    out << name;
    if (!p.base.empty() && p.base != "default") out << " (based on " << p.base << ")";
    out << ": " << (p.description.empty() ? "(no description)" : p.description) << "\n";
  }
  return out.str();
}

}  // namespace vauth::daemon
