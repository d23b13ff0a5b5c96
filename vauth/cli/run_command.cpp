#include "vauth/cli/run_command.h"

#include "vauth/cli/sibling_program.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "kernelfree/hidraw_testbed.h"
#include "vauth/cli/private_daemon.h"
#include "vauth/cli/spawn.h"

namespace po = boost::program_options;

namespace vauth::cli {
namespace {

constexpr int kOwnError = 125;  // as env(1), timeout(1): vauth run itself failed

constexpr const char* kUsage = R"(Usage: vauth run [options] -- PROGRAM [ARGS...]

Runs PROGRAM so that it, and every process it starts, sees vauth's virtual
security keys as USB keys (/dev/hidrawN, /sys/class/hidraw, libudev)
without uhid, USB/IP, kernel modules or root. PROGRAM's exit status is vauth
run's; SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to vauth run are passed on.

By default vauth run starts its own vauthd (the one next to this program, or
--vauthd) with memory-only state and stops it afterwards; --connect uses keys
of a vauthd you started with --transport seqpacket instead.
)";

struct RunOptions {
  std::vector<std::string> connect;
  size_t devices = 1;
  std::optional<std::string> pin, presence, control_socket, vauthd, import_file;
  std::optional<uint64_t> seed;
  std::vector<std::string> daemon_options;
  bool verbose = false;
  std::vector<std::string> program;
};

void error(const std::string& what) { std::cerr << "vauth run: " << what << std::endl; }

// The vauthd to start: --vauthd, else the one beside this program (installed
// layout) or in the build tree's daemon directory, else vauthd from PATH.
std::string find_vauthd(const std::optional<std::string>& chosen) {
  return chosen ? *chosen : find_sibling_program("vauthd", "vauth/daemon/vauthd");
}

// The fork guard preload library, next to vauth when installed or in the build
// tree; empty (with a warning) when neither has it.
std::string fork_guard_library() {
  const std::string name = "libvauth-umockdev-fork-guard.so";
  const std::string found = find_sibling_program(name, "kernelfree/" + name);
  if (found != name) return found;
  error(name + " not found next to vauth; a program that forks may hang under umockdev");
  return "";
}

// Parses options; nullopt after printing help (exit 0) or an error (exit 125).
std::optional<RunOptions> parse(const std::vector<std::string>& args, int& exit_code) {
  auto dashdash = std::find(args.begin(), args.end(), "--");
  std::vector<std::string> own(args.begin(), dashdash);
  RunOptions o;
  if (dashdash != args.end()) o.program.assign(dashdash + 1, args.end());

  std::string presence, pin, control_socket, vauthd, import_file;
  uint64_t seed = 0;
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help and exit")
      ("connect", po::value(&o.connect)->value_name("SOCKET"),
       "use this key of a running vauthd (--transport seqpacket prints each key's socket); repeat for "
       "several keys. Without it vauth run starts its own vauthd")
      ("devices", po::value(&o.devices)->value_name("N"), "own vauthd: how many keys (default 1), /dev/hidraw0 ...")
      ("pin", po::value(&pin)->value_name("PIN"), "own vauthd: start with this PIN set")
      ("import", po::value(&import_file)->value_name("FILE"),
       "own vauthd: every key starts as the exported key FILE describes (vauthctl export), a golden key")
      ("presence", po::value(&presence)->value_name("auto|deny|manual"), "own vauthd: user presence policy")
      ("seed", po::value(&seed)->value_name("N"), "own vauthd: deterministic keys")
      ("control-socket", po::value(&control_socket)->value_name("PATH"),
       "own vauthd: serve the control API here (vauthctl --socket PATH), e.g. to touch with --presence manual")
      ("daemon-option", po::value(&o.daemon_options)->value_name("ARG"),
       "own vauthd: pass ARG on verbatim (repeatable), e.g. --daemon-option=--no-u2f")
      ("vauthd", po::value(&vauthd)->value_name("PATH"), "own vauthd: the program to start")
      ("verbose,v", "show vauthd's and the bridge's log on stderr");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(own).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    error(std::string(e.what()) + " (see vauth run --help)");
    exit_code = kOwnError;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << desc;
    exit_code = 0;
    return std::nullopt;
  }
  if (o.program.empty()) {
    error(dashdash == args.end() ? "missing `-- PROGRAM [ARGS...]` (see vauth run --help)" : "no program after --");
    exit_code = kOwnError;
    return std::nullopt;
  }
  const bool own_daemon_options = vm.count("devices") || vm.count("pin") || vm.count("import") ||
                                  vm.count("presence") || vm.count("seed") ||
                                  vm.count("control-socket") || vm.count("daemon-option") || vm.count("vauthd");
  if (!o.connect.empty() && own_daemon_options) {
    error("--connect uses a running vauthd; --devices, --pin, --import, --presence, --seed, --control-socket, "
          "--daemon-option and --vauthd only apply to the one vauth run starts");
    exit_code = kOwnError;
    return std::nullopt;
  }
  if (o.devices < 1 || o.devices > 16) {
    error("--devices must be between 1 and 16");
    exit_code = kOwnError;
    return std::nullopt;
  }
  if (o.connect.size() > 16) {
    error("at most 16 --connect sockets");
    exit_code = kOwnError;
    return std::nullopt;
  }
  if (vm.count("pin")) o.pin = pin;
  // vauthd resolves the path from its own working directory: give it an absolute one.
  if (vm.count("import")) o.import_file = std::filesystem::absolute(import_file).string();
  if (vm.count("presence")) o.presence = presence;
  if (vm.count("seed")) o.seed = seed;
  if (vm.count("control-socket")) o.control_socket = control_socket;
  if (vm.count("vauthd")) o.vauthd = vauthd;
  o.verbose = vm.count("verbose") > 0;
  return o;
}

std::vector<std::string> daemon_arguments(const RunOptions& o) {
  std::vector<std::string> args;
  if (o.control_socket) {
    args.insert(args.end(), {"--control-socket", *o.control_socket});
  } else {
    args.push_back("--no-control");
  }
  if (o.pin) args.insert(args.end(), {"--pin", *o.pin});
  if (o.import_file) args.insert(args.end(), {"--import", *o.import_file});
  if (o.presence) args.insert(args.end(), {"--presence", *o.presence});
  if (o.seed) args.insert(args.end(), {"--seed", std::to_string(*o.seed)});
  args.insert(args.end(), o.daemon_options.begin(), o.daemon_options.end());
  return args;
}

int exit_status_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kOwnError;
}

// Waits for the program, passing on the signals vauth run receives. Signals
// from the terminal (Ctrl-C) already reach the program, which shares our
// process group; those sent to vauth run alone (kill, a CI runner's timeout)
// are forwarded.
int supervise(pid_t program, const sigset_t& signals, kernelfree::HidrawTestbed& testbed, PrivateDaemon* daemon) {
  for (;;) {
    siginfo_t info{};
    const int sig = ::sigwaitinfo(&signals, &info);
    if (sig < 0) continue;  // EINTR
    if (sig == SIGCHLD) {
      int status = 0;
      if (daemon && daemon->pid() > 0 && ::waitpid(daemon->pid(), &status, WNOHANG) == daemon->pid()) {
        daemon->forget_process();
        error("vauthd stopped unexpectedly (status " + std::to_string(exit_status_of(status)) +
              "); the keys are unplugged");
      }
      const pid_t r = ::waitpid(program, &status, WNOHANG);
      if (r == program) return exit_status_of(status);
      continue;
    }
    if (info.si_code == SI_USER || info.si_code == SI_QUEUE || info.si_code == SI_TKILL) ::kill(program, sig);
    // The preload library blocks the program's signals while it waits in a
    // read of a key: end those reads so the signal can land.
    testbed.interrupt_reads();
  }
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  int exit_code = 0;
  const auto parsed = parse(args, exit_code);
  if (!parsed) return exit_code;
  const RunOptions& o = *parsed;

  // Blocked before any thread exists (umockdev starts a worker), so every
  // thread leaves these signals to sigwaitinfo() below.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a key's socket closing under a write is an error code, not a death

  // Output the bridge (and umockdev) would log goes nowhere unless asked for.
  if (!o.verbose) std::clog.setstate(std::ios::failbit);

  std::unique_ptr<PrivateDaemon> daemon;
  std::vector<AnnouncedKey> keys;
  try {
    if (o.connect.empty()) {
      daemon = std::make_unique<PrivateDaemon>(find_vauthd(o.vauthd), daemon_arguments(o), o.devices, o.verbose);
      keys = daemon->keys();
    } else {
      for (size_t i = 0; i < o.connect.size(); ++i) {
        AnnouncedKey k;
        k.index = i + 1;
        k.name = "vauth virtual FIDO2 key";
        k.serial = "vauth-" + std::to_string(i + 1);
        k.socket = std::filesystem::absolute(o.connect[i]).string();
        std::error_code ec;
        if (!std::filesystem::is_socket(k.socket, ec)) {
          throw std::runtime_error("--connect " + o.connect[i] + " is not a socket (vauthd --transport seqpacket "
                                   "prints each key's socket)");
        }
        keys.push_back(k);
      }
    }
  } catch (const std::exception& e) {
    error(e.what());
    return kOwnError;
  }

  int status = kOwnError;
  {
    std::unique_ptr<kernelfree::HidrawTestbed> testbed;
    try {
      testbed = std::make_unique<kernelfree::HidrawTestbed>();
      for (const auto& k : keys) {
        kernelfree::HidrawIdentity id;
        id.name = k.name;
        id.uniq = k.serial;
        const std::string node = testbed->add_key(id, k.socket);
        if (o.verbose) error("key " + std::to_string(k.index) + " (" + k.socket + ") is " + node);
      }
    } catch (const std::exception& e) {
      error(std::string("cannot build the device view: ") + e.what());
      return kOwnError;
    }

    // umockdev's preload library first, then our fork guard (without it, a
    // multi-threaded program that forks can hang its child: kernelfree/umockdev_fork_guard.cpp),
    // then whatever the caller preloads.
    std::string preload = fork_guard_library();
    if (const char* caller = std::getenv("LD_PRELOAD"); caller && *caller) preload += (preload.empty() ? "" : ":") + std::string(caller);
    const auto env = with_variables(environment_without_test_bed(), testbed->environment(preload));
    const SpawnResult child = spawn(o.program, env, SpawnOptions{});
    if (child.error != 0) {
      error("cannot start " + o.program[0] + ": " + std::strerror(child.error));
      status = child.error == ENOENT ? 127 : 126;
    } else {
      status = supervise(child.pid, signals, *testbed, daemon.get());
    }
    testbed->shut_down();
  }
  if (daemon) daemon->stop();
  return status;
}

}  // namespace vauth::cli
