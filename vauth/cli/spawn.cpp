#include "vauth/cli/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace vauth::cli {
namespace {

std::string variable_name(const std::string& entry) { return entry.substr(0, entry.find('=')); }

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

SpawnResult spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const SpawnOptions& o) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);

  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGPIPE}) sigaddset(&defaults, sig);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  if (o.own_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);
  if (o.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, o.stdout_fd, STDOUT_FILENO);
  if (o.stderr_path) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, o.stderr_path->c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
  }

  auto args = pointers(argv);
  auto vars = pointers(env);
  SpawnResult result;
  result.error = posix_spawnp(&result.pid, args[0], &actions, &attr, args.data(), vars.data());
  if (result.error != 0) result.pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return result;
}

std::vector<std::string> environment_without_test_bed() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry(*e);
    if (variable_name(entry) == "UMOCKDEV_DIR") continue;
    env.push_back(entry);
  }
  return env;
}

std::vector<std::string> with_variables(std::vector<std::string> env, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    const std::string name = variable_name(o);
    std::erase_if(env, [&](const std::string& e) { return variable_name(e) == name; });
    env.push_back(o);
  }
  return env;
}

std::string make_private_temp_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory: " + std::string(std::strerror(errno)));
  return tmpl;
}

}  // namespace vauth::cli
