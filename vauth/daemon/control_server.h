// The control API's HTTP/1.1 server (Boost.Beast) on the daemon's own
// io_context: no threads, so handlers touch devices directly. It listens on a
// Unix socket (0600 in a 0700 directory: the file system is the access
// control) and optionally on TCP, where every request must carry the bearer
// token. GET /v1/events is a Server-Sent Events stream; everything else goes
// to ControlRoutes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "vauth/daemon/control_routes.h"
#include "vauth/daemon/event_bus.h"

namespace vauth::daemon {

struct ControlServerOptions {
  std::optional<std::string> socket_path;
  std::optional<std::string> tcp_address;
  uint16_t tcp_port = 0;
  std::string token;  // required (non-empty) when tcp_address is set
};

class ControlServer {
 public:
  ControlServer(boost::asio::io_context& io, ControlRoutes& routes, EventBus& events, ControlServerOptions options);
  // Stops listening and removes the socket file. Open connections end with the io_context.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the socket (and its directory), binds and listens. Throws
  // std::runtime_error with the path or address in the message.
  void start();
  uint16_t tcp_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vauth::daemon
