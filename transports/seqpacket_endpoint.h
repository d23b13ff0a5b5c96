// A virtual FIDO HID device offered on a Unix SOCK_SEQPACKET socket: one
// 64-byte CTAPHID report per packet in each direction, no report-ID byte. It
// is the user-space "wire" for local bridges such as `vauth run` (kernel-free
// hidraw emulation, docs/kernel-free.md) that cannot use UHID or USB/IP.
//
// One host at a time, like one USB port: while a host is connected, further
// connections are accepted and closed at once (the peer reads EOF) rather than
// queued, so a second client fails fast instead of hanging. A host that
// disconnects is a host reset (HidEndpoint::on_host_reset): transactions are
// aborted and channels forgotten, as when a program closes /dev/hidrawN.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>

#include "transports/hid_endpoint.h"

namespace vauth::transport {

// Raised when the socket cannot be created; what() names the path and the reason.
class SeqpacketError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SeqpacketStats {
  uint64_t reports_in = 0;            // 64-byte packets passed to the device
  uint64_t reports_out = 0;           // reports sent to the host
  uint64_t dropped_wrong_size = 0;    // packets from the host that were not 64 bytes
  uint64_t dropped_host_slow = 0;     // reports lost because the host's socket buffer was full
  uint64_t refused_connections = 0;   // connections closed because a host was already connected
  uint64_t connections = 0;           // hosts accepted so far
};

class SeqpacketEndpoint {
 public:
  // The socket is created at `socket_path`; its directory is created 0700 if
  // missing and must not be open to group or others.
  SeqpacketEndpoint(boost::asio::io_context& io, HidEndpoint& endpoint, std::string socket_path);
  ~SeqpacketEndpoint();  // stop()
  SeqpacketEndpoint(const SeqpacketEndpoint&) = delete;
  SeqpacketEndpoint& operator=(const SeqpacketEndpoint&) = delete;

  // Binds (socket 0600), listens and starts accepting. Throws SeqpacketError.
  void start();
  // Disconnects the host (a host reset), closes and unlinks the socket; idempotent.
  void stop();

  const std::string& path() const;
  bool host_connected() const;
  SeqpacketStats stats() const;

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

// Creates `dir` (and missing parents) with mode 0700; an existing `dir` must be
// a directory that group and others cannot access. Throws SeqpacketError.
void prepare_private_directory(const std::string& dir);

}  // namespace vauth::transport
