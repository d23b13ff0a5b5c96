// Fault rules from text (the command line) and JSON (the control API, config
// files), and back. The grammar, documented in docs/faults.md:
//
//   RULE   := LAYER ":" [COMMAND ":"] ACTION ["=" VALUE] ("," OPTION "=" VALUE)*
//   LAYER  := ctaphid | ctap | u2f | presence | store | device
//   OPTION := times (N | once | forever) | nth | p | seed | cid | sub | ext | after | until
//
//   ctap:makeCredential:status=KEY_STORE_FULL,times=1
//   ctaphid:cbor:drop,p=0.25,seed=7
//   presence:deny,nth=2
//
// Every malformed rule is refused with a message that says what is wrong;
// nothing is half-applied.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "vauth/base/expected.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::faults {

Expected<Rule, std::string> parse_rule(std::string_view text);
// {"where": "ctap", "command": "makeCredential", "action": "status", "value": "KEY_STORE_FULL",
//  "times": 1, "nth": 0, "probability": 1.0, "seed": 1, "channel": 1, "subcommand": 2,
//  "extension": "hmac-secret", "after_ms": 0, "until_ms": 1000}   or   {"rule": "<text>"}
Expected<Rule, std::string> parse_rule_json(const nlohmann::json& json);

nlohmann::json to_json(const Rule& rule);
// A plan entry for listings: the rule, its id, text form and hit counts.
nlohmann::json to_json(const FaultPlan::Entry& entry);

// CTAP status codes by name ("KEY_STORE_FULL", "CTAP2_ERR_KEY_STORE_FULL", "0x28", "40").
std::optional<uint8_t> ctap_status_from_name(std::string_view name);
// CTAPHID error codes by name ("CHANNEL_BUSY", "ERR_CHANNEL_BUSY", "0x06").
std::optional<uint8_t> ctaphid_error_from_name(std::string_view name);

}  // namespace vauth::faults
