// vauthctl: a thin client of vauthd's control API (docs/control-api.md).
#include <boost/program_options.hpp>
#include <iostream>

#include "vauth/cli/commands.h"
#include "vauth/cli/control_client.h"

namespace po = boost::program_options;
using namespace vauth::cli;

int main(int argc, char** argv) {
  Invocation inv;
  std::string socket = default_socket_path();
  unsigned timeout = 0, delay = 0;

  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help and exit")
      ("socket,s", po::value(&socket)->value_name("PATH"),
       "vauthd's control socket (default $VAUTH_CONTROL_SOCKET, else vauthd's default)")
      ("json", "print the daemon's JSON answer as is (for scripts)")
      ("timeout", po::value(&timeout)->value_name("N"), "presence: manual-mode timeout in ms; wait: seconds")
      ("delay", po::value(&delay)->value_name("MS"), "presence: auto/deny answer delay in ms");
  po::options_description hidden;
  hidden.add_options()
      ("command", po::value(&inv.command))
      ("args", po::value(&inv.args));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "vauthctl: " << e.what() << " (see vauthctl --help)\n";
    return kUsage;
  }
  if (vm.count("help") || inv.command.empty()) {
    (vm.count("help") ? std::cout : std::cerr)
        << "vauthctl — control a running vauthd (virtual FIDO2 keys).\n\n"
           "Usage: vauthctl [--socket PATH] [--json] COMMAND [ARGS...]\n\n"
        << kCommandsHelp << "\n" << options
        << "\nExit status: 0 done, 1 vauthd refused or failed, or wait timed out, 2 bad usage, 3 vauthd unreachable.\n";
    return vm.count("help") ? kOk : kUsage;
  }
  inv.json = vm.count("json") > 0;
  if (vm.count("timeout")) inv.timeout = timeout;
  if (vm.count("delay")) inv.delay = delay;
  return run(inv, ControlClient(socket));
}
