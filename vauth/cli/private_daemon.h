// A vauthd that `vauth run` starts for one program and stops afterwards: its
// keys on SOCK_SEQPACKET sockets in a private temporary directory, memory-only
// state, no control API unless asked for. It runs in its own process group so
// a Ctrl-C meant for the program does not stop the keys under it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vauth::cli {

// One key as the daemon announced it on its readiness line.
struct AnnouncedKey {
  size_t index = 0;
  std::string name;
  std::string serial;
  std::string socket;
};

// Parses `vauthd: ready: device N "NAME" serial SERIAL on seqpacket PATH`;
// false for any other line.
bool parse_seqpacket_ready_line(const std::string& line, AnnouncedKey& out);

class PrivateDaemon {
 public:
  // Starts `vauthd` with `extra_args` after the private ones and waits (up to
  // 20 s) until all `devices` keys are ready. Throws std::runtime_error with
  // the daemon's log when it fails to come up.
  PrivateDaemon(const std::string& vauthd, const std::vector<std::string>& extra_args, size_t devices, bool verbose);
  ~PrivateDaemon();  // stop()
  PrivateDaemon(const PrivateDaemon&) = delete;
  PrivateDaemon& operator=(const PrivateDaemon&) = delete;

  const std::vector<AnnouncedKey>& keys() const { return keys_; }
  pid_t pid() const { return pid_; }
  // Called when the daemon was reaped elsewhere (SIGCHLD handling).
  void forget_process() { pid_ = -1; }
  // SIGTERM, then SIGKILL after 5 s; removes the temporary directory. Idempotent.
  void stop();

 private:
  std::string read_log() const;

  std::string dir_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::vector<AnnouncedKey> keys_;
};

}  // namespace vauth::cli
