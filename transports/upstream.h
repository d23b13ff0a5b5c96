// The far side of a proxy: something that answers 64-byte CTAPHID reports —
// a physical key (libusb), a simulator or another vauthd on UDP or SEQPACKET,
// or a recorded trace. The proxy (vauth/daemon/proxy_link.h) sends the host's
// reports up unchanged and gets the key's reports back through `on_report`,
// always from the daemon's event loop (no threads).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "transports/ctaphid.h"
#include "transports/hid_endpoint.h"

namespace vauth::transport {

class Upstream {
 public:
  using OnReport = std::function<void(const Report&)>;
  // The upstream failed for good (the key was unplugged, the socket closed): a sentence for the log.
  using OnFailure = std::function<void(const std::string&)>;

  virtual ~Upstream() = default;
  // "udp 127.0.0.1:8111", "usb 1050:0407 serial ...": where the reports go, for logs and readiness lines.
  virtual std::string describe() const = 0;
  // Opens the upstream and starts delivering its reports. Throws std::runtime_error
  // with a sentence that says what is wrong (absent, busy, not a FIDO device, ...).
  virtual void start(OnReport on_report, OnFailure on_failure) = 0;
  // What the upstream says it is (USB IDs, product, serial), when it is a USB device.
  virtual std::optional<HidDeviceInfo> identity() const { return std::nullopt; }
  // One host report, passed on as is. Silently dropped before start() or after a failure.
  virtual void send(const Report& report) = 0;
};

}  // namespace vauth::transport
