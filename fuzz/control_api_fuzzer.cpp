// The control API's routes (vauth/daemon/control_routes) behind Beast's HTTP
// parser, exactly as the control server wires them, without sockets: arbitrary
// method, target, headers and JSON body go to two in-process devices. Every
// answer must be a status from 200 to 599 whose body serialises (the server
// calls dump() on it), and every 4xx/5xx must carry a JSON object with an
// "error" string. Events published meanwhile must serialise too.
//
// Input: the raw bytes of one HTTP/1.1 request (see fuzz/corpus/control_api_fuzzer).
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "vauth/daemon/control_routes.h"

namespace {

namespace http = boost::beast::http;
using namespace vauth;
using namespace vauth::daemon;

struct Daemon {
  Daemon() {
    for (size_t i = 1; i <= 2; ++i) {
      DeviceSettings s;
      s.index = i;
      s.events = &events;
      s.seed = 100 + i;
      s.store.kind = StoreSettings::Kind::Ephemeral;
      s.presence.mode = i == 1 ? ctap::ControlledPresence::Mode::Approve : ctap::ControlledPresence::Mode::Wait;
      devices.push_back(std::make_unique<VirtualDevice>(io, clock, std::move(s)));
    }
    // Every event line must be JSON (the event stream sends it verbatim).
    events.subscribe([](const std::string& line) {
      if (nlohmann::json::parse(line, nullptr, false).is_discarded()) std::abort();
    });
  }
  EventBus events;
  boost::asio::io_context io;
  SteadyClock clock;
  ControlRoutes::Devices devices;
  ControlRoutes routes{devices, events};
};

void check(const ControlResponse& r) {
  if (r.status < 200 || r.status > 599) std::abort();
  // What the control server sends: invalid UTF-8 (a target quoted in a detail)
  // is replaced, never thrown; the result must parse back as JSON.
  const std::string wire = r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (nlohmann::json::parse(wire, nullptr, false).is_discarded()) std::abort();
  if (r.status >= 400) {
    if (!r.body.is_object() || !r.body.contains("error") || !r.body["error"].is_string()) std::abort();
  }
  if (r.status == 405 && r.allow.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Daemon* daemon = new Daemon;  // one daemon across inputs: state carries over, as in a real one
  http::request_parser<http::string_body> parser;
  parser.body_limit(1 << 20);  // the control server's limits
  parser.header_limit(16 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::buffer(data, size), ec);
  (void)used;
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the server answers 400 without reaching the routes
  const auto& req = parser.get();
  ControlRequest request{std::string(req.method_string()), std::string(req.target()), req.body()};
  check(daemon->routes.handle(request));
  daemon->io.poll();  // timers the request scheduled (presence, keepalives)
  daemon->io.restart();
  return 0;
}
