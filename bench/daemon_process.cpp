#include "bench/daemon_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vauth::bench {
namespace {

namespace fs = std::filesystem;
using SteadyTime = std::chrono::steady_clock;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

DaemonProcess::DaemonProcess(const std::string& vauthd, size_t devices, const std::vector<std::string>& extra,
                             std::chrono::milliseconds timeout) {
  char tmpl[] = "/tmp/vauth-bench-stderr-XXXXXX";
  const int err_fd = ::mkstemp(tmpl);
  if (err_fd < 0) throw std::runtime_error("cannot create a temporary file");
  stderr_path_ = tmpl;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> args{vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--no-control",
                                "--devices", std::to_string(devices)};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const auto t0 = SteadyTime::now();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err_fd);

  // Readiness lines: "vauthd: ready: device N ... on usbip 127.0.0.1:PORT busid 1-N (...)".
  std::string buffer;
  size_t ready = 0;
  const auto deadline = t0 + timeout;
  while (ready < devices) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyTime::now());
    pollfd p{out[0], POLLIN, 0};
    char chunk[4096];
    ssize_t n = 0;
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0 ||
        (n = ::read(out[0], chunk, sizeof chunk)) <= 0) {
      ::close(out[0]);
      stop();
      throw std::runtime_error("vauthd did not become ready: " + slurp(stderr_path_));
    }
    buffer.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      const std::string line = buffer.substr(0, nl);
      if (line.rfind("vauthd: ready: device", 0) != 0) continue;
      ++ready;
      const auto at = line.find(" on usbip ");
      if (at == std::string::npos) continue;
      const auto colon = line.find(':', at + 10);
      port_ = static_cast<uint16_t>(std::stoul(line.substr(colon + 1)));
    }
  }
  startup_ = std::chrono::duration_cast<std::chrono::microseconds>(SteadyTime::now() - t0);
  // Later stdout lines are not read, but the pipe stays open until stop():
  // closing it would turn the daemon's next stdout line into SIGPIPE.
  stdout_fd_ = out[0];
}

DaemonProcess::~DaemonProcess() {
  stop();
  if (!stderr_path_.empty()) ::unlink(stderr_path_.c_str());
}

bool DaemonProcess::stop() {
  if (pid_ <= 0) return false;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::chrono::nanoseconds DaemonProcess::cpu() const {
  // Fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised command name.
  const std::string stat = slurp("/proc/" + std::to_string(pid_) + "/stat");
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const double tick = 1e9 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(utime + stime) * tick));
}

uint64_t DaemonProcess::rss_kib() const {
  std::istringstream status(slurp("/proc/" + std::to_string(pid_) + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

DaemonProcess::Memory DaemonProcess::memory_of(pid_t pid) {
  Memory m;
  auto field = [](const std::string& text, const char* name) -> uint64_t {
    const size_t at = text.find(std::string("\n") + name);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + 1 + std::strlen(name)));
  };
  const std::string status = "\n" + slurp("/proc/" + std::to_string(pid) + "/status");
  m.rss_kib = field(status, "VmRSS:");
  m.anon_kib = field(status, "RssAnon:");
  m.file_kib = field(status, "RssFile:");
  const std::string rollup = "\n" + slurp("/proc/" + std::to_string(pid) + "/smaps_rollup");
  m.private_kib = field(rollup, "Private_Clean:") + field(rollup, "Private_Dirty:");
  m.pss_kib = field(rollup, "Pss:");
  return m;
}

std::string self_directory() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

std::string find_vauthd(const std::string& hint) {
  if (!hint.empty()) return hint;
  const fs::path here = self_directory();
  for (const fs::path& p : {here / "vauthd", here / ".." / "vauth" / "daemon" / "vauthd"}) {
    if (::access(p.c_str(), X_OK) == 0) return p.lexically_normal().string();
  }
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      const fs::path p = fs::path(dir) / "vauthd";
      if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
  }
  return "vauthd";
}

}  // namespace vauth::bench
