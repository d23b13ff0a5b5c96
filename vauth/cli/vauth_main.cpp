// vauth: one program, several subcommands, for working with vauth's keys
// without the kernel's help. Each subcommand is one entry in the table below.
#include <iostream>
#include <string>
#include <vector>

#include "vauth/cli/bench_command.h"
#include "vauth/cli/run_command.h"

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*main)(const std::vector<std::string>& args);
};

const Subcommand kSubcommands[] = {
    {"run", "run a program that sees vauth's keys as /dev/hidraw devices (no uhid, USB or root)",
     vauth::cli::run_command},
    {"bench", "measure vauth against this machine's crypto and transport limits (vauth-bench)",
     vauth::cli::bench_command},
};

void usage(std::ostream& out) {
  out << "vauth — tools around vauthd's virtual FIDO2 security keys\n\n"
         "Usage: vauth COMMAND [ARGS...]\n\nCommands:\n";
  for (const auto& c : kSubcommands) out << "  " << c.name << std::string(8 - std::string(c.name).size(), ' ') << c.summary << "\n";
  out << "\n`vauth COMMAND --help` describes one command. The daemon itself is vauthd; its control API client is vauthctl.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    usage(std::cout);
    return 0;
  }
  for (const auto& c : kSubcommands) {
    if (command == c.name) return c.main(std::vector<std::string>(argv + 2, argv + argc));
  }
  std::cerr << "vauth: unknown command '" << command << "'\n\n";
  usage(std::cerr);
  return 2;
}
