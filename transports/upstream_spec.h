// The text of `vauthd --proxy SPEC`: which upstream a proxied key forwards to.
//   usb:VID:PID[:SERIAL]          a physical key through libusb (hex IDs, e.g. usb:1050:0407)
//   udp:HOST:PORT[:LISTEN_PORT]   the SoloKeys/CanoKey simulator convention: reports go to
//                                 HOST:PORT, answers come back on LISTEN_PORT (default 7112)
//   seqpacket:PATH                a Unix SEQPACKET socket (another vauthd's device-N.sock)
//   replay:TRACE                  answers from a recorded --trace file (vauthd --replay)
// Pure parsing, so the fuzzer and the option parser share it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vauth/base/expected.h"

namespace vauth::transport {

struct UpstreamSpec {
  enum class Kind { Usb, Udp, Seqpacket, Replay } kind = Kind::Udp;
  // usb
  uint16_t vendor_id = 0, product_id = 0;
  std::optional<std::string> serial;
  // udp
  std::string host;
  uint16_t port = 0;
  uint16_t listen_port = 7112;
  // seqpacket, replay
  std::string path;

  // The canonical text (parse_upstream_spec(text()) gives the same spec back).
  std::string text() const;
};

// The spec, or a sentence saying what is wrong with `text`.
Expected<UpstreamSpec, std::string> parse_upstream_spec(std::string_view text);

}  // namespace vauth::transport
