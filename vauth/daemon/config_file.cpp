#include "vauth/daemon/config_file.h"

#include <algorithm>
#include <boost/any.hpp>
#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace po = boost::program_options;

namespace vauth::daemon {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "true/false";
    default: return "a date/time";
  }
}

// The command-line token a scalar stands for.
std::string token_of(const toml::node& n, const std::string& key, const std::string& at) {
  if (auto s = n.as_string()) return s->get();
  if (auto i = n.as_integer()) return std::to_string(i->get());
  if (n.is_floating_point() || n.is_date() || n.is_time() || n.is_date_time()) return toml_text(n);
  throw ConfigError(at + ": " + key + " takes a value: a string or a number, not " + type_name(n));
}

// Whether the option collects several values when given several times (a
// std::vector option): try two occurrences on scratch storage. Parsing does not
// touch the option's bound variable (only po::notify does).
bool collects_values(const po::value_semantic& semantic, const std::vector<std::string>& tokens) {
  if (semantic.is_composing() || semantic.max_tokens() > 1) return true;
  if (tokens.size() < 2) return true;
  boost::any scratch;
  try {
    semantic.parse(scratch, {tokens[0]}, true);
    semantic.parse(scratch, {tokens[1]}, true);
  } catch (const po::multiple_occurrences&) {
    return false;
  } catch (const po::error&) {
    return true;  // a bad value: let the real store report it with its location
  }
  return true;
}

std::string join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) out += (out.empty() ? "" : ",") + t;
  return out;
}

}  // namespace

std::string toml_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&out](const auto& n) { out << n; });
  return out.str();
}

std::string source_location(const toml::node& node, const std::string& file) {
  const auto& begin = node.source().begin;
  if (!begin) return file;
  return file + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column);
}

std::vector<const toml::table*> ConfigFile::devices() const {
  std::vector<const toml::table*> out;
  if (auto a = root["device"].as_array()) {
    for (const auto& d : *a) out.push_back(d.as_table());
  }
  return out;
}

std::vector<const toml::table*> ConfigFile::personas() const {
  std::vector<const toml::table*> out;
  for (const char* key : {"persona", "personas"}) {
    if (auto t = root[key].as_table()) out.push_back(t);
  }
  return out;
}

std::vector<std::string> ConfigFile::structural_keys() const {
  std::vector<std::string> keys{"device", "personas"};
  if (root["persona"].is_table()) keys.push_back("persona");  // else it is the --persona option
  return keys;
}

ConfigFile parse_config(std::string_view text, std::string name) {
  ConfigFile f;
  f.name = std::move(name);
  try {
    f.root = toml::parse(text, f.name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(f.name + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                      std::string(e.description()));
  }
  if (auto* d = f.root.get("device")) {
    const auto* a = d->as_array();
    if (!a || !a->is_array_of_tables()) {
      throw ConfigError(source_location(*d, f.name) + ": device must be an array of tables: write [[device]] sections");
    }
  }
  for (const char* key : {"persona", "personas"}) {
    const auto* p = f.root.get(key);
    if (!p || (p->is_string() && std::string(key) == "persona")) continue;  // persona = "NAME" is the option
    const auto* t = p->as_table();
    if (!t) throw ConfigError(source_location(*p, f.name) + ": " + key + " must be a table: write [personas.NAME] sections");
    for (const auto& [name, body] : *t) {
      if (!body.is_table()) {
        throw ConfigError(source_location(body, f.name) + ": " + key + "." + std::string(name.str()) +
                          " must be a table: write [personas." + std::string(name.str()) + "]");
      }
    }
  }
  return f;
}

ConfigFile load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read the config file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_config(buf.str(), path);
}

void store_table(const toml::table& table, const std::string& file, const po::options_description& desc,
                 po::variables_map& vm, const std::vector<std::string>& skip, const ForbiddenKeys& forbidden,
                 std::map<std::string, std::string>& where) {
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    if (contains(skip, key)) continue;
    const std::string at = source_location(node, file);
    const auto& key_begin = k.source().begin;
    const std::string key_at =
        key_begin ? file + ":" + std::to_string(key_begin.line) + ":" + std::to_string(key_begin.column) : at;
    if (auto f = forbidden.find(key); f != forbidden.end()) throw ConfigError(key_at + ": " + key + " " + f->second);
    const po::option_description* d = desc.find_nothrow(key, false, false, false);
    if (!d || d->long_name() != key) {
      throw ConfigError(key_at + ": unknown key \"" + key + "\" (config keys are vauthd's long option names; see vauthd --help)");
    }
    const po::value_semantic& semantic = *d->semantic();
    const bool already_set = vm.count(key) && !vm[key].defaulted();

    po::parsed_options parsed(&desc);
    if (semantic.max_tokens() == 0) {  // a switch: key = true
      if (!node.is_boolean()) throw ConfigError(at + ": " + key + " is a switch: write " + key + " = true");
      if (!node.as_boolean()->get()) continue;
      parsed.options.emplace_back(key, std::vector<std::string>{});
    } else if (node.is_boolean()) {
      throw ConfigError(at + ": " + key + " takes a value, not true/false");
    } else if (node.is_table()) {
      throw ConfigError(at + ": " + key + " takes a value, not a table");
    } else if (const auto* array = node.as_array()) {
      std::vector<std::string> tokens;
      for (const auto& element : *array) tokens.push_back(token_of(element, key, source_location(element, file)));
      if (collects_values(semantic, tokens)) {
        if (semantic.max_tokens() > 1) parsed.options.emplace_back(key, tokens);
        else for (const auto& t : tokens) parsed.options.emplace_back(key, std::vector<std::string>{t});
      } else {
        parsed.options.emplace_back(key, std::vector<std::string>{join(tokens)});
      }
    } else {
      parsed.options.emplace_back(key, std::vector<std::string>{token_of(node, key, at)});
    }
    try {
      po::store(parsed, vm);
    } catch (const po::error& e) {
      throw ConfigError(at + ": " + key + ": " + e.what());
    }
    if (!already_set) where.emplace(key, at);
  }
}

toml::table to_toml(const po::variables_map& vm, const po::options_description& desc,
                    const std::vector<std::string>& leave_out) {
  toml::table out;
  for (const auto& d : desc.options()) {
    const std::string& key = d->long_name();
    if (contains(leave_out, key) || !vm.count(key)) continue;
    const boost::any& v = vm[key].value();
    if (d->semantic()->max_tokens() == 0) {
      out.insert(key, true);
    } else if (auto s = boost::any_cast<std::string>(&v)) {
      out.insert(key, *s);
    } else if (auto list = boost::any_cast<std::vector<std::string>>(&v)) {
      toml::array a;
      for (const auto& item : *list) a.push_back(item);
      out.insert(key, std::move(a));
    } else if (auto i = boost::any_cast<int>(&v)) {
      out.insert(key, int64_t{*i});
    } else if (auto u = boost::any_cast<unsigned>(&v)) {
      out.insert(key, int64_t{*u});
    } else if (auto l = boost::any_cast<long>(&v)) {
      out.insert(key, int64_t{*l});
    } else if (auto ul = boost::any_cast<unsigned long>(&v)) {
      // Beyond int64 (a 64-bit seed) TOML has no integer: a string is read back the same.
      if (*ul <= static_cast<unsigned long>(INT64_MAX)) out.insert(key, static_cast<int64_t>(*ul));
      else out.insert(key, std::to_string(*ul));
    } else if (auto u16 = boost::any_cast<uint16_t>(&v)) {
      out.insert(key, int64_t{*u16});
    } else if (auto dbl = boost::any_cast<double>(&v)) {
      out.insert(key, *dbl);
    } else if (auto b = boost::any_cast<bool>(&v)) {
      out.insert(key, *b);
    }
    // Other types: nothing printed rather than something wrong.
  }
  return out;
}

}  // namespace vauth::daemon
