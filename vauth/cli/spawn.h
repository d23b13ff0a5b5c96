// Starting child processes for `vauth run` (posix_spawn): with a clean signal
// mask and default dispositions (vauth run blocks the signals it forwards),
// optionally in their own process group, with chosen stdout/stderr.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace vauth::cli {

struct SpawnOptions {
  int stdout_fd = -1;                       // -1: inherit
  std::optional<std::string> stderr_path;   // nullopt: inherit
  bool own_process_group = false;
};

struct SpawnResult {
  pid_t pid = -1;
  int error = 0;  // errno when the program could not be started (ENOENT, EACCES, ...)
};

// argv[0] is looked up in PATH unless it contains a slash.
SpawnResult spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const SpawnOptions& options);

// This process's environment without the variables a umockdev test bed sets.
std::vector<std::string> environment_without_test_bed();
// `env` with each NAME=VALUE of `overrides` replacing any earlier NAME.
std::vector<std::string> with_variables(std::vector<std::string> env, const std::vector<std::string>& overrides);
// A fresh 0700 directory under $TMPDIR (or /tmp). Throws std::runtime_error.
std::string make_private_temp_dir(const std::string& prefix);

}  // namespace vauth::cli
