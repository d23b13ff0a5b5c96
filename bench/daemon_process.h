// A vauthd child process serving USB/IP on a free loopback port, for the
// benchmark and the soak test: started, waited for until every device's
// readiness line, observed through /proc (CPU time, RSS), stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace vauth::bench {

class DaemonProcess {
 public:
  // Runs `vauthd --transport usbip --usbip-listen 127.0.0.1:0 --no-control <extra>`
  // and waits (at most `timeout`) for `devices` readiness lines. Throws
  // std::runtime_error with the daemon's stderr when it does not come up.
  DaemonProcess(const std::string& vauthd, size_t devices, const std::vector<std::string>& extra,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  std::string busid(size_t index) const { return "1-" + std::to_string(index + 1); }
  // From fork to the last readiness line.
  std::chrono::microseconds startup() const { return startup_; }
  // CPU time the daemon has used so far (all threads), from /proc/<pid>/stat.
  std::chrono::nanoseconds cpu() const;
  // Resident set size now, KiB (VmRSS).
  uint64_t rss_kib() const;
  // Where the RSS is: anonymous vs file-backed pages (/proc/PID/status), and
  // what is private to vauthd vs shared with other processes (smaps_rollup).
  struct Memory {
    uint64_t rss_kib = 0, anon_kib = 0, file_kib = 0, private_kib = 0, pss_kib = 0;
  };
  Memory memory() const { return memory_of(pid_); }
  static Memory memory_of(pid_t pid);
  // SIGTERM and wait; true if it exited with status 0.
  bool stop();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;
  std::string stderr_path_;
  std::chrono::microseconds startup_{0};
};

// The directory of the running executable (to find vauthd beside it).
std::string self_directory();
// vauthd beside this executable, in the build tree's layout, or on $PATH.
std::string find_vauthd(const std::string& hint);

}  // namespace vauth::bench
