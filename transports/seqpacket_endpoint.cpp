#include "transports/seqpacket_endpoint.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <boost/asio/generic/seq_packet_protocol.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace vauth::transport {
namespace {

namespace asio = boost::asio;
using Protocol = asio::generic::seq_packet_protocol;

void log(const std::string& line) { std::clog << "seqpacket: " << line << std::endl; }

[[noreturn]] void fail(const std::string& what) { throw SeqpacketError("seqpacket socket: " + what); }

Protocol::endpoint unix_endpoint(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) fail(path + " is longer than a Unix socket path may be");
  return Protocol::endpoint(asio::local::stream_protocol::endpoint(path));
}

// A socket file left by a daemon that died is replaced; one a live daemon answers on is not.
void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) fail(path + " exists and is not a socket");
  const int probe = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (probe < 0) fail(std::string("socket(): ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  const bool live = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(probe);
  if (live) fail("another daemon already listens on " + path);
  if (::unlink(path.c_str()) != 0) fail("cannot remove the stale socket " + path + ": " + std::strerror(errno));
}

}  // namespace

void prepare_private_directory(const std::string& dir_text) {
  const std::filesystem::path dir(dir_text);
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail(dir_text + " is not a directory");
    if (st.st_uid != ::geteuid()) fail(dir_text + " belongs to another user");
    if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
      fail(dir_text + " is open to group or others (mode " + mode + "); use a directory only you can enter (chmod 700)");
    }
    return;
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    std::error_code ec;
    if (!std::filesystem::exists(dir.parent_path(), ec)) prepare_private_directory(dir.parent_path().string());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create " + dir_text + ": " + std::strerror(errno));
}

// Shared with pending handlers: one that runs after the endpoint was destroyed
// (operation_aborted queued on the io_context) must still find valid memory.
struct SeqpacketEndpoint::Core : std::enable_shared_from_this<Core> {
  Core(asio::io_context& io, HidEndpoint& ep, std::string p)
      : io(io), endpoint(ep), path(std::move(p)), acceptor(io), host(io) {}

  asio::io_context& io;
  HidEndpoint& endpoint;
  std::string path;
  asio::basic_socket_acceptor<Protocol> acceptor;
  Protocol::socket host;      // the connected host, if any
  uint64_t host_generation = 0;  // bumped per host: stale read handlers recognise themselves
  bool listening = false;
  bool socket_created = false;
  SeqpacketStats stats;
  // One byte more than a report, so an oversized packet shows as such even
  // where MSG_TRUNC is not honoured.
  std::array<uint8_t, kReportSize + 1> in{};

  void accept_next() {
    auto peer = std::make_shared<Protocol::socket>(io);
    acceptor.async_accept(*peer, [self = shared_from_this(), peer](const boost::system::error_code& ec) {
      if (!self->listening) return;
      if (ec) {
        if (ec != asio::error::operation_aborted) log("accept on " + self->path + " failed: " + ec.message());
        if (ec == asio::error::operation_aborted) return;
      } else {
        self->on_connection(std::move(*peer));
      }
      self->accept_next();
    });
  }

  void on_connection(Protocol::socket peer) {
    if (host.is_open()) {
      // One host at a time: refuse, so the second client sees EOF at once.
      ++stats.refused_connections;
      log("refused a second host on " + path + " (one host at a time)");
      boost::system::error_code ignored;
      peer.close(ignored);
      return;
    }
    host = std::move(peer);
    host.non_blocking(true);
    ++stats.connections;
    ++host_generation;
    std::weak_ptr<Core> weak = shared_from_this();
    endpoint.set_input_sink([weak](const Report& r) {
      if (auto core = weak.lock()) core->send(r);
    });
    wait_readable();
  }

  void wait_readable() {
    host.async_wait(Protocol::socket::wait_read,
                    [self = shared_from_this(), gen = host_generation](const boost::system::error_code& ec) {
                      if (gen != self->host_generation || !self->host.is_open()) return;
                      if (ec) {
                        if (ec != asio::error::operation_aborted) self->disconnect("wait failed: " + ec.message());
                        return;
                      }
                      self->read_packets(gen);
                    });
  }

  // Drains every packet that is waiting, then waits again.
  void read_packets(uint64_t gen) {
    for (;;) {
      const ssize_t n = ::recv(host.native_handle(), in.data(), in.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        disconnect(std::string("receive failed: ") + std::strerror(errno));
        return;
      }
      if (n == 0 && peer_gone()) {
        disconnect("");
        return;
      }
      if (static_cast<size_t>(n) != kReportSize) {
        if (stats.dropped_wrong_size++ == 0) {
          log("dropping a packet of " + std::to_string(n) + " bytes on " + path + " (a report is 64 bytes); "
              "further drops are only counted");
        }
        continue;
      }
      ++stats.reports_in;
      endpoint.on_output_report(ByteView(in.data(), kReportSize));
      // The device may have answered synchronously and the host may be gone since.
      if (gen != host_generation || !host.is_open()) return;
    }
    wait_readable();
  }

  // recv() returned 0: an empty packet, or the end of the connection. Only the
  // latter leaves the socket at EOF, which a non-consuming peek tells apart.
  bool peer_gone() {
    uint8_t byte;
    const ssize_t n = ::recv(host.native_handle(), &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

  void send(const Report& report) {
    if (!host.is_open()) return;
    for (;;) {
      const ssize_t n = ::send(host.native_handle(), report.data(), report.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(report.size())) {
        ++stats.reports_out;
        return;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // A host that stops reading loses reports, as on a real HID device.
        if (stats.dropped_host_slow++ == 0) log("the host on " + path + " is not reading; dropping reports");
        return;
      }
      // The host went away; the pending wait reports it and resets the device.
      asio::post(io, [self = shared_from_this(), gen = host_generation] {
        if (gen == self->host_generation && self->host.is_open()) self->disconnect("");
      });
      return;
    }
  }

  void disconnect(const std::string& why) {
    if (!host.is_open()) return;
    if (!why.empty()) log("host on " + path + ": " + why);
    ++host_generation;
    boost::system::error_code ignored;
    host.close(ignored);
    endpoint.set_input_sink({});
    endpoint.on_host_reset();
  }

  void stop() {
    disconnect("");
    if (listening) {
      listening = false;
      boost::system::error_code ignored;
      acceptor.close(ignored);
    }
    if (socket_created) {
      socket_created = false;
      ::unlink(path.c_str());
    }
  }
};

SeqpacketEndpoint::SeqpacketEndpoint(asio::io_context& io, HidEndpoint& endpoint, std::string socket_path)
    : core_(std::make_shared<Core>(io, endpoint, std::move(socket_path))) {}

SeqpacketEndpoint::~SeqpacketEndpoint() { stop(); }

void SeqpacketEndpoint::start() {
  Core& c = *core_;
  if (c.listening) return;
  prepare_private_directory(std::filesystem::path(c.path).parent_path().string());
  remove_stale_socket(c.path);
  const auto where = unix_endpoint(c.path);
  boost::system::error_code ec;
  c.acceptor.open(where.protocol(), ec);
  if (ec) fail("cannot create a socket for " + c.path + ": " + ec.message());
  // The umask makes the socket 0600 from its first moment; chmod repeats it for file systems that ignore it.
  const mode_t old_mask = ::umask(0177);
  c.acceptor.bind(where, ec);
  ::umask(old_mask);
  if (ec) fail("cannot bind " + c.path + ": " + ec.message());
  c.socket_created = true;
  if (::chmod(c.path.c_str(), 0600) != 0) fail("cannot chmod " + c.path + ": " + std::strerror(errno));
  c.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("cannot listen on " + c.path + ": " + ec.message());
  c.listening = true;
  c.accept_next();
}

void SeqpacketEndpoint::stop() {
  if (core_) core_->stop();
}

const std::string& SeqpacketEndpoint::path() const { return core_->path; }
bool SeqpacketEndpoint::host_connected() const { return core_->host.is_open(); }
SeqpacketStats SeqpacketEndpoint::stats() const { return core_->stats; }

}  // namespace vauth::transport
