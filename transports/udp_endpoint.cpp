#include "transports/udp_endpoint.h"

#include <algorithm>
#include <boost/asio/ip/udp.hpp>
#include <iostream>
#include <system_error>

namespace vauth::transport {

using boost::asio::ip::udp;

const std::array<uint8_t, kReportSize> kMagicReboot = {
    0xac, 0x10, 0x52, 0xca, 0x95, 0xe5, 0x69, 0xde, 0x69, 0xe0, 0x2e, 0xbf, 0xf3, 0x33, 0x48, 0x5f,
    0x13, 0xf9, 0xb2, 0xda, 0x34, 0xc5, 0xa8, 0xa3, 0x40, 0x52, 0x66, 0x97, 0xa9, 0xab, 0x2e, 0x0b,
    0x39, 0x4d, 0x8d, 0x04, 0x97, 0x3c, 0x13, 0x40, 0x05, 0xbe, 0x1a, 0x01, 0x40, 0xbf, 0xf6, 0x04,
    0x5b, 0xb2, 0x6e, 0xb7, 0x7a, 0x73, 0xea, 0xa4, 0x78, 0x13, 0xf6, 0xb4, 0x9a, 0x72, 0x50, 0xdc};

namespace {

void log(const std::string& line) {
  std::cerr << "vauthd: udp: " << line << std::endl;
}

udp::endpoint resolve(boost::asio::io_context& io, const std::string& address, uint16_t port, bool passive) {
  boost::system::error_code ec;
  udp::resolver resolver(io);
  auto flags = udp::resolver::numeric_service;
  if (passive) flags |= udp::resolver::passive;
  const auto results = resolver.resolve(address, std::to_string(port), flags, ec);
  if (ec || results.empty()) {
    throw std::system_error(ec ? ec : make_error_code(std::errc::address_not_available),
                            "udp: cannot resolve " + address + ":" + std::to_string(port));
  }
  return results.begin()->endpoint();
}

}  // namespace

struct UdpEndpoint::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io, HidEndpoint& ep, UdpOptions o, std::function<void()> reboot)
      : io(io), endpoint(ep), options(std::move(o)), power_cycle(std::move(reboot)), socket(io) {}

  boost::asio::io_context& io;
  HidEndpoint& endpoint;
  UdpOptions options;
  std::function<void()> power_cycle;
  udp::socket socket;
  udp::endpoint peer;
  udp::endpoint sender;  // filled by each receive; not where replies go (the convention's fixed peer)
  // One byte more than a report, so an oversized datagram is seen as such (the rest is discarded).
  std::array<uint8_t, kReportSize + 1> buffer{};
  UdpStats stats;
  bool running = false;
  uint64_t generation = 0;  // a receive completed for an earlier start() is ignored

  void receive() {
    socket.async_receive_from(boost::asio::buffer(buffer), sender,
                              [self = shared_from_this(), gen = generation](
                                  const boost::system::error_code& ec, size_t n) { self->on_receive(gen, ec, n); });
  }

  void on_receive(uint64_t gen, const boost::system::error_code& ec, size_t n) {
    if (!running || gen != generation || ec == boost::asio::error::operation_aborted) return;
    // ICMP port unreachable from an earlier send surfaces here as connection_refused: not our error.
    if (!ec) dispatch(n);
    // dispatch() may have stopped us (through a power cycle's listeners); re-arm only if still running.
    if (running && gen == generation) receive();
  }

  void dispatch(size_t n) {
    if (n != kReportSize) {
      if (stats.dropped_wrong_size++ == 0) {
        log("dropping a datagram of " + std::to_string(n) + (n > kReportSize ? "+" : "") +
            " bytes (a datagram carries exactly one 64-byte report); counting the rest silently");
      }
      return;
    }
    if (std::equal(kMagicReboot.begin(), kMagicReboot.end(), buffer.begin())) {
      ++stats.reboots;
      if (power_cycle) power_cycle();
      return;
    }
    ++stats.reports_in;
    endpoint.on_output_report(ByteView(buffer.data(), kReportSize));
  }

  void send(const Report& report) {
    if (!running) return;
    boost::system::error_code ec;
    socket.send_to(boost::asio::buffer(report.data(), report.size()), peer, 0, ec);
    if (ec) {
      if (stats.send_errors++ == 0) log("cannot send to the peer: " + ec.message());
      return;
    }
    ++stats.reports_out;
  }

  void start() {
    if (running) return;
    const udp::endpoint local = resolve(io, options.listen_address, options.listen_port, true);
    peer = resolve(io, options.peer_address, options.peer_port, false);
    const std::string where = options.listen_address + ":" + std::to_string(options.listen_port);
    boost::system::error_code ec;
    socket.open(local.protocol(), ec);
    if (!ec) socket.bind(local, ec);
    if (!ec) socket.non_blocking(true, ec);  // a send never stalls the loop; a full buffer drops the report
    if (ec) {
      boost::system::error_code ignored;
      socket.close(ignored);
      throw std::system_error(ec, "udp: cannot listen on " + where);
    }
    // A restart after stop() keeps the address the peer already knows.
    options.listen_port = socket.local_endpoint().port();
    running = true;
    ++generation;
    std::weak_ptr<Impl> weak = shared_from_this();
    endpoint.set_input_sink([weak](const Report& r) {
      if (auto self = weak.lock()) self->send(r);
    });
    receive();
  }

  void stop() {
    if (!running) return;
    running = false;
    ++generation;
    endpoint.set_input_sink({});
    endpoint.on_host_reset();
    boost::system::error_code ignored;
    socket.close(ignored);  // the pending receive completes with operation_aborted
  }
};

UdpEndpoint::UdpEndpoint(boost::asio::io_context& io, HidEndpoint& endpoint, UdpOptions options,
                         std::function<void()> power_cycle)
    : impl_(std::make_shared<Impl>(io, endpoint, std::move(options), std::move(power_cycle))) {}

UdpEndpoint::~UdpEndpoint() {
  stop();
}

void UdpEndpoint::start() {
  impl_->start();
}
void UdpEndpoint::stop() {
  impl_->stop();
}
bool UdpEndpoint::running() const {
  return impl_->running;
}
uint16_t UdpEndpoint::port() const {
  return impl_->options.listen_port;
}
const UdpOptions& UdpEndpoint::options() const {
  return impl_->options;
}
const UdpStats& UdpEndpoint::stats() const {
  return impl_->stats;
}

}  // namespace vauth::transport
