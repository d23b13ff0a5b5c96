// One virtual FIDO HID device as a backend (uhid, usbip, ...) sees it: 64-byte
// output reports go in, 64-byte input reports come out. Backends move reports
// and nothing else; the CTAPHID engine behind the endpoint does the rest.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "transports/ctaphid.h"

namespace vauth::transport {

struct HidDeviceInfo {
  std::string name = "vauth virtual FIDO2 key";   // HID name / USB product string
  std::string manufacturer = "vauth";
  std::string serial = "0000000001";
  uint16_t vendor_id = 0x1209;   // pid.codes open-source vendor ID
  uint16_t product_id = 0x7a01;  // in the pid.codes test range; configurable
  uint16_t version = 0x0100;
};

class HidEndpoint {
 public:
  using InputSink = std::function<void(const Report&)>;
  virtual ~HidEndpoint() = default;
  virtual const HidDeviceInfo& info() const = 0;
  // Host → device (an output report, report ID stripped).
  virtual void on_output_report(ByteView report) = 0;
  // Where device → host reports go while a host is attached; an empty sink
  // detaches (reports produced meanwhile are dropped, as on a real unplugged key).
  virtual void set_input_sink(InputSink sink) = 0;
  // The host went away (device closed/unplugged): abort transactions, forget channels.
  virtual void on_host_reset() = 0;
};

}  // namespace vauth::transport
