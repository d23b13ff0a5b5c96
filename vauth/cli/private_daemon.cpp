#include "vauth/cli/private_daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "vauth/cli/spawn.h"

namespace vauth::cli {

bool parse_seqpacket_ready_line(const std::string& line, AnnouncedKey& out) {
  static const std::regex ready(R"re(^vauthd: ready: device ([0-9]+) "(.*)" serial (\S+) on seqpacket (/.+)$)re");
  std::smatch m;
  if (!std::regex_match(line, m, ready)) return false;
  try {
    out.index = std::stoul(m[1].str());
  } catch (const std::exception&) {
    return false;
  }
  out.name = m[2].str();
  out.serial = m[3].str();
  out.socket = m[4].str();
  return true;
}

PrivateDaemon::PrivateDaemon(const std::string& vauthd, const std::vector<std::string>& extra_args, size_t devices,
                             bool verbose) {
  dir_ = make_private_temp_dir("vauth-run");
  std::vector<std::string> argv = {vauthd,       "--transport", "seqpacket", "--seqpacket-dir",
                                   dir_ + "/keys", "--store",   "ephemeral", "--devices",
                                   std::to_string(devices)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  SpawnOptions options;
  options.stdout_fd = out[1];
  if (!verbose) options.stderr_path = dir_ + "/vauthd.log";
  options.own_process_group = true;
  const SpawnResult spawned = spawn(argv, environment_without_test_bed(), options);
  ::close(out[1]);
  stdout_fd_ = out[0];
  if (spawned.error != 0) {
    stop();
    throw std::runtime_error("cannot start " + vauthd + ": " + std::strerror(spawned.error) +
                             " (build it, or name it with --vauthd)");
  }
  pid_ = spawned.pid;

  // Read readiness lines until every key is announced, the daemon exits, or time runs out.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string pending;
  while (keys_.size() < devices) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{stdout_fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      const std::string log = read_log();
      stop();
      throw std::runtime_error("vauthd did not announce its keys within 20 s\n" + log);
    }
    char buf[512];
    const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string log = read_log();
      stop();
      throw std::runtime_error("vauthd exited before its keys were ready\n" + log);
    }
    pending.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      AnnouncedKey key;
      if (parse_seqpacket_ready_line(line, key)) keys_.push_back(key);
    }
  }
  // stdout stays open (unread) so a later line from the daemon never meets a closed pipe.
}

PrivateDaemon::~PrivateDaemon() { stop(); }

std::string PrivateDaemon::read_log() const {
  std::ifstream in(dir_ + "/vauthd.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void PrivateDaemon::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 500 && !reaped; ++i) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      reaped = r == pid_ || (r < 0 && errno == ECHILD);
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) {
    ::close(stdout_fd_);
    stdout_fd_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace vauth::cli
