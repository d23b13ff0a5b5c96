#include "vauth/daemon/control_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>

#include "vauth/daemon/log.h"
#include <sys/stat.h>
#include <unistd.h>

namespace vauth::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using UnixSocket = asio::local::stream_protocol::socket;
using TcpSocket = asio::ip::tcp::socket;

constexpr size_t kMaxBody = 1 << 20;             // 1 MiB: far more than any control request needs
constexpr size_t kMaxHeader = 16 * 1024;
constexpr size_t kMaxStreamBacklog = 4 << 20;     // per event-stream client, then events are dropped
constexpr size_t kMaxStreamEvents = 10'000;

void log(const std::string& line) { log_message(LogLevel::Warning, "control: " + line); }

// Compares in time independent of where the strings differ, so the token cannot be guessed byte by byte.
// (The length may leak; the token's length is no secret worth keeping.)
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

struct Shared {
  ControlRoutes& routes;
  EventBus& events;
};

template <class Socket>
class Connection : public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(Socket socket, Shared shared, std::string token)
      : socket_(std::move(socket)), shared_(shared), token_(std::move(token)) {}
  ~Connection() {
    if (subscription_) shared_.events.unsubscribe(*subscription_);
  }

  void start() { read_request(); }

 private:
  void read_request() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    parser_->header_limit(kMaxHeader);
    http::async_read(socket_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) { self->on_request(ec); });
  }

  void on_request(error_code ec) {
    if (ec == http::error::body_limit) return reply_error(413, "payload too large", "bodies are limited to 1 MiB", false);
    if (ec == http::error::header_limit) return reply_error(431, "headers too large", "headers are limited to 16 KiB", false);
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec) return reply_error(400, "bad request", "not an HTTP/1.1 request: " + ec.message(), false);

    const auto& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    if (!token_.empty()) {
      const auto auth = req[http::field::authorization];
      if (!same_secret(std::string_view(auth.data(), auth.size()), "Bearer " + token_)) {
        return reply_error(401, "unauthorized", "send Authorization: Bearer <token> (see --control-token-file)",
                           keep_alive);
      }
    }
    const std::string target(req.target().data(), req.target().size());
    if (split_path(target) == std::vector<std::string>{"v1", "events"}) {
      if (req.method() != http::verb::get) {
        return send(ControlResponse{405, {{"error", "method not allowed"}, {"detail", "GET only"}}, "GET"}, keep_alive);
      }
      return start_stream();
    }
    send(shared_.routes.handle(ControlRequest{std::string(req.method_string().data(), req.method_string().size()), target, req.body()}), keep_alive);
  }

  void reply_error(unsigned status, std::string error, std::string detail, bool keep_alive) {
    send(ControlResponse{status, {{"error", std::move(error)}, {"detail", std::move(detail)}}, {}}, keep_alive);
  }

  void send(const ControlResponse& r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "vauthd");
    res->set(http::field::content_type, "application/json");
    res->set(http::field::cache_control, "no-store");
    if (!r.allow.empty()) res->set(http::field::allow, r.allow);
    if (r.status == 401) res->set(http::field::www_authenticate, "Bearer");
    res->keep_alive(keep_alive);
    // Replace, not throw: a detail may quote a client's bytes (a target that is not
    // UTF-8), and dump() throwing here would end the daemon (found by control_api_fuzzer).
    res->body() = r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    res->prepare_payload();
    http::async_write(socket_, *res, [self = this->shared_from_this(), res](error_code ec, size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read_request();
    });
  }

  // Server-Sent Events: the body never ends; each event is one "data:" line of JSON.
  void start_stream() {
    std::weak_ptr<Connection> weak = this->shared_from_this();
    subscription_ = shared_.events.subscribe([weak](const std::string& json) {
      if (auto self = weak.lock()) self->enqueue("data: " + json + "\n\n");
    });
    push("HTTP/1.1 200 OK\r\nServer: vauthd\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
         "Connection: close\r\n\r\n: vauthd event stream\n\n");
    // Clients send nothing more; a read only ends when they hang up.
    socket_.async_read_some(asio::buffer(hangup_byte_),
                            [self = this->shared_from_this()](error_code, size_t) { self->close(); });
  }

  // A slow reader must not grow the daemon without bound: past the backlog
  // limit, events are counted instead of queued, and the count is reported
  // once the client has caught up.
  void enqueue(std::string frame) {
    if (closed_) return;
    if (backlog_bytes_ + frame.size() > kMaxStreamBacklog || queue_.size() >= kMaxStreamEvents) {
      ++dropped_;
      return;
    }
    if (dropped_ > 0) {
      push("data: {\"type\":\"events.dropped\",\"count\":" + std::to_string(dropped_) + "}\n\n");
      dropped_ = 0;
    }
    push(std::move(frame));
  }

  void push(std::string frame) {
    backlog_bytes_ += frame.size();
    queue_.push_back(std::move(frame));
    write_next();
  }

  void write_next() {
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front()), [self = this->shared_from_this()](error_code ec, size_t) {
      self->writing_ = false;
      self->backlog_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (ec) return self->close();
      self->write_next();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (subscription_) {
      shared_.events.unsubscribe(*subscription_);
      subscription_.reset();
    }
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Socket socket_;
  Shared shared_;  // a copy of the references: the server may go before its last connection
  std::string token_;  // empty: no authentication (the Unix socket)
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<EventBus::Id> subscription_;
  std::deque<std::string> queue_;
  size_t backlog_bytes_ = 0;
  size_t dropped_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  char hangup_byte_[1];
};

// Accepts forever; after an error such as EMFILE it pauses instead of spinning.
template <class Acceptor, class Socket>
class Listener {
 public:
  Listener(asio::io_context& io, Shared& shared, std::string token)
      : acceptor(io), retry_(io), shared_(shared), token_(std::move(token)) {}

  void accept() {
    acceptor.async_accept([this](error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        log("accept failed: " + ec.message());
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](error_code e) { if (!e) accept(); });
        return;
      }
      std::make_shared<Connection<Socket>>(std::move(socket), shared_, token_)->start();
      accept();
    });
  }

  void stop() {
    error_code ignored;
    acceptor.close(ignored);
    retry_.cancel();
  }

  Acceptor acceptor;

 private:
  asio::steady_timer retry_;
  Shared& shared_;
  std::string token_;
};

using UnixListener = Listener<asio::local::stream_protocol::acceptor, UnixSocket>;
using TcpListener = Listener<asio::ip::tcp::acceptor, TcpSocket>;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("control API: " + what); }

// The socket's directory is created 0700 so only its owner can reach the socket at all.
void prepare_directory(const std::filesystem::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return;
  prepare_directory(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create " + dir.string() + ": " + std::strerror(errno));
}

// A socket file left by a daemon that died is replaced; one a live daemon answers on is not.
void remove_stale_socket(asio::io_context& io, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) fail(path + " exists and is not a socket");
  UnixSocket probe(io);
  error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) fail("another daemon already listens on " + path);
  if (::unlink(path.c_str()) != 0) fail("cannot remove the stale socket " + path + ": " + std::strerror(errno));
}

}  // namespace

struct ControlServer::Impl {
  Impl(asio::io_context& io, ControlRoutes& routes, EventBus& events, ControlServerOptions o)
      : io(io), shared{routes, events}, options(std::move(o)) {}
  asio::io_context& io;
  Shared shared;
  ControlServerOptions options;
  std::unique_ptr<UnixListener> unix_listener;
  std::unique_ptr<TcpListener> tcp_listener;
  bool socket_created = false;
};

ControlServer::ControlServer(asio::io_context& io, ControlRoutes& routes, EventBus& events, ControlServerOptions options)
    : impl_(std::make_unique<Impl>(io, routes, events, std::move(options))) {}

ControlServer::~ControlServer() {
  if (impl_->unix_listener) impl_->unix_listener->stop();
  if (impl_->tcp_listener) impl_->tcp_listener->stop();
  if (impl_->socket_created) ::unlink(impl_->options.socket_path->c_str());
}

void ControlServer::start() {
  auto& o = impl_->options;
  if (o.socket_path) {
    const std::string& path = *o.socket_path;
    prepare_directory(std::filesystem::path(path).parent_path());
    remove_stale_socket(impl_->io, path);
    auto l = std::make_unique<UnixListener>(impl_->io, impl_->shared, "");
    error_code ec;
    l->acceptor.open(asio::local::stream_protocol(), ec);
    // The umask makes the socket 0600 from its first moment; chmod repeats it for file systems that ignore it.
    const mode_t old_mask = ::umask(0177);
    if (!ec) l->acceptor.bind(asio::local::stream_protocol::endpoint(path), ec);
    ::umask(old_mask);
    if (ec) fail("cannot bind " + path + ": " + ec.message());
    impl_->socket_created = true;
    if (::chmod(path.c_str(), 0600) != 0) fail("cannot chmod " + path + ": " + std::strerror(errno));
    l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("cannot listen on " + path + ": " + ec.message());
    l->accept();
    impl_->unix_listener = std::move(l);
  }
  if (o.tcp_address) {
    if (o.token.empty()) fail("TCP needs a bearer token");
    error_code ec;
    const auto address = asio::ip::make_address(*o.tcp_address == "localhost" ? "127.0.0.1" : *o.tcp_address, ec);
    if (ec) fail("bad address " + *o.tcp_address + ": " + ec.message());
    auto l = std::make_unique<TcpListener>(impl_->io, impl_->shared, o.token);
    const asio::ip::tcp::endpoint endpoint(address, o.tcp_port);
    l->acceptor.open(endpoint.protocol(), ec);
    if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l->acceptor.bind(endpoint, ec);
    if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("cannot listen on " + *o.tcp_address + ":" + std::to_string(o.tcp_port) + ": " + ec.message());
    l->accept();
    impl_->tcp_listener = std::move(l);
  }
}

uint16_t ControlServer::tcp_port() const {
  if (!impl_->tcp_listener) return 0;
  error_code ec;
  return impl_->tcp_listener->acceptor.local_endpoint(ec).port();
}

}  // namespace vauth::daemon
