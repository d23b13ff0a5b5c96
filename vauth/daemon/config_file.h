// vauthd's TOML config file (docs/config.md). Its top-level keys are vauthd's
// command-line options by their long names: each key is turned into the tokens
// the command line would have given and stored through the very
// options_description the command line uses, so every option (including ones
// added later) is a config key, parsed and validated by the same code.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace vauth::daemon {

// A mistake in a config file or persona, as "FILE:LINE:COLUMN: what is wrong".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A node as TOML text (values, arrays and tables alike).
std::string toml_text(const toml::node& node);

// "FILE:LINE:COLUMN" of a node (just FILE when the position is unknown).
std::string source_location(const toml::node& node, const std::string& file);

struct ConfigFile {
  std::string name;  // the path, as errors cite it
  toml::table root;

  std::vector<const toml::table*> devices() const;  // the [[device]] tables, in order
  // The persona definitions: [personas.NAME] tables, and [persona.NAME] ones
  // (the same; but a file that also says persona = "NAME" at its top level
  // can only use [personas.NAME], as TOML allows one meaning per key).
  std::vector<const toml::table*> personas() const;
  // Top-level keys that are tables of the file itself, not options.
  std::vector<std::string> structural_keys() const;
};

// Parses TOML text; syntax errors and a misshapen [[device]] / [persona] are ConfigErrors.
ConfigFile parse_config(std::string_view text, std::string name);
ConfigFile load_config(const std::string& path);

// What a table may not set, and why (e.g. "help" → "only on the command line").
using ForbiddenKeys = std::map<std::string, std::string>;

// Stores the keys of `table` into `vm` as options of `desc`: strings as they
// are, numbers in decimal, `true` for a switch (false leaves it off), arrays as
// repeated options when the option collects several values and as a
// comma-separated list otherwise. Values already in `vm` win (po::store keeps
// the first), so store the command line first. `skip` names keys the caller
// handles itself. `where` receives "FILE:LINE:COLUMN" of each option taken
// from this table, for later error messages.
void store_table(const toml::table& table, const std::string& file, const boost::program_options::options_description& desc,
                 boost::program_options::variables_map& vm, const std::vector<std::string>& skip,
                 const ForbiddenKeys& forbidden, std::map<std::string, std::string>& where);

// The values in `vm` as TOML (for --print-config); keys in `leave_out` are left out.
toml::table to_toml(const boost::program_options::variables_map& vm,
                    const boost::program_options::options_description& desc, const std::vector<std::string>& leave_out);

}  // namespace vauth::daemon
