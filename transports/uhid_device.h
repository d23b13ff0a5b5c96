// A virtual FIDO HID device created through the kernel's UHID interface
// (Linux Documentation/hid/uhid.rst): the kernel makes a /dev/hidrawN node that
// browsers, libfido2 and ssh open like any USB security key.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>

#include "transports/hid_endpoint.h"

namespace vauth::transport {

// Raised when /dev/uhid cannot be used; what() says what to do about it
// (e.g. "modprobe uhid", or which permission is missing).
class UhidError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class UhidDevice {
 public:
  UhidDevice(boost::asio::io_context& io, HidEndpoint& endpoint, std::string uhid_path = "/dev/uhid");
  ~UhidDevice();  // destroys the kernel device
  UhidDevice(const UhidDevice&) = delete;
  UhidDevice& operator=(const UhidDevice&) = delete;

  // Opens uhid_path and creates the device (UHID_CREATE2). Throws UhidError.
  void start();
  // UHID_DESTROY; idempotent.
  void stop();
  // True between UHID_OPEN and UHID_CLOSE (some program has the hidraw node open).
  bool opened_by_host() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vauth::transport
