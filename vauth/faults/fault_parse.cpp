#include "vauth/faults/fault_parse.h"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

namespace vauth::faults {
namespace {

using Result = Expected<Rule, std::string>;

constexpr int64_t kMaxMillis = 3'600'000;  // an hour: longer is a typo, not a test
constexpr int64_t kMaxIndex = 1'000'000;

// CTAP 2.1 §8.2 status names without their CTAP1_ERR_/CTAP2_ERR_ prefix. A unit
// test checks this table against vauth::ctap::to_string(Status), which this
// library may not include (it sits below vauth/ctap).
constexpr std::array<std::pair<const char*, uint8_t>, 50> kCtapStatus = {{
    {"OK", 0x00}, {"INVALID_COMMAND", 0x01}, {"INVALID_PARAMETER", 0x02}, {"INVALID_LENGTH", 0x03},
    {"INVALID_SEQ", 0x04}, {"TIMEOUT", 0x05}, {"CHANNEL_BUSY", 0x06}, {"LOCK_REQUIRED", 0x0a},
    {"INVALID_CHANNEL", 0x0b}, {"CBOR_UNEXPECTED_TYPE", 0x11}, {"INVALID_CBOR", 0x12},
    {"MISSING_PARAMETER", 0x14}, {"LIMIT_EXCEEDED", 0x15}, {"UNSUPPORTED_EXTENSION", 0x16},
    {"FP_DATABASE_FULL", 0x17}, {"LARGE_BLOB_STORAGE_FULL", 0x18}, {"CREDENTIAL_EXCLUDED", 0x19},
    {"PROCESSING", 0x21}, {"INVALID_CREDENTIAL", 0x22}, {"USER_ACTION_PENDING", 0x23},
    {"OPERATION_PENDING", 0x24}, {"NO_OPERATIONS", 0x25}, {"UNSUPPORTED_ALGORITHM", 0x26},
    {"OPERATION_DENIED", 0x27}, {"KEY_STORE_FULL", 0x28}, {"NOT_BUSY", 0x29}, {"NO_OPERATION_PENDING", 0x2a},
    {"UNSUPPORTED_OPTION", 0x2b}, {"INVALID_OPTION", 0x2c}, {"KEEPALIVE_CANCEL", 0x2d},
    {"NO_CREDENTIALS", 0x2e}, {"USER_ACTION_TIMEOUT", 0x2f}, {"NOT_ALLOWED", 0x30}, {"PIN_INVALID", 0x31},
    {"PIN_BLOCKED", 0x32}, {"PIN_AUTH_INVALID", 0x33}, {"PIN_AUTH_BLOCKED", 0x34}, {"PIN_NOT_SET", 0x35},
    {"PUAT_REQUIRED", 0x36}, {"PIN_POLICY_VIOLATION", 0x37}, {"PIN_TOKEN_EXPIRED", 0x38},
    {"REQUEST_TOO_LARGE", 0x39}, {"ACTION_TIMEOUT", 0x3a}, {"UP_REQUIRED", 0x3b}, {"UV_BLOCKED", 0x3c},
    {"INTEGRITY_FAILURE", 0x3d}, {"INVALID_SUBCOMMAND", 0x3e}, {"UV_INVALID", 0x3f},
    {"UNAUTHORIZED_PERMISSION", 0x40}, {"OTHER", 0x7f},
}};

constexpr std::array<std::pair<const char*, uint8_t>, 9> kCtaphidErrors = {{
    {"INVALID_CMD", 0x01}, {"INVALID_PAR", 0x02}, {"INVALID_LEN", 0x03}, {"INVALID_SEQ", 0x04},
    {"MSG_TIMEOUT", 0x05}, {"CHANNEL_BUSY", 0x06}, {"LOCK_REQUIRED", 0x0a}, {"INVALID_CHANNEL", 0x0b},
    {"OTHER", 0x7f},
}};

std::string_view strip_prefix(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (s.substr(0, p.size()) == p) return s.substr(p.size());
  }
  return s;
}

// Decimal or 0x-prefixed hex, the whole string, no sign.
std::optional<uint64_t> parse_number(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_probability(std::string_view s) {
  // std::from_chars for double is in GCC 12's libstdc++ (and clang's via it).
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !(v >= 0.0 && v <= 1.0)) return std::nullopt;
  return v;
}

template <size_t N>
std::optional<uint8_t> code_by_name(const std::array<std::pair<const char*, uint8_t>, N>& table, std::string_view name) {
  for (const auto& [n, code] : table) {
    if (name == n) return code;
  }
  if (auto v = parse_number(name); v && *v <= 0xff) return static_cast<uint8_t>(*v);
  return std::nullopt;
}

// The action's argument from its text, checked against what the action takes.
Expected<std::optional<int64_t>, std::string> action_value(Layer layer, Action action,
                                                          std::optional<std::string_view> text) {
  using Out = std::optional<int64_t>;
  const std::string name = to_string(action);
  auto number = [&](int64_t max, const char* unit) -> Expected<Out, std::string> {
    auto v = parse_number(*text);
    if (!v || *v > static_cast<uint64_t>(max)) {
      return unexpected(name + " wants " + unit + " from 0 to " + std::to_string(max) + ", not \"" +
                        std::string(*text) + "\"");
    }
    return Out(static_cast<int64_t>(*v));
  };
  switch (action) {
    case Action::Status:
      if (!text) return unexpected(std::string("status needs a value, e.g. status=KEY_STORE_FULL"));
      if (layer == Layer::U2f) return number(0xffff, "an ISO 7816 status word");
      if (auto code = ctap_status_from_name(*text)) return Out(*code);
      return unexpected("unknown CTAP status \"" + std::string(*text) + "\"");
    case Action::Error:
      if (!text) return unexpected(std::string("error needs a value, e.g. error=CHANNEL_BUSY"));
      if (auto code = ctaphid_error_from_name(*text)) return Out(*code);
      return unexpected("unknown CTAPHID error \"" + std::string(*text) + "\"");
    case Action::Delay:
    case Action::Pace:
    case Action::Approve:
      if (!text) return unexpected(name + " needs milliseconds, e.g. " + name + "=500");
      return number(kMaxMillis, "milliseconds");
    case Action::Timeout:
    case Action::Unplug:
      if (!text) return Out();
      return number(kMaxMillis, "milliseconds");
    case Action::Drop:
    case Action::Duplicate:
    case Action::Corrupt:
    case Action::Truncate:
    case Action::MissingField:
      if (!text) return Out();
      return number(kMaxIndex, "a number");
    default:
      if (text) return unexpected(name + " takes no value");
      return Out();
  }
}

// Commands and extension names must survive the text form: no separators, no control characters.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == ':' || c == ',' || c == '=') return false;
  }
  return true;
}

Result finish(Rule r) {
  if (!layer_supports(r.layer, r.action)) {
    return unexpected(std::string("the ") + to_string(r.layer) + " layer has no action " + to_string(r.action));
  }
  if (r.match.after && r.match.until && *r.match.until <= *r.match.after) {
    return unexpected(std::string("until must be later than after"));
  }
  return r;
}

// One OPTION=VALUE of the text form (or the JSON field of the same meaning).
std::optional<std::string> apply_option(Rule& r, std::string_view key, std::string_view value) {
  auto bad = [&](const char* what) { return std::string(key) + " wants " + what + ", not \"" + std::string(value) + "\""; };
  auto number = parse_number(value);
  if (key == "times") {
    if (value == "once") r.times = 1;
    else if (value == "forever") r.times = 0;
    else if (number && *number >= 1 && *number <= static_cast<uint64_t>(kMaxIndex)) r.times = *number;
    else return bad("once, forever or a count from 1");
  } else if (key == "nth") {
    if (!number || *number < 1 || *number > static_cast<uint64_t>(kMaxIndex)) return bad("a call number from 1");
    r.match.nth = *number;
  } else if (key == "p") {
    auto p = parse_probability(value);
    if (!p) return bad("a probability from 0 to 1");
    r.match.probability = *p;
  } else if (key == "seed") {
    if (!number) return bad("an unsigned integer");
    r.match.seed = *number;
  } else if (key == "cid") {
    if (!number || *number > 0xffffffffULL) return bad("a 32-bit channel ID");
    r.match.channel = static_cast<uint32_t>(*number);
  } else if (key == "sub") {
    if (!number || *number > 0xff) return bad("a subcommand number");
    r.match.subcommand = *number;
  } else if (key == "ext") {
    if (!valid_name(value)) return bad("an extension identifier");
    r.match.extension = std::string(value);
  } else if (key == "after" || key == "until") {
    if (!number || *number > static_cast<uint64_t>(kMaxMillis)) return bad("milliseconds");
    (key == "after" ? r.match.after : r.match.until) = Duration(static_cast<int64_t>(*number));
  } else {
    return "unknown option \"" + std::string(key) + "\"";
  }
  return std::nullopt;
}

std::string value_text(const Rule& r) {
  if (!r.value) return "";
  const int64_t v = *r.value;
  if (r.action == Action::Status && r.layer == Layer::Ctap) {
    for (const auto& [n, code] : kCtapStatus) {
      if (code == v) return n;
    }
  }
  if (r.action == Action::Error) {
    for (const auto& [n, code] : kCtaphidErrors) {
      if (code == v) return n;
    }
  }
  if (r.action == Action::Status) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%02llx", static_cast<unsigned long long>(v));
    return buf;
  }
  return std::to_string(v);
}

}  // namespace

std::optional<uint8_t> ctap_status_from_name(std::string_view name) {
  return code_by_name(kCtapStatus, strip_prefix(name, {"CTAP1_ERR_", "CTAP2_ERR_", "CTAP2_", "ERR_"}));
}

std::optional<uint8_t> ctaphid_error_from_name(std::string_view name) {
  return code_by_name(kCtaphidErrors, strip_prefix(name, {"CTAPHID_ERR_", "ERR_"}));
}

Result parse_rule(std::string_view text) {
  if (text.empty()) return unexpected(std::string("empty fault rule"));
  if (text.size() > 512) return unexpected(std::string("fault rule longer than 512 characters"));
  const size_t comma = text.find(',');
  const std::string_view head = text.substr(0, comma);
  std::string_view options = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);

  // LAYER ":" [COMMAND ":"] ACTION ["=" VALUE]
  const size_t c1 = head.find(':');
  if (c1 == std::string_view::npos) {
    return unexpected(std::string("a fault rule is LAYER:[COMMAND:]ACTION, e.g. ctap:makeCredential:status=KEY_STORE_FULL"));
  }
  Rule r;
  auto layer = layer_from_string(head.substr(0, c1));
  if (!layer) return unexpected("unknown layer \"" + std::string(head.substr(0, c1)) + "\" (ctaphid, ctap, u2f, presence, store, device)");
  r.layer = *layer;
  std::string_view rest = head.substr(c1 + 1);
  const size_t c2 = rest.find(':');
  if (c2 != std::string_view::npos) {
    r.match.command = std::string(rest.substr(0, c2));
    if (r.match.command.empty()) return unexpected(std::string("empty command (use * for any)"));
    if (!valid_name(r.match.command)) return unexpected(std::string("a command has no ':', ',', '=' or control characters"));
    rest = rest.substr(c2 + 1);
  }
  const size_t eq = rest.find('=');
  const std::string_view action_name = rest.substr(0, eq);
  auto action = action_from_string(action_name);
  if (!action) return unexpected("unknown action \"" + std::string(action_name) + "\"");
  r.action = *action;
  std::optional<std::string_view> value;
  if (eq != std::string_view::npos) value = rest.substr(eq + 1);
  if (!layer_supports(r.layer, r.action)) return finish(r);  // the precise message
  auto v = action_value(r.layer, r.action, value);
  if (!v) return unexpected(v.error());
  r.value = *v;

  while (!options.empty()) {
    const size_t next = options.find(',');
    const std::string_view opt = options.substr(0, next);
    options = next == std::string_view::npos ? std::string_view() : options.substr(next + 1);
    const size_t oeq = opt.find('=');
    if (oeq == std::string_view::npos) return unexpected("option \"" + std::string(opt) + "\" wants OPTION=VALUE");
    if (auto err = apply_option(r, opt.substr(0, oeq), opt.substr(oeq + 1))) return unexpected(*err);
  }
  return finish(std::move(r));
}

Result parse_rule_json(const nlohmann::json& j) {
  if (!j.is_object()) return unexpected(std::string("a fault rule is a JSON object"));
  if (j.contains("rule")) {
    if (j.size() != 1 || !j.at("rule").is_string()) {
      return unexpected(std::string("\"rule\" is a string and comes alone"));
    }
    return parse_rule(j.at("rule").get<std::string>());
  }
  Rule r;
  bool have_action = false;
  std::optional<std::string> value_str;
  for (const auto& item : j.items()) {
    const std::string& key = item.key();  // not a structured binding: clang 14 cannot capture those
    const nlohmann::json& v = item.value();
    auto text = [&]() -> std::optional<std::string> {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
      if (v.is_number_integer() && v.get<int64_t>() >= 0) return std::to_string(v.get<int64_t>());
      return std::nullopt;
    }();
    if (key == "where") {
      auto l = v.is_string() ? layer_from_string(v.get<std::string>()) : std::nullopt;
      if (!l) return unexpected(std::string("where must be ctaphid, ctap, u2f, presence, store or device"));
      r.layer = *l;
    } else if (key == "command") {
      if (!v.is_string() || !valid_name(v.get<std::string>())) {
        return unexpected(std::string("command must be a name without ':', ',', '=' or control characters"));
      }
      r.match.command = v.get<std::string>();
    } else if (key == "action") {
      auto a = v.is_string() ? action_from_string(v.get<std::string>()) : std::nullopt;
      if (!a) return unexpected(std::string("unknown action ") + v.dump().substr(0, 64));
      r.action = *a;
      have_action = true;
    } else if (key == "value") {
      if (!text) return unexpected(std::string("value must be a string or a non-negative integer"));
      value_str = text;
    } else if (key == "probability") {
      if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() <= 1.0)) {
        return unexpected(std::string("probability must be a number from 0 to 1"));
      }
      r.match.probability = v.get<double>();
    } else {
      static const std::array<std::pair<const char*, const char*>, 8> kFields = {{{"times", "times"},
                                                                                  {"nth", "nth"},
                                                                                  {"seed", "seed"},
                                                                                  {"channel", "cid"},
                                                                                  {"subcommand", "sub"},
                                                                                  {"extension", "ext"},
                                                                                  {"after_ms", "after"},
                                                                                  {"until_ms", "until"}}};
      const char* option = nullptr;
      for (const auto& [field, opt] : kFields) {
        if (key == field) option = opt;
      }
      if (!option) return unexpected("unknown field \"" + key.substr(0, 64) + "\"");
      if (!text) return unexpected(key + " must be a string or a non-negative integer");
      if (key == "times" && *text == "0") *text = "forever";
      if (key == "nth" && *text == "0") continue;  // 0: every call, the default
      if (auto err = apply_option(r, option, *text)) return unexpected(*err);
    }
  }
  if (!j.contains("where")) return unexpected(std::string("where is required"));
  if (!have_action) return unexpected(std::string("action is required"));
  if (!layer_supports(r.layer, r.action)) return finish(r);
  auto v = action_value(r.layer, r.action, value_str ? std::optional<std::string_view>(*value_str) : std::nullopt);
  if (!v) return unexpected(v.error());
  r.value = *v;
  return finish(std::move(r));
}

std::string Rule::text() const {
  std::string out = to_string(layer);
  out += ':';
  if (!match.command.empty()) out += match.command + ':';
  out += to_string(action);
  if (value) out += "=" + value_text(*this);
  if (times != 0) out += ",times=" + std::to_string(times);
  if (match.nth != 0) out += ",nth=" + std::to_string(match.nth);
  if (match.probability < 1.0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", match.probability);
    out += ",p=" + std::string(buf) + ",seed=" + std::to_string(match.seed);
  }
  if (match.channel) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", *match.channel);
    out += ",cid=" + std::string(buf);
  }
  if (match.subcommand) out += ",sub=" + std::to_string(*match.subcommand);
  if (!match.extension.empty()) out += ",ext=" + match.extension;
  if (match.after) out += ",after=" + std::to_string(match.after->count());
  if (match.until) out += ",until=" + std::to_string(match.until->count());
  return out;
}

nlohmann::json to_json(const Rule& r) {
  nlohmann::json j = {{"where", to_string(r.layer)}, {"action", to_string(r.action)}, {"times", r.times}};
  if (!r.match.command.empty()) j["command"] = r.match.command;
  if (r.value) j["value"] = *r.value;
  if (r.match.nth) j["nth"] = r.match.nth;
  if (r.match.probability < 1.0) {
    j["probability"] = r.match.probability;
    j["seed"] = r.match.seed;
  }
  if (r.match.channel) j["channel"] = *r.match.channel;
  if (r.match.subcommand) j["subcommand"] = *r.match.subcommand;
  if (!r.match.extension.empty()) j["extension"] = r.match.extension;
  if (r.match.after) j["after_ms"] = r.match.after->count();
  if (r.match.until) j["until_ms"] = r.match.until->count();
  return j;
}

nlohmann::json to_json(const FaultPlan::Entry& e) {
  nlohmann::json j = to_json(e.rule);
  j["id"] = e.id;
  j["rule"] = e.rule.text();
  j["matched"] = e.matched;
  j["fired"] = e.fired;
  return j;
}

}  // namespace vauth::faults
