#include "transports/upstream_spec.h"

#include <charconv>
#include <cstdio>

namespace vauth::transport {
namespace {

using Result = Expected<UpstreamSpec, std::string>;

Result bad(std::string why) {
  return unexpected(std::move(why));
}

// A whole decimal or hex number of at most `max`; nothing else in `s`.
std::optional<uint32_t> number(std::string_view s, int base, uint32_t max) {
  uint32_t v = 0;
  if (s.empty() || s.size() > 10) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::optional<uint16_t> usb_id(std::string_view s) {
  if (s.size() != 4) return std::nullopt;  // exactly four hex digits, as lsusb prints them
  auto v = number(s, 16, 0xffff);
  if (!v) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

std::optional<uint16_t> port(std::string_view s) {
  auto v = number(s, 10, 65535);
  if (!v || *v == 0) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

Result parse_usb(std::string_view rest) {
  UpstreamSpec spec;
  spec.kind = UpstreamSpec::Kind::Usb;
  const auto c1 = rest.find(':');
  if (c1 == std::string_view::npos) return bad("usb: wants VID:PID[:SERIAL] in hex, e.g. usb:1050:0407");
  const auto c2 = rest.find(':', c1 + 1);
  auto vid = usb_id(rest.substr(0, c1));
  auto pid = usb_id(rest.substr(c1 + 1, c2 == std::string_view::npos ? std::string_view::npos : c2 - c1 - 1));
  if (!vid || !pid) return bad("usb: VID and PID are four hex digits each, e.g. usb:1050:0407");
  spec.vendor_id = *vid;
  spec.product_id = *pid;
  if (c2 != std::string_view::npos) {
    const std::string_view serial = rest.substr(c2 + 1);
    if (serial.empty()) return bad("usb: the serial after VID:PID: is empty");
    spec.serial = std::string(serial);
  }
  return spec;
}

// HOST:PORT[:LISTEN_PORT]; HOST may not contain ':' (IPv6 literals are not supported here).
Result parse_udp(std::string_view rest) {
  UpstreamSpec spec;
  spec.kind = UpstreamSpec::Kind::Udp;
  const auto c1 = rest.find(':');
  if (c1 == std::string_view::npos || c1 == 0)
    return bad("udp: wants HOST:PORT[:LISTEN_PORT], e.g. udp:127.0.0.1:8111");
  spec.host = std::string(rest.substr(0, c1));
  const auto c2 = rest.find(':', c1 + 1);
  auto p = port(rest.substr(c1 + 1, c2 == std::string_view::npos ? std::string_view::npos : c2 - c1 - 1));
  if (!p) return bad("udp: the port must be a number from 1 to 65535");
  spec.port = *p;
  if (c2 != std::string_view::npos) {
    auto l = port(rest.substr(c2 + 1));
    if (!l) return bad("udp: the listen port must be a number from 1 to 65535");
    spec.listen_port = *l;
  }
  return spec;
}

}  // namespace

std::string UpstreamSpec::text() const {
  char ids[16];
  switch (kind) {
    case Kind::Usb:
      std::snprintf(ids, sizeof ids, "%04x:%04x", vendor_id, product_id);
      return std::string("usb:") + ids + (serial ? ":" + *serial : "");
    case Kind::Udp: return "udp:" + host + ":" + std::to_string(port) + ":" + std::to_string(listen_port);
    case Kind::Seqpacket: return "seqpacket:" + path;
    case Kind::Replay: return "replay:" + path;
  }
  return "";
}

Expected<UpstreamSpec, std::string> parse_upstream_spec(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return bad("--proxy wants usb:VID:PID[:SERIAL], udp:HOST:PORT[:LISTEN_PORT], seqpacket:PATH or replay:TRACE");
  }
  const std::string_view kind = text.substr(0, colon), rest = text.substr(colon + 1);
  if (kind == "usb") return parse_usb(rest);
  if (kind == "udp") return parse_udp(rest);
  if (kind == "seqpacket" || kind == "replay") {
    if (rest.empty()) return bad(std::string(kind) + ": wants a path");
    UpstreamSpec spec;
    spec.kind = kind == "seqpacket" ? UpstreamSpec::Kind::Seqpacket : UpstreamSpec::Kind::Replay;
    spec.path = std::string(rest);
    return spec;
  }
  return bad("--proxy: unknown upstream \"" + std::string(kind) + "\" (usb, udp, seqpacket or replay)");
}

}  // namespace vauth::transport
