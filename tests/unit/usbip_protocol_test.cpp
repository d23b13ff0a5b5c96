// USB/IP wire format and USB descriptors. Expected bytes are written out by hand
// from Documentation/usb/usbip_protocol.rst and USB 2.0 / HID 1.11, not produced
// by the encoders under test, so a symmetric encode/decode bug cannot hide.
#include <doctest/doctest.h>

#include <string>

#include "transports/hid_descriptor.h"
#include "transports/usb_descriptors.h"
#include "transports/usbip_protocol.h"

namespace vauth::transport {
namespace {

using usbip::ParseStatus;

Bytes hex(std::string_view h) {
  std::optional<Bytes> b = from_hex(h);
  REQUIRE(b);
  return *b;
}

Bytes zeros(size_t n) { return Bytes(n, 0); }

Bytes padded(std::string_view s, size_t n) {
  Bytes b = to_bytes(s);
  b.resize(n, 0);
  return b;
}

usbip::DeviceRecord sample_record() {
  usbip::DeviceRecord r;
  r.path = "/sys/devices/platform/vauth/usb1/1-1";
  r.busid = "1-1";
  r.busnum = 1;
  r.devnum = 1;
  r.id_vendor = 0x1209;
  r.id_product = 0x7a01;
  r.bcd_device = 0x0100;
  r.interfaces.push_back({3, 0, 0});
  return r;
}

// The 312-byte usbip_usb_device of sample_record(), field by field.
Bytes sample_record_bytes() {
  return concat(padded("/sys/devices/platform/vauth/usb1/1-1", 256), padded("1-1", 32),
                hex("00000001"  // busnum
                    "00000001"  // devnum
                    "00000002"  // speed: full
                    "1209" "7a01" "0100"  // idVendor idProduct bcdDevice
                    "00" "00" "00"        // class subclass protocol
                    "01" "01" "01"));     // bConfigurationValue bNumConfigurations bNumInterfaces
}

// ------------------------------------------------------------------ operations

TEST_CASE("OP_REQ_DEVLIST parses from its 8 bytes and waits for more before") {
  const Bytes req = hex("0111" "8005" "00000000");
  CHECK(usbip::encode_devlist_request() == req);
  for (size_t n = 0; n < req.size(); ++n) {
    CHECK(usbip::parse_op_request(ByteView(req).first(n)).status == ParseStatus::kNeedMore);
  }
  const Bytes stream = concat(req, hex("deadbeef"));
  auto p = usbip::parse_op_request(stream);
  REQUIRE(p.status == ParseStatus::kDone);
  CHECK(p.consumed == 8);
  CHECK(p.message.header.code == usbip::kOpReqDevlist);
}

TEST_CASE("OP_REQ_IMPORT carries a NUL-padded 32-byte bus ID") {
  const Bytes req = concat(hex("0111" "8003" "00000000"), padded("1-2", 32));
  CHECK(usbip::encode_import_request("1-2") == req);
  CHECK(usbip::parse_op_request(ByteView(req).first(39)).status == ParseStatus::kNeedMore);
  auto p = usbip::parse_op_request(req);
  REQUIRE(p.status == ParseStatus::kDone);
  CHECK(p.consumed == 40);
  CHECK(p.message.busid == "1-2");

  // A bus ID without any NUL is taken whole, never read past its field.
  const Bytes full = concat(hex("0111" "8003" "00000000"), Bytes(32, 'a'), hex("ff"));
  p = usbip::parse_op_request(full);
  REQUIRE(p.status == ParseStatus::kDone);
  CHECK(p.message.busid == std::string(32, 'a'));
  CHECK(p.consumed == 40);
}

TEST_CASE("operations with another version or an unknown code are errors") {
  CHECK(usbip::parse_op_request(hex("0110" "8005" "00000000")).status == ParseStatus::kError);
  CHECK(usbip::parse_op_request(hex("0111" "8004" "00000000")).status == ParseStatus::kError);
  CHECK(usbip::parse_op_request(hex("0111" "0005" "00000000")).status == ParseStatus::kError);
  // A URB header arriving before import is not an operation either.
  CHECK(usbip::parse_op_request(hex("00000001" "00000001")).status == ParseStatus::kError);
}

TEST_CASE("OP_REP_DEVLIST: header, count, 312-byte device record, 4 bytes per interface") {
  const Bytes expected = concat(hex("0111" "0005" "00000000" "00000001"), sample_record_bytes(),
                                hex("03" "00" "00" "00"));
  const Bytes got = usbip::encode_devlist_reply({sample_record()});
  CHECK(got.size() == 8 + 4 + 312 + 4);
  CHECK(to_hex(got) == to_hex(expected));
  CHECK(usbip::encode_devlist_reply({}) == hex("0111" "0005" "00000000" "00000000"));
}

TEST_CASE("OP_REP_IMPORT: the device record without interfaces, or the status alone") {
  const usbip::DeviceRecord r = sample_record();
  const Bytes ok = usbip::encode_import_reply(usbip::kStatusOk, &r);
  CHECK(ok.size() == 8 + 312);
  CHECK(to_hex(ok) == to_hex(concat(hex("0111" "0003" "00000000"), sample_record_bytes())));
  CHECK(usbip::encode_import_reply(usbip::kStatusError, nullptr) == hex("0111" "0003" "00000001"));
}

TEST_CASE("over-long path and bus ID are truncated and stay NUL terminated") {
  usbip::DeviceRecord r = sample_record();
  r.path = std::string(300, 'p');
  r.busid = std::string(40, 'b');
  Bytes out;
  usbip::encode_device_record(out, r, false);
  REQUIRE(out.size() == 312);
  CHECK(out[254] == 'p');
  CHECK(out[255] == 0);
  CHECK(out[256 + 30] == 'b');
  CHECK(out[256 + 31] == 0);
}

// ------------------------------------------------------------------ URBs

// CMD_SUBMIT of GET_DESCRIPTOR(DEVICE, 64) to endpoint 0, as vhci-hcd sends it.
const char* const kGetDeviceDescriptor =
    "00000001" "0000000d" "00010002" "00000001" "00000000"  // submit, seqnum 13, devid 1-2, IN, ep 0
    "00000200" "00000040" "00000000" "ffffffff" "00000000"  // flags, length 64, frame, packets, interval
    "8006000100004000";                                     // setup

TEST_CASE("CMD_SUBMIT (control IN) decodes field by field and re-encodes identically") {
  const Bytes wire = hex(kGetDeviceDescriptor);
  REQUIRE(wire.size() == usbip::kUrbHeaderSize);
  for (size_t n = 0; n < wire.size(); ++n) {
    CHECK(usbip::parse_urb_command(ByteView(wire).first(n)).status == ParseStatus::kNeedMore);
  }
  auto p = usbip::parse_urb_command(wire);
  REQUIRE(p.status == ParseStatus::kDone);
  CHECK(p.consumed == 48);
  const auto& c = std::get<usbip::CmdSubmit>(p.message);
  CHECK(c.basic.seqnum == 13);
  CHECK(c.basic.devid == 0x00010002);
  CHECK(c.basic.direction == usbip::kDirIn);
  CHECK(c.basic.ep == 0);
  CHECK(c.transfer_flags == 0x200);
  CHECK(c.transfer_buffer_length == 64);
  CHECK(c.number_of_packets == -1);
  CHECK(c.data.empty());  // IN: nothing follows the header
  const usb::SetupPacket s = usb::parse_setup(c.setup);
  CHECK(s.request_type == 0x80);
  CHECK(s.request == 0x06);
  CHECK(s.value == 0x0100);
  CHECK(s.index == 0);
  CHECK(s.length == 64);
  CHECK(usb::encode_setup(s) == c.setup);
  CHECK(usbip::encode(c) == wire);
}

TEST_CASE("CMD_SUBMIT (interrupt OUT) is complete only with its transfer buffer") {
  const Bytes header = hex("00000001" "00000005" "00010001" "00000000" "00000001"
                           "00000000" "00000040" "00000000" "00000000" "00000000"
                           "0000000000000000");
  Bytes data(64);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  const Bytes wire = concat(header, data, hex("abcd"));
  CHECK(usbip::parse_urb_command(ByteView(wire).first(48 + 63)).status == ParseStatus::kNeedMore);
  auto p = usbip::parse_urb_command(wire);
  REQUIRE(p.status == ParseStatus::kDone);
  CHECK(p.consumed == 48 + 64);
  const auto& c = std::get<usbip::CmdSubmit>(p.message);
  CHECK(c.basic.direction == usbip::kDirOut);
  CHECK(c.basic.ep == 1);
  CHECK(c.data == data);
  CHECK(usbip::encode(c) == concat(header, data));
}

TEST_CASE("CMD_UNLINK decodes; RET_UNLINK and RET_SUBMIT encode to the documented layout") {
  const Bytes unlink = concat(hex("00000002" "00000009" "00010001" "00000000" "00000001" "00000007"),
                              zeros(24));
  auto p = usbip::parse_urb_command(unlink);
  REQUIRE(p.status == ParseStatus::kDone);
  CHECK(p.consumed == 48);
  const auto& u = std::get<usbip::CmdUnlink>(p.message);
  CHECK(u.basic.seqnum == 9);
  CHECK(u.unlink_seqnum == 7);
  CHECK(usbip::encode(u) == unlink);

  CHECK(to_hex(usbip::encode(usbip::RetUnlink{9, usbip::kEconnreset})) ==
        to_hex(concat(hex("00000004" "00000009" "00000000" "00000000" "00000000" "ffffff98"), zeros(24))));

  usbip::RetSubmit in;
  in.seqnum = 13;
  in.data = hex("1201");
  CHECK(to_hex(usbip::encode(in)) ==
        to_hex(concat(hex("00000003" "0000000d" "00000000" "00000000" "00000000"  // basic (zeroed)
                          "00000000" "00000002" "00000000" "00000000" "00000000"),  // status len frame np err
                      zeros(8), hex("1201"))));

  usbip::RetSubmit out;
  out.seqnum = 5;
  out.actual_length = 64;  // OUT: the length taken, and no data
  CHECK(usbip::encode(out).size() == 48);
  CHECK(to_hex(ByteView(usbip::encode(out)).subspan(20, 8)) == "0000000000000040");

  usbip::RetSubmit stall;
  stall.seqnum = 1;
  stall.status = usbip::kEpipe;
  CHECK(to_hex(ByteView(usbip::encode(stall)).subspan(20, 4)) == "ffffffe0");
}

TEST_CASE("URB replies parse back, with data only for IN URBs") {
  usbip::RetSubmit in;
  in.seqnum = 3;
  in.data = Bytes(64, 0x5a);
  usbip::RetSubmit out;
  out.seqnum = 4;
  out.actual_length = 64;
  const Bytes stream = concat(usbip::encode(in), usbip::encode(out), usbip::encode(usbip::RetUnlink{5, 0}));
  auto is_in = [](uint32_t seqnum) { return seqnum == 3; };

  auto a = usbip::parse_urb_reply(stream, is_in);
  REQUIRE(a.status == ParseStatus::kDone);
  CHECK(a.consumed == 48 + 64);
  CHECK(a.message.data == in.data);
  auto b = usbip::parse_urb_reply(ByteView(stream).subspan(a.consumed), is_in);
  REQUIRE(b.status == ParseStatus::kDone);
  CHECK(b.consumed == 48);
  CHECK(b.message.actual_length == 64);
  CHECK(b.message.data.empty());
  auto c = usbip::parse_urb_reply(ByteView(stream).subspan(a.consumed + b.consumed), is_in);
  REQUIRE(c.status == ParseStatus::kDone);
  CHECK(c.message.basic.command == usbip::kRetUnlink);
  CHECK(usbip::parse_urb_reply(ByteView(stream).first(60), is_in).status == ParseStatus::kNeedMore);
}

// Builds a CMD_SUBMIT header with chosen fields for the hostile cases.
Bytes submit_header(uint32_t command, uint32_t direction, uint32_t ep, uint32_t length, uint32_t packets) {
  Bytes h;
  put_u32_be(h, command);
  put_u32_be(h, 1);
  put_u32_be(h, 0x00010001);
  put_u32_be(h, direction);
  put_u32_be(h, ep);
  put_u32_be(h, 0);
  put_u32_be(h, length);
  put_u32_be(h, 0);
  put_u32_be(h, packets);
  put_u32_be(h, 0);
  h.resize(48, 0);
  return h;
}

TEST_CASE("hostile URB headers are rejected from the header alone, before any data is buffered") {
  auto status = [](const Bytes& b) { return usbip::parse_urb_command(b).status; };
  // Transfer buffers: 64 KiB is the limit, for OUT (buffered) and IN alike.
  CHECK(status(submit_header(1, 0, 1, 64 * 1024 + 1, 0)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 0, 1, 0xffffffff, 0)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 0, 1, 0x80000000, 0)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 1, 1, 0x7fffffff, 0)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 0, 1, 64 * 1024, 0)) == ParseStatus::kNeedMore);  // legal: waits for data
  CHECK(status(submit_header(1, 1, 1, 64 * 1024, 0)) == ParseStatus::kDone);
  // Isochronous packets: only 0 and 0xffffffff mean "none".
  CHECK(status(submit_header(1, 1, 1, 64, 1)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 1, 1, 64, 1024)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 1, 1, 64, 0xfffffffe)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 1, 1, 64, 0xffffffff)) == ParseStatus::kDone);
  // Directions, endpoints, commands.
  CHECK(status(submit_header(1, 2, 1, 0, 0)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 1, 16, 0, 0)) == ParseStatus::kError);
  CHECK(status(submit_header(1, 1, 15, 0, 0)) == ParseStatus::kDone);
  for (uint32_t command : {0u, 3u, 4u, 5u, 0x01118005u}) {
    CHECK(status(submit_header(command, 1, 1, 0, 0)) == ParseStatus::kError);
  }
  // Replies: an absurd actual_length is refused too.
  Bytes ret = submit_header(3, 0, 0, 0, 0);
  put_u32_be(ret, 0);
  ret[24] = 0x7f;  // actual_length 0x7f000000
  CHECK(usbip::parse_urb_reply(ret, [](uint32_t) { return true; }).status == ParseStatus::kError);
}

// ------------------------------------------------------------------ descriptors

TEST_CASE("device descriptor: 18 bytes, USB 2.00, EP0 64 bytes, IDs and string indexes") {
  HidDeviceInfo info;
  info.vendor_id = 0x1209;
  info.product_id = 0x7a01;
  info.version = 0x0123;
  CHECK(to_hex(usb::device_descriptor(info)) ==
        "12"    // bLength
        "01"    // DEVICE
        "0002"  // bcdUSB 2.00
        "000000"
        "40"    // bMaxPacketSize0
        "0912" "017a" "2301"
        "010203"  // iManufacturer iProduct iSerialNumber
        "01");
}

TEST_CASE("configuration descriptor: wTotalLength covers config, interface, HID and both endpoints") {
  const Bytes c = usb::configuration_descriptor();
  REQUIRE(c.size() == 41);
  CHECK(to_hex(c) ==
        "09022900" "0101" "00" "80" "32"          // config: 41 bytes, 1 interface, value 1, bus powered, 100 mA
        "090400000203000000"                      // interface 0, 2 endpoints, HID, no boot protocol
        "092111010001222200"                      // HID 1.11, one report descriptor of 34 bytes
        "0705810340000" "5"                       // interrupt IN 0x81, 64 bytes, 5 ms
        "07050103400005");                        // interrupt OUT 0x01
  // Walking by bLength lands exactly on the end.
  size_t offset = 0;
  int descriptors = 0;
  while (offset < c.size()) {
    REQUIRE(c[offset] > 0);
    offset += c[offset];
    ++descriptors;
  }
  CHECK(offset == c.size());
  CHECK(descriptors == 5);
  CHECK((c[2] | (c[3] << 8)) == static_cast<int>(c.size()));
  // The HID descriptor inside is the one served on its own, and announces the report descriptor's size.
  const Bytes hid = usb::hid_descriptor();
  CHECK(Bytes(c.begin() + 18, c.begin() + 27) == hid);
  CHECK((hid[7] | (hid[8] << 8)) == static_cast<int>(kFidoReportDescriptor.size()));
}

TEST_CASE("string descriptors: language table and UTF-16LE text") {
  HidDeviceInfo info;
  info.manufacturer = "vauth";
  info.name = "Key é";
  info.serial = "0001";
  CHECK(to_hex(*usb::string_descriptor(0, info)) == "04030904");
  CHECK(to_hex(*usb::string_descriptor(1, info)) == "0c03" "76006100750074006800");
  CHECK(to_hex(*usb::string_descriptor(2, info)) == "0c03" "4b0065007900" "2000" "e900");
  CHECK(to_hex(*usb::string_descriptor(3, info)) == "0a03" "3000300030003100");
  CHECK_FALSE(usb::string_descriptor(4, info));
  CHECK_FALSE(usb::string_descriptor(0xee, info));
}

TEST_CASE("string descriptors: surrogate pairs, invalid UTF-8, and the 255-byte limit") {
  CHECK(to_hex(usb::utf16_string_descriptor("\xf0\x9f\x94\x91")) == "06033dd811dd");  // U+1F511 KEY
  CHECK(to_hex(usb::utf16_string_descriptor("a\xff" "b")) == "080361" "00fdff6200");
  CHECK(to_hex(usb::utf16_string_descriptor("\xc0\x80")) == "0403fdff");        // overlong NUL
  CHECK(to_hex(usb::utf16_string_descriptor("\xed\xa0\x80")) == "0403fdff");    // a UTF-8 surrogate
  CHECK(to_hex(usb::utf16_string_descriptor("\xe2\x82")) == "0403fdff");        // truncated
  CHECK(to_hex(usb::utf16_string_descriptor("")) == "0203");

  const Bytes ascii = usb::utf16_string_descriptor(std::string(300, 'x'));
  CHECK(ascii.size() == 254);
  CHECK(ascii[0] == 254);
  // 64 surrogate pairs would need 258 bytes: 63 fit (254 bytes), and the
  // 255th byte is not used for half a pair.
  std::string keys;
  for (int i = 0; i < 64; ++i) keys += "\xf0\x9f\x94\x91";
  const Bytes pairs = usb::utf16_string_descriptor(keys);
  CHECK(pairs.size() == 2 + 63 * 4);
  CHECK(pairs[0] == pairs.size());
}

}  // namespace
}  // namespace vauth::transport
