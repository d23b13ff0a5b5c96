// fork_storm N: forks N children while another thread keeps calling a path
// function that umockdev's preload library wraps (stat on /sys); each child
// opens a file before it exits, as a browser's fork-then-exec launcher does.
// Run under `vauth run`, it proves the fork guard
// (kernelfree/umockdev_fork_guard.cpp): without it the first few children hang
// on a mutex their parent's other thread held at fork time.
// Exit 0: every child finished; 1: a child hung (killed after 5 s).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  const int forks = argc > 1 ? std::atoi(argv[1]) : 1000;
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    struct stat st;
    while (!stop) ::stat("/sys/class/hidraw", &st);
  });
  int hung = 0;
  for (int i = 0; i < forks && hung == 0; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open("/dev/null", O_RDONLY);
      if (fd >= 0) ::close(fd);
      ::_exit(0);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "fork_storm: child %d of %d hung\n", i + 1, forks);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        hung = 1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  stop = true;
  busy.join();
  if (!hung) std::printf("fork_storm: %d children, none hung\n", forks);
  return hung;
}
