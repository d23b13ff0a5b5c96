#include "bench/memory_floor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace vauth::bench {

std::string find_rss_floor() {
  const std::filesystem::path p = std::filesystem::path(self_directory()) / "vauth-rss-floor";
  return ::access(p.c_str(), X_OK) == 0 ? p.string() : std::string();
}

std::optional<DaemonProcess::Memory> measure_memory_floor(const std::string& program, int settle_ms) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return std::nullopt;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return std::nullopt;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  std::optional<DaemonProcess::Memory> memory;
  if (pid > 0) {
    // "ready\n" within 10 s, or the floor is not measured.
    std::string said;
    pollfd p{out[0], POLLIN, 0};
    while (said.find('\n') == std::string::npos && ::poll(&p, 1, 10'000) == 1) {
      char buf[64];
      const ssize_t n = ::read(out[0], buf, sizeof(buf));
      if (n <= 0) break;
      said.append(buf, static_cast<size_t>(n));
    }
    if (said.rfind("ready\n", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
      memory = DaemonProcess::memory_of(pid);
    }
  }
  ::close(in[1]);  // its stdin closes: it exits
  ::close(out[0]);
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  return memory;
}

}  // namespace vauth::bench
