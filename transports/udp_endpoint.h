// A virtual FIDO device on UDP, in the convention of the SoloKeys and CanoKey
// simulators that existing conformance tooling speaks: one 64-byte CTAPHID
// report per datagram, no report-ID byte. The device listens on
// 127.0.0.1:8111 and sends its reports to 127.0.0.1:7112, whoever sent the
// request. No kernel is involved, so CI that cannot load modules can use it.
//
// The simulators' "magic reboot" datagram (kMagicReboot) is a power cycle of
// the device, not a report. Datagrams of any size other than 64 bytes are
// dropped and counted.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "transports/hid_endpoint.h"

namespace vauth::transport {

struct UdpOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 8111;  // 0 picks a free port (tests)
  std::string peer_address = "127.0.0.1";
  uint16_t peer_port = 7112;
};

// ac1052ca95e569de...: the SoloKeys simulator's reboot request.
extern const std::array<uint8_t, kReportSize> kMagicReboot;

struct UdpStats {
  uint64_t reports_in = 0;          // 64-byte datagrams handed to the device
  uint64_t reports_out = 0;         // reports sent to the peer
  uint64_t dropped_wrong_size = 0;  // datagrams that were not 64 bytes
  uint64_t reboots = 0;             // magic reboot datagrams
  uint64_t send_errors = 0;         // reports the kernel refused to send (peer gone, buffer full)
};

class UdpEndpoint {
 public:
  // `power_cycle` runs when the magic reboot datagram arrives.
  UdpEndpoint(boost::asio::io_context& io, HidEndpoint& endpoint, UdpOptions options,
              std::function<void()> power_cycle);
  ~UdpEndpoint();  // stop()
  UdpEndpoint(const UdpEndpoint&) = delete;
  UdpEndpoint& operator=(const UdpEndpoint&) = delete;

  // Binds the listen address and starts answering. The first start() with port 0
  // picks a port; later starts (after stop()) bind that same port again.
  // Throws std::system_error naming the address on failure.
  void start();
  // Stops answering: closes the socket and detaches the device (a pending
  // transaction is aborted). Idempotent.
  void stop();
  bool running() const;
  uint16_t port() const;  // the bound port (after start())
  const UdpOptions& options() const;
  const UdpStats& stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with pending receive handlers
};

}  // namespace vauth::transport
