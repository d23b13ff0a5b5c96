// A USB/IP server (Linux Documentation/usb/usbip_protocol.rst) that exports
// virtual FIDO HID devices: `usbip attach -r 127.0.0.1 -b 1-1` on a kernel
// with vhci-hcd makes each one a real USB security key. USB/IP has no
// authentication, so the server listens on loopback unless told otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "transports/hid_endpoint.h"

namespace vauth::transport {

struct UsbipOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 3240;  // 0 picks a free port (tests)
};

class UsbipServer {
 public:
  UsbipServer(boost::asio::io_context& io, UsbipOptions options);
  ~UsbipServer();
  UsbipServer(const UsbipServer&) = delete;
  UsbipServer& operator=(const UsbipServer&) = delete;

  // Exports a device under bus ID "1-<n>", n = 1, 2, ... in the order of export.
  // The endpoint must outlive the server.
  void export_device(HidEndpoint& endpoint);
  // Exports it as bus ID "1-<number>" (throws std::invalid_argument if in use); returns the bus ID.
  std::string export_device(HidEndpoint& endpoint, uint32_t number);
  // The device leaves the devlist; a session that imported it is closed (the
  // host sees the device disconnect). Idempotent. The endpoint may then go away.
  void unexport_device(HidEndpoint& endpoint);
  // Binds and listens. Throws std::system_error (with the address in the message) on failure.
  void start();
  uint16_t port() const;
  std::string busid(size_t index) const;
  // Connections being served (tests: a closed session is gone).
  size_t connection_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vauth::transport
