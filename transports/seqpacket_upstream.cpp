#include "transports/seqpacket_upstream.h"

#include <sys/socket.h>

#include <array>
#include <boost/asio/generic/seq_packet_protocol.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace vauth::transport {
namespace {

namespace asio = boost::asio;
using Protocol = asio::generic::seq_packet_protocol;

class SeqpacketUpstream final : public Upstream {
 public:
  SeqpacketUpstream(asio::io_context& io, std::string path) : state_(std::make_shared<State>(io, std::move(path))) {}
  ~SeqpacketUpstream() override { state_->close(); }

  std::string describe() const override { return "seqpacket " + state_->path; }

  void start(OnReport on_report, OnFailure on_failure) override {
    State& s = *state_;
    boost::system::error_code ec;
    const Protocol::endpoint where(asio::local::stream_protocol::endpoint(s.path));
    s.socket.open(where.protocol(), ec);
    if (!ec) s.socket.connect(where, ec);
    if (ec) {
      boost::system::error_code ignored;
      s.socket.close(ignored);
      throw std::runtime_error("proxy: cannot connect to the upstream " + s.path + ": " + ec.message());
    }
    s.socket.non_blocking(true, ec);
    s.on_report = std::move(on_report);
    s.on_failure = std::move(on_failure);
    wait(state_);
  }

  void send(const Report& report) override {
    State& s = *state_;
    if (!s.socket.is_open()) return;
    for (;;) {
      const ssize_t n = ::send(s.socket.native_handle(), report.data(), report.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(report.size())) return;
      if (n < 0 && errno == EINTR) continue;
      // A full buffer loses the report, as on a real HID device; anything else ends the link.
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      const std::string why = std::string("sending failed: ") + std::strerror(errno);
      asio::post(s.socket.get_executor(), [st = state_, why] { st->fail(why); });
      return;
    }
  }

 private:
  // Shared with the pending wait, which may complete after this object is gone.
  struct State {
    State(asio::io_context& io, std::string p) : socket(io), path(std::move(p)) {}
    Protocol::socket socket;
    std::string path;
    std::array<uint8_t, kReportSize + 1> in{};
    OnReport on_report;
    OnFailure on_failure;

    void close() {
      on_report = nullptr;
      on_failure = nullptr;
      boost::system::error_code ignored;
      socket.close(ignored);
    }
    void fail(const std::string& why) {
      if (!socket.is_open()) return;
      OnFailure f = std::move(on_failure);
      close();
      if (f) f("the upstream " + path + ": " + why);
    }
  };

  static void wait(const std::shared_ptr<State>& s) {
    s->socket.async_wait(Protocol::socket::wait_read, [s](const boost::system::error_code& ec) {
      if (!s->socket.is_open() || ec == asio::error::operation_aborted) return;
      if (ec) return s->fail("waiting failed: " + ec.message());
      read(s);
    });
  }

  // Drains every waiting packet, then waits again.
  static void read(const std::shared_ptr<State>& s) {
    for (;;) {
      const ssize_t n = ::recv(s->socket.native_handle(), s->in.data(), s->in.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return s->fail(std::string("receiving failed: ") + std::strerror(errno));
      }
      if (n == 0) return s->fail("it closed the connection");
      if (static_cast<size_t>(n) != kReportSize) continue;  // not a report
      Report r;
      std::copy_n(s->in.begin(), kReportSize, r.begin());
      if (s->on_report) s->on_report(r);
      if (!s->socket.is_open()) return;
    }
    wait(s);
  }

  std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<Upstream> make_seqpacket_upstream(asio::io_context& io, const UpstreamSpec& spec) {
  return std::make_unique<SeqpacketUpstream>(io, spec.path);
}

}  // namespace vauth::transport
