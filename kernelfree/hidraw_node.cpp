#include "kernelfree/hidraw_node.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <umockdev.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace vauth::kernelfree {
namespace {

using Report = std::array<uint8_t, kReportSize>;

// hidraw keeps this many unread reports per reader and drops newer ones.
constexpr size_t kMaxQueuedReports = 64;

void log(const std::string& line) { std::clog << "vauth run: " << line << std::endl; }

int connect_seqpacket(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

// A read that waits for the next report. umockdev frees a client once its
// request has been handed to us, unless someone holds a reference.
struct WaitingRead {
  UMockdevIoctlClient* client;
  explicit WaitingRead(UMockdevIoctlClient* c) : client(static_cast<UMockdevIoctlClient*>(g_object_ref(c))) {}
  ~WaitingRead() {
    if (client) g_object_unref(client);
  }
  WaitingRead(WaitingRead&& o) noexcept : client(std::exchange(o.client, nullptr)) {}
  WaitingRead& operator=(WaitingRead&& o) noexcept {
    std::swap(client, o.client);
    return *this;
  }
};

}  // namespace

struct HidrawNode::State {
  std::string devnode;
  HidrawIdentity identity;
  std::string socket_path;
  UMockdevTestbed* testbed = nullptr;
  UMockdevIoctlBase* handler = nullptr;
  int pty_master = -1;  // owned by the test bed
  std::string pty_slave;  // the program's side, e.g. /dev/pts/3
  int wake = -1;          // eventfd: wakes the pump when `active` or `daemon` change
  std::thread pump;

  std::mutex mutex;
  bool active = false;    // some program opened the node since it was last closed by all
  int daemon = -1;        // the seqpacket connection, from the first write until the last close
  bool daemon_failed = false;
  bool shut = false;
  bool readable = false;  // the readiness byte is in the pty
  std::deque<Report> queue;
  std::deque<WaitingRead> waiting_reads;
  uint64_t dropped_reports = 0;

  void poke() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake, &one, sizeof one);
  }

  // ---- readiness (mutex held) ----
  void set_readable(bool want, int wait_ms = 1000) {
    if (want == readable) return;
    if (want) {
      const uint8_t byte = 'r';
      if (::write(pty_master, &byte, 1) == 1) readable = true;
      return;
    }
    readable = false;
    // Take the byte back through a descriptor of our own. It may still be on
    // its way through the tty layer (a kernel worker moves it), so wait for it.
    const int own = ::open(pty_slave.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (own < 0) return;
    pollfd p{own, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) == 1) {
      uint8_t sink[16];
      [[maybe_unused]] const ssize_t n = ::read(own, sink, sizeof sink);
    }
    ::tcflush(own, TCIFLUSH);
    ::close(own);
  }

  // ---- reports from the daemon ----
  void deliver(const Report& report) {
    if (!waiting_reads.empty()) {
      WaitingRead w = std::move(waiting_reads.front());
      waiting_reads.pop_front();
      answer_read(w.client, report);
      return;
    }
    if (queue.size() >= kMaxQueuedReports) {
      if (dropped_reports++ == 0) log(devnode + ": the program is not reading; dropping reports");
      return;
    }
    queue.push_back(report);
    set_readable(true);
  }

  static void answer_read(UMockdevIoctlClient* client, const Report& report) {
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    const size_t n = read_length(static_cast<size_t>(std::max(arg->data_len, 0)));
    std::memcpy(arg->data, report.data(), n);
    umockdev_ioctl_client_complete(client, static_cast<glong>(n), 0);
  }

  void fail_waiting_reads(int error) {
    for (auto& w : waiting_reads) umockdev_ioctl_client_complete(w.client, -1, error);
    waiting_reads.clear();
  }

  // Every program closed the node (or we shut down): a host reset for the daemon.
  void close_host(int error) {
    if (daemon >= 0) {
      ::close(daemon);
      daemon = -1;
    }
    daemon_failed = false;
    active = false;
    queue.clear();
    set_readable(false, 0);  // the tty dropped unread input at its last close
    fail_waiting_reads(error);
  }

  // The pump: reports from the daemon, and the pty's hang-up once the last
  // program closed the node. One thread per node, parked while nothing is open.
  void run_pump() {
    std::array<uint8_t, kReportSize + 1> buf;
    for (;;) {
      int fd;
      bool watch_hangup;
      {
        std::lock_guard lock(mutex);
        if (shut) return;
        fd = daemon;
        watch_hangup = active;
      }
      pollfd fds[3] = {{wake, POLLIN, 0}, {pty_master, 0, 0}, {fd, POLLIN, 0}};
      const nfds_t n = watch_hangup ? (fd >= 0 ? 3 : 2) : 1;
      if (::poll(fds, n, -1) < 0) continue;
      if (fds[0].revents & POLLIN) {
        uint64_t count;
        [[maybe_unused]] const ssize_t r = ::read(wake, &count, sizeof count);
      }
      std::lock_guard lock(mutex);
      if (shut) return;
      if (n >= 3 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) && daemon == fd) {
        const ssize_t got = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (got == static_cast<ssize_t>(kReportSize)) {
          Report r;
          std::copy_n(buf.begin(), kReportSize, r.begin());
          deliver(r);
        } else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
          // The daemon went away: fail readers and writers as an unplugged key does.
          log(devnode + ": vauthd closed the connection");
          ::close(daemon);
          daemon = -1;
          daemon_failed = true;
          fail_waiting_reads(EIO);
        }
      }
      if (n >= 2 && (fds[1].revents & POLLHUP) && active && still_hung_up()) close_host(EIO);
    }
  }

  // The hang-up seen by poll() may be stale by the time we hold the mutex: a
  // program may have opened the node meanwhile (mutex held).
  bool still_hung_up() const {
    pollfd p{pty_master, 0, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
  }

  // ---- umockdev callbacks (the test bed's worker thread) ----
  void on_client_connected() {
    std::lock_guard lock(mutex);
    if (shut) return;
    active = true;
    poke();
  }

  bool on_read(UMockdevIoctlClient* client) {
    std::lock_guard lock(mutex);
    if (!queue.empty()) {
      answer_read(client, queue.front());
      queue.pop_front();
      set_readable(!queue.empty());
    } else if (shut || daemon_failed) {
      umockdev_ioctl_client_complete(client, -1, EIO);
    } else {
      // A blocking read: answered when the next report arrives. (The preload
      // library does not tell us about O_NONBLOCK; clients that use it wait
      // for readability first, so they only read when a report is queued.)
      waiting_reads.emplace_back(client);
    }
    return true;
  }

  bool on_write(UMockdevIoctlClient* client) {
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    const WriteOutcome w = interpret_write(ByteView(arg->data, static_cast<size_t>(std::max(arg->data_len, 0))));
    std::lock_guard lock(mutex);
    if (!w.report) {
      umockdev_ioctl_client_complete(client, -1, w.error);
      return true;
    }
    if (daemon < 0 && !daemon_failed && !shut) {
      daemon = connect_seqpacket(socket_path);
      if (daemon < 0) {
        daemon_failed = true;
        // Said even without --verbose: the program only sees ENODEV.
        std::cerr << "vauth run: cannot reach the key behind " << devnode << " at " << socket_path << ": "
                  << std::strerror(errno) << std::endl;
      }
      active = true;
      poke();
    }
    if (daemon < 0) {
      umockdev_ioctl_client_complete(client, -1, ENODEV);
    } else if (::send(daemon, w.report->data(), w.report->size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kReportSize)) {
      log(devnode + ": sending to vauthd failed: " + std::strerror(errno));
      umockdev_ioctl_client_complete(client, -1, ENODEV);
    } else {
      umockdev_ioctl_client_complete(client, w.result, 0);
    }
    return true;
  }

  bool on_ioctl(UMockdevIoctlClient* client) {
    const unsigned long request = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    UMockdevIoctlData* target = nullptr;
    const size_t size = _IOC_SIZE(request);
    if (_IOC_TYPE(request) == 'H' && (_IOC_DIR(request) & _IOC_READ) && size > 0) {
      GError* error = nullptr;
      target = umockdev_ioctl_data_resolve(arg, 0, size, &error);
      if (!target) {
        if (error) g_error_free(error);
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        return true;
      }
    }
    uint32_t length_in = 0;
    if (ioctl_reads_descriptor_length(request) && target && target->data_len >= 4) {
      std::memcpy(&length_in, target->data, sizeof length_in);
    }
    const IoctlAnswer a = answer_hidraw_ioctl(request, length_in, identity);
    if (target && !a.out.empty()) {
      std::memcpy(target->data, a.out.data(), std::min(a.out.size(), static_cast<size_t>(target->data_len)));
    }
    umockdev_ioctl_client_complete(client, a.result, a.error);
    if (target) g_object_unref(target);
    return true;
  }

  static void client_connected(UMockdevIoctlBase*, UMockdevIoctlClient*, gpointer self) {
    static_cast<State*>(self)->on_client_connected();
  }
  static gboolean handle_read(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self) {
    return static_cast<State*>(self)->on_read(client);
  }
  static gboolean handle_write(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self) {
    return static_cast<State*>(self)->on_write(client);
  }
  static gboolean handle_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self) {
    return static_cast<State*>(self)->on_ioctl(client);
  }
};

HidrawNode::HidrawNode(UMockdevTestbed* testbed, std::string devnode, HidrawIdentity identity,
                       std::string socket_path)
    : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.devnode = std::move(devnode);
  s.identity = std::move(identity);
  s.socket_path = std::move(socket_path);
  s.testbed = testbed;

  // umockdev backs the node with a pseudo-terminal: the master is ours, the
  // node is a symlink to the slave the program opens.
  s.pty_master = umockdev_testbed_get_dev_fd(testbed, s.devnode.c_str());
  if (s.pty_master < 0) throw std::runtime_error("umockdev made no stream device for " + s.devnode);
  char* root = umockdev_testbed_get_root_dir(testbed);
  const std::string link = std::string(root) + s.devnode;
  g_free(root);
  char target[256] = {};
  if (::readlink(link.c_str(), target, sizeof target - 1) <= 0) {
    throw std::runtime_error("umockdev's " + link + " is not a pseudo-terminal link");
  }
  s.pty_slave = target;
  s.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s.wake < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));

  s.handler = umockdev_ioctl_base_new();
  g_signal_connect(s.handler, "client-connected", G_CALLBACK(&State::client_connected), &s);
  g_signal_connect(s.handler, "handle-read", G_CALLBACK(&State::handle_read), &s);
  g_signal_connect(s.handler, "handle-write", G_CALLBACK(&State::handle_write), &s);
  g_signal_connect(s.handler, "handle-ioctl", G_CALLBACK(&State::handle_ioctl), &s);
  GError* error = nullptr;
  if (!umockdev_testbed_attach_ioctl(testbed, s.devnode.c_str(), s.handler, &error)) {
    const std::string what = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    throw std::runtime_error("cannot attach to " + s.devnode + ": " + what);
  }
  s.pump = std::thread([&s] { s.run_pump(); });
}

HidrawNode::~HidrawNode() {
  shut_down();
  State& s = *state_;
  if (s.pump.joinable()) s.pump.join();
  umockdev_testbed_detach_ioctl(s.testbed, s.devnode.c_str(), nullptr);
  g_signal_handlers_disconnect_by_data(s.handler, &s);
  g_object_unref(s.handler);
  ::close(s.wake);
}

const std::string& HidrawNode::devnode() const { return state_->devnode; }

void HidrawNode::interrupt_reads() {
  std::lock_guard lock(state_->mutex);
  state_->fail_waiting_reads(EINTR);
}

void HidrawNode::shut_down() {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (s.shut) return;
  s.close_host(EIO);
  s.shut = true;
  s.poke();
}

}  // namespace vauth::kernelfree
