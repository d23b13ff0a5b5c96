#include "vauth/cli/control_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <istream>
#include <unistd.h>

namespace vauth::cli {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Socket = asio::local::stream_protocol::socket;

void connect(Socket& socket, const std::string& path) {
  boost::system::error_code ec;
  socket.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (ec) throw Unreachable("cannot reach vauthd at " + path + " (" + ec.message() + ")");
}

}  // namespace

std::string default_socket_path() {
  if (const char* env = std::getenv("VAUTH_CONTROL_SOCKET"); env && *env) return env;
  if (geteuid() == 0) return "/run/vauth/control.sock";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return std::string(xdg) + "/vauth/control.sock";
  return "/tmp/vauth-" + std::to_string(geteuid()) + "/control.sock";
}

HttpResult ControlClient::request(const std::string& method, const std::string& target, const std::string& body) const {
  asio::io_context io;
  Socket socket(io);
  connect(socket, path_);
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "vauthd");
  req.set(http::field::user_agent, "vauthctl");
  req.keep_alive(false);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  try {
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);  // a credential list can be long
    http::read(socket, buffer, parser);
    return HttpResult{parser.get().result_int(), parser.get().body()};
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("the exchange with vauthd at " + path_ + " broke off (" + e.code().message() + ")");
  }
}

HttpResult ControlClient::stream_events(const std::function<void(const std::string& json)>& on_event) const {
  asio::io_context io;
  Socket socket(io);
  connect(socket, path_);
  const std::string req = "GET /v1/events HTTP/1.1\r\nHost: vauthd\r\nUser-Agent: vauthctl\r\nAccept: text/event-stream\r\n\r\n";
  asio::write(socket, asio::buffer(req));
  asio::streambuf buf;
  boost::system::error_code ec;
  asio::read_until(socket, buf, "\r\n\r\n", ec);
  if (ec) throw std::runtime_error("vauthd closed the event stream before answering (" + ec.message() + ")");
  std::istream in(&buf);
  std::string status_line;
  std::getline(in, status_line);
  unsigned status = 0;
  if (status_line.rfind("HTTP/1.1 ", 0) == 0) status = static_cast<unsigned>(std::atoi(status_line.c_str() + 9));
  for (std::string header; std::getline(in, header) && header != "\r";) {
  }
  if (status != 200) {
    std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    asio::read(socket, buf, ec);  // the error body, up to the close
    rest.append((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return HttpResult{status, rest};
  }
  // One event per "data:" line; comments (": ...") and blank separators are skipped.
  for (;;) {
    asio::read_until(socket, buf, "\n", ec);
    if (ec && buf.size() == 0) break;
    std::string line;
    std::getline(in, line);
    if (line.rfind("data: ", 0) == 0) on_event(line.substr(6));
    if (ec) break;
  }
  return HttpResult{200, ""};
}

}  // namespace vauth::cli
