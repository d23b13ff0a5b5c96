// The --proxy SPEC parser and the choice of a physical key among what libusb
// lists: pure code, so every error message a user may see is checked here
// without a device.
#include <doctest/doctest.h>

#include "transports/upstream_spec.h"
#include "transports/usb_selection.h"

using namespace vauth::transport;

TEST_CASE("usb specs: VID:PID in hex, an optional serial that may contain colons") {
  auto s = parse_upstream_spec("usb:1050:0407");
  REQUIRE(s);
  CHECK(s->kind == UpstreamSpec::Kind::Usb);
  CHECK(s->vendor_id == 0x1050);
  CHECK(s->product_id == 0x0407);
  CHECK_FALSE(s->serial);
  s = parse_upstream_spec("usb:1050:0407:ab:cd");
  REQUIRE(s);
  CHECK(*s->serial == "ab:cd");
  CHECK(s->text() == "usb:1050:0407:ab:cd");
  for (const char* bad : {"usb:", "usb:1050", "usb:105:0407", "usb:10500:0407", "usb:1050:04g7", "usb:1050:0407:"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_upstream_spec(bad));
  }
}

TEST_CASE("udp specs: HOST:PORT with the simulator's answer port 7112 unless given") {
  auto s = parse_upstream_spec("udp:127.0.0.1:8111");
  REQUIRE(s);
  CHECK(s->host == "127.0.0.1");
  CHECK(s->port == 8111);
  CHECK(s->listen_port == 7112);
  s = parse_upstream_spec("udp:localhost:9000:9001");
  REQUIRE(s);
  CHECK(s->listen_port == 9001);
  CHECK(s->text() == "udp:localhost:9000:9001");
  for (const char* bad :
       {"udp:", "udp::8111", "udp:host", "udp:host:0", "udp:host:65536", "udp:host:1:x", "udp:h:+1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_upstream_spec(bad));
  }
}

TEST_CASE("seqpacket and replay take a path; anything else is refused by name") {
  auto s = parse_upstream_spec("seqpacket:/run/vauth/device-1.sock");
  REQUIRE(s);
  CHECK(s->kind == UpstreamSpec::Kind::Seqpacket);
  CHECK(s->path == "/run/vauth/device-1.sock");
  s = parse_upstream_spec("replay:trace.jsonl");
  REQUIRE(s);
  CHECK(s->kind == UpstreamSpec::Kind::Replay);
  CHECK_FALSE(parse_upstream_spec("seqpacket:"));
  auto e = parse_upstream_spec("tcp:1.2.3.4:5");
  REQUIRE_FALSE(e);
  CHECK(e.error() == "--proxy: unknown upstream \"tcp\" (usb, udp, seqpacket or replay)");
  CHECK_FALSE(parse_upstream_spec("usb1050"));
}

TEST_CASE("choosing the key: absent, by serial, ambiguous, unopenable") {
  std::vector<UsbCandidate> c{
      {0x1d6b, 0x0002, 1, 1, std::nullopt, ""},  // a root hub
      {0x1050, 0x0407, 1, 5, std::string("1111"), ""},
      {0x1050, 0x0407, 1, 7, std::string("2222"), ""},
      {0x20a0, 0x42b1, 2, 3, std::nullopt, "permission denied (run as root)"},
  };
  auto absent = select_usb_device(c, 0x1209, 0x0001, std::nullopt);
  REQUIRE_FALSE(absent);
  CHECK(absent.error() == "no USB device 1209:0001 is plugged in (lsusb lists what is)");

  auto two = select_usb_device(c, 0x1050, 0x0407, std::nullopt);
  REQUIRE_FALSE(two);
  CHECK(two.error() == "2 USB devices 1050:0407 are plugged in; choose one with usb:1050:0407:SERIAL");

  auto by_serial = select_usb_device(c, 0x1050, 0x0407, std::string("2222"));
  REQUIRE(by_serial);
  CHECK(*by_serial == 2);

  auto wrong_serial = select_usb_device(c, 0x1050, 0x0407, std::string("3333"));
  REQUIRE_FALSE(wrong_serial);
  CHECK(wrong_serial.error() == "no USB device 1050:0407 has serial \"3333\" (found: \"1111\", \"2222\")");

  auto denied = select_usb_device(c, 0x20a0, 0x42b1, std::nullopt);
  REQUIRE_FALSE(denied);
  CHECK(denied.error() == "cannot open USB device 20a0:42b1 (bus 002 device 003): permission denied (run as root)");
}
