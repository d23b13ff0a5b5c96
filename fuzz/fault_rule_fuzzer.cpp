// Fuzzes the fault rule parsers (the --fault text form and the control API's
// JSON form). Besides memory safety it checks the round trip the listing
// relies on: every accepted rule prints as text that parses to the same text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vauth/faults/fault_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vauth::faults;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto rule = parse_rule(text)) {
    auto again = parse_rule(rule->text());
    if (!again || again->text() != rule->text()) __builtin_trap();
    if (!parse_rule_json(to_json(*rule))) __builtin_trap();
  }
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) {
    if (auto rule = parse_rule_json(json)) {
      auto again = parse_rule(rule->text());
      if (!again || again->text() != rule->text()) __builtin_trap();
    }
  }
  return 0;
}
