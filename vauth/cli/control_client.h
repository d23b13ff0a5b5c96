// HTTP/1.1 over vauthd's control socket (Boost.Beast, synchronous: a CLI has
// nothing else to do while it waits). One connection per request.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace vauth::cli {

// The daemon could not be reached at all (no socket, nobody listening, refused).
class Unreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpResult {
  unsigned status = 0;
  std::string body;
};

class ControlClient {
 public:
  explicit ControlClient(std::string socket_path) : path_(std::move(socket_path)) {}

  // Throws Unreachable if nobody answers on the socket, std::runtime_error on a broken exchange.
  HttpResult request(const std::string& method, const std::string& target, const std::string& body = "") const;
  // GET /v1/events: hands each event's JSON to `on_event` until the daemon
  // closes the stream. Returns the HTTP status and, unless 200, the error body.
  HttpResult stream_events(const std::function<void(const std::string& json)>& on_event) const;

  const std::string& socket_path() const { return path_; }

 private:
  std::string path_;
};

// $VAUTH_CONTROL_SOCKET, else where vauthd puts it by default:
// $XDG_RUNTIME_DIR/vauth/control.sock, /run/vauth/control.sock as root, /tmp/vauth-UID/control.sock.
std::string default_socket_path();

}  // namespace vauth::cli
