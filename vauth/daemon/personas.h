// Personas: named profiles that set getInfo, algorithms, extensions, limits
// and quirks together (docs/config.md). They are data: TOML files in
// vauth/daemon/personas/ compiled into vauthd (so the binary needs no install
// path and a config can rely on them), plus [persona.NAME] tables of a config
// file, each optionally built on another (`base`).
//
// A persona table holds two kinds of keys: profile keys (below) that only a
// persona can set, and vauthd options (aaguid, algorithms, name, vid, ...)
// that act as defaults the config file and command line override.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "vauth/ctap/profile.h"

namespace vauth::daemon {

struct Persona {
  std::string name;
  std::string description;
  std::string base;    // "" for none
  std::string origin;  // where it was defined, as error messages cite it
  // The persona's table inside its parsed file (copies of TOML nodes lose their
  // source positions, which error messages need); `file` keeps a built-in one alive.
  const toml::table* table = nullptr;
  std::shared_ptr<const void> file;
};

class PersonaCatalog {
 public:
  // The personas compiled into vauthd.
  static PersonaCatalog built_in();

  // Adds the [persona.NAME] tables of a config file (which must outlive the
  // catalog); a name may not shadow a built-in one.
  void add_from_config(const toml::table& personas, const std::string& file);

  const Persona* find(const std::string& name) const;
  // The persona followed by its bases. Throws ConfigError for an unknown name or a loop.
  std::vector<const Persona*> chain(const std::string& name) const;
  const std::map<std::string, Persona>& all() const { return personas_; }

 private:
  std::map<std::string, Persona> personas_;
};

// The keys only a persona sets (not vauthd options), plus "description" and "base".
const std::vector<std::string>& persona_own_keys();

// Applies the profile keys of `chain` (as chain() returns it: bases applied first).
// Throws ConfigError for a wrong type or value.
void apply_persona_profile(const std::vector<const Persona*>& chain, ctap::Profile& profile);

// `vauthd --list-personas`.
std::string describe_personas(const PersonaCatalog& catalog);

// The TOML texts compiled in (generated from vauth/daemon/personas/*.toml).
struct EmbeddedPersona {
  const char* name;
  const char* toml;
};
const std::vector<EmbeddedPersona>& embedded_personas();

}  // namespace vauth::daemon
