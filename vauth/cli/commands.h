// vauthctl's subcommands: each maps to one control API request (or, for
// `wait` and `events`, a loop of them) and renders the answer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vauth/cli/control_client.h"

namespace vauth::cli {

struct Invocation {
  std::string command;
  std::vector<std::string> args;
  bool json = false;                   // print the daemon's JSON as is
  std::optional<unsigned> timeout;     // presence: ms; wait: seconds
  std::optional<unsigned> delay;       // presence: ms
};

// Exit codes: 0 done, 1 the daemon refused or failed (4xx/5xx) or `wait` timed
// out, 2 bad usage, 3 the daemon is unreachable.
enum Exit { kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3 };

int run(const Invocation& inv, const ControlClient& client);

extern const char* const kCommandsHelp;

}  // namespace vauth::cli
