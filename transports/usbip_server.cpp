// The Asio side of the USB/IP server: accepts connections and moves bytes
// between each socket and its UsbipSession. All protocol logic lives in the
// session (usbip_session.h) so it can be unit-tested and fuzzed without sockets.
#include "transports/usbip_server.h"

#include <array>
#include <functional>
#include <iostream>
#include <map>
#include <system_error>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "transports/usbip_session.h"

namespace vauth::transport {
namespace {

using boost::asio::ip::tcp;

constexpr size_t kReadChunk = 16 * 1024;
// Stop reading from a client that does not read its replies once this much
// output waits, so a peer cannot grow our memory by never reading.
constexpr size_t kMaxBacklog = 256 * 1024;
// After an accept error (e.g. out of file descriptors), wait before retrying
// instead of spinning on the failing accept.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

void log(const std::string& line) { std::cerr << "vauthd: usbip: " << line << std::endl; }

}  // namespace

class Connection;

struct UsbipServer::Impl {
  Impl(boost::asio::io_context& io, UsbipOptions options)
      : io(io), options(std::move(options)), acceptor(io), accept_retry(io) {}
  ~Impl();

  void accept();
  void forget(uint64_t id) { connections.erase(id); }

  boost::asio::io_context& io;
  UsbipOptions options;
  tcp::acceptor acceptor;
  boost::asio::steady_timer accept_retry;
  UsbipDeviceTable devices;
  uint64_t next_connection_id = 1;
  std::map<uint64_t, std::shared_ptr<Connection>> connections;
};

// One client. Owned by the server's map while open and by its own pending
// handlers; `forget_` is cleared when the server goes away first.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Forget = std::function<void()>;
  Connection(tcp::socket socket, UsbipDeviceTable& devices, Forget forget)
      : socket_(std::move(socket)), forget_(std::move(forget)), session_(devices, [this] { flush(); }) {}

  void start() {
    boost::system::error_code ignored;
    // Each report is a small message waiting for an answer: do not let Nagle hold it.
    socket_.set_option(tcp::no_delay(true), ignored);
    socket_.set_option(boost::asio::socket_base::keep_alive(true), ignored);
    read();
  }

  // Ends the connection: detaches the device (making it importable again).
  void close() {
    if (closed_) return;
    closed_ = true;
    session_.close();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (forget_) {
      Forget forget = std::move(forget_);
      forget_ = nullptr;
      forget();  // may drop the server's reference; pending handlers hold their own
    }
  }

  const std::string& imported_busid() const { return session_.imported_busid(); }

  // The server is being destroyed: close without touching it.
  void orphan() {
    forget_ = nullptr;
    close();
  }

 private:
  void read() {
    if (closed_ || reading_) return;
    reading_ = true;
    socket_.async_read_some(boost::asio::buffer(buffer_),
                            [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(const boost::system::error_code& ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      close();  // EOF or reset: the host detached
      return;
    }
    if (!session_.consume(ByteView(buffer_.data(), n))) {
      log("closing a connection: " + session_.error());
      close();
      return;
    }
    flush();
    if (backlog() < kMaxBacklog) read();
  }

  size_t backlog() const { return writing_.size() + session_.output_size(); }

  // Starts sending whatever the session produced, unless a write is under way
  // (its completion sends the rest).
  void flush() {
    if (closed_ || !writing_.empty() || session_.output_size() == 0) return;
    writing_ = session_.take_output();
    boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                             [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                               self->on_written(ec);
                             });
  }

  void on_written(const boost::system::error_code& ec) {
    writing_.clear();
    if (closed_) return;
    if (ec) {
      close();
      return;
    }
    flush();
    if (backlog() < kMaxBacklog) read();  // resumes a paused reader; no-op if reading
  }

  tcp::socket socket_;
  Forget forget_;  // removes this connection from the server's map
  UsbipSession session_;
  std::array<uint8_t, kReadChunk> buffer_{};
  Bytes writing_;
  bool reading_ = false;
  bool closed_ = false;
};

UsbipServer::Impl::~Impl() {
  // Orphan first so close() does not erase from the map being walked.
  auto open = std::move(connections);
  for (auto& [id, connection] : open) connection->orphan();
  boost::system::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
}

void UsbipServer::Impl::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      log("accept failed: " + ec.message());
      accept_retry.expires_after(kAcceptRetryDelay);
      accept_retry.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    const uint64_t id = next_connection_id++;
    auto connection = std::make_shared<Connection>(std::move(socket), devices, [this, id] { forget(id); });
    connections.emplace(id, connection);
    connection->start();
    accept();
  });
}

UsbipServer::UsbipServer(boost::asio::io_context& io, UsbipOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

UsbipServer::~UsbipServer() = default;

void UsbipServer::export_device(HidEndpoint& endpoint) { impl_->devices.add(endpoint); }

std::string UsbipServer::export_device(HidEndpoint& endpoint, uint32_t number) {
  return impl_->devices.busid(impl_->devices.add(endpoint, number));
}

void UsbipServer::unexport_device(HidEndpoint& endpoint) {
  const std::string busid = impl_->devices.busid_of(endpoint);
  if (busid.empty()) return;
  // close() erases from the map: walk a copy.
  auto open = impl_->connections;
  for (auto& [id, connection] : open) {
    if (connection->imported_busid() == busid) {
      log("closing the session that imported " + busid + ": the device was unplugged");
      connection->close();
    }
  }
  impl_->devices.remove(endpoint);
}

size_t UsbipServer::connection_count() const { return impl_->connections.size(); }

void UsbipServer::start() {
  const std::string where = impl_->options.address + ":" + std::to_string(impl_->options.port);
  boost::system::error_code ec;
  tcp::resolver resolver(impl_->io);
  const auto endpoints = resolver.resolve(impl_->options.address, std::to_string(impl_->options.port),
                                          tcp::resolver::numeric_service | tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    throw std::system_error(ec ? ec : make_error_code(std::errc::address_not_available),
                            "usbip: cannot resolve " + where);
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  // Restarting the daemon must not wait out TIME_WAIT of the previous one's connections.
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    a.close(ignored);
    throw std::system_error(ec, "usbip: cannot listen on " + where);
  }
  impl_->accept();
}

uint16_t UsbipServer::port() const {
  boost::system::error_code ec;
  const tcp::endpoint local = impl_->acceptor.local_endpoint(ec);
  return ec ? impl_->options.port : local.port();
}

std::string UsbipServer::busid(size_t index) const { return impl_->devices.busid(index); }

}  // namespace vauth::transport
