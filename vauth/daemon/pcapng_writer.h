// A pcapng file of the USB traffic of vauthd's keys, in the Linux usbmon
// format (LINKTYPE_USB_LINUX_MMAPPED, 220) that Wireshark reads natively.
// Each key is a device on bus 1 (address = its index). When a key is added,
// the file gets the GET_DESCRIPTOR exchanges a host would have seen (device,
// configuration, HID report descriptor), so Wireshark knows the interrupt
// endpoints belong to a HID interface and dissects them as USB HID; then each
// 64-byte report is an interrupt URB submit + complete pair.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "transports/hid_endpoint.h"
#include "vauth/base/bytes.h"

namespace vauth::daemon {

class PcapngWriter {
 public:
  explicit PcapngWriter(const std::string& path);  // creates (0600) or truncates; throws on failure

  // The enumeration a host performs: GET_DESCRIPTOR device, configuration, HID report.
  void add_device(uint8_t address, const transport::HidDeviceInfo& info);
  // One report on the interrupt OUT (host → device) or IN endpoint.
  void report(uint8_t address, bool host_to_device, ByteView report);

 private:
  struct Urb;
  void control_in(uint8_t address, const std::array<uint8_t, 8>& setup, ByteView answer);
  void write_packet(const Bytes& packet);
  void write_block(uint32_t type, const Bytes& body);

  std::ofstream out_;
  uint64_t next_urb_id_ = 1;
};

}  // namespace vauth::daemon
