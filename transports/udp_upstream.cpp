#include "transports/udp_upstream.h"

#include <boost/asio/ip/udp.hpp>
#include <iostream>
#include <stdexcept>

namespace vauth::transport {
namespace {

using boost::asio::ip::udp;

class UdpUpstream final : public Upstream {
 public:
  UdpUpstream(boost::asio::io_context& io, const UpstreamSpec& spec)
      : io_(io),
        host_(spec.host),
        port_(spec.port),
        listen_port_(spec.listen_port),
        state_(std::make_shared<State>(io)) {}
  ~UdpUpstream() override {
    boost::system::error_code ignored;
    state_->socket.close(ignored);  // the pending receive completes with operation_aborted
    state_->on_report = nullptr;
  }

  std::string describe() const override {
    return "udp " + host_ + ":" + std::to_string(port_) + " (answers on port " + std::to_string(listen_port_) + ")";
  }

  void start(OnReport on_report, OnFailure) override {
    boost::system::error_code ec;
    udp::resolver resolver(io_);
    const auto peers = resolver.resolve(host_, std::to_string(port_), udp::resolver::numeric_service, ec);
    if (ec || peers.empty())
      throw std::runtime_error("proxy: cannot resolve the upstream " + host_ + ": " + ec.message());
    peer_ = peers.begin()->endpoint();
    // Answers come from the key to the convention's fixed port on the same kind of address.
    const udp::endpoint local(
        peer_.address().is_loopback()
            ? (peer_.address().is_v4() ? boost::asio::ip::address(boost::asio::ip::address_v4::loopback())
                                       : boost::asio::ip::address(boost::asio::ip::address_v6::loopback()))
            : (peer_.address().is_v4() ? boost::asio::ip::address(boost::asio::ip::address_v4::any())
                                       : boost::asio::ip::address(boost::asio::ip::address_v6::any())),
        listen_port_);
    state_->socket.open(local.protocol(), ec);
    if (!ec) state_->socket.bind(local, ec);
    if (ec) {
      throw std::runtime_error("proxy: cannot listen for the upstream's answers on " + local.address().to_string() +
                               ":" + std::to_string(listen_port_) + ": " + ec.message() +
                               " (choose another port: udp:HOST:PORT:LISTEN_PORT)");
    }
    state_->on_report = std::move(on_report);
    receive(state_);
  }

  void send(const Report& report) override {
    if (!state_->socket.is_open()) return;
    boost::system::error_code ec;
    state_->socket.send_to(boost::asio::buffer(report), peer_, 0, ec);
    if (ec && !warned_) {
      warned_ = true;
      std::cerr << "vauthd: proxy: cannot send to the upstream " << describe() << ": " << ec.message() << std::endl;
    }
  }

 private:
  // Shared with the pending receive, which may complete after this object is gone.
  struct State {
    explicit State(boost::asio::io_context& io) : socket(io) {}
    udp::socket socket;
    udp::endpoint sender;
    std::array<uint8_t, kReportSize + 1> buffer{};
    OnReport on_report;
  };

  static void receive(const std::shared_ptr<State>& s) {
    s->socket.async_receive_from(boost::asio::buffer(s->buffer), s->sender,
                                 [s](const boost::system::error_code& ec, size_t n) {
                                   if (ec == boost::asio::error::operation_aborted || !s->socket.is_open()) return;
                                   // A datagram of another size is not a report; ICMP errors surface as ec.
                                   if (!ec && n == kReportSize && s->on_report) {
                                     Report r;
                                     std::copy_n(s->buffer.begin(), kReportSize, r.begin());
                                     s->on_report(r);
                                   }
                                   if (s->socket.is_open()) receive(s);
                                 });
  }

  boost::asio::io_context& io_;
  std::string host_;
  uint16_t port_, listen_port_;
  udp::endpoint peer_;
  std::shared_ptr<State> state_;
  bool warned_ = false;
};

}  // namespace

std::unique_ptr<Upstream> make_udp_upstream(boost::asio::io_context& io, const UpstreamSpec& spec) {
  return std::make_unique<UdpUpstream>(io, spec);
}

}  // namespace vauth::transport
