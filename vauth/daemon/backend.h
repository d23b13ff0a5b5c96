// The seam between vauthd's devices and the routes that show them to a host
// (UHID, USB/IP, UDP, ...). A backend plugs one VirtualDevice in (the host
// sees a new key) and unplugs it (the key disappears; the device and its state
// stay), any number of times. Adding a route is one small class: implement
// these three calls over the transport and add a case to make_backend().
#pragma once

#include <stdexcept>
#include <string>

#include "vauth/daemon/virtual_device.h"

namespace vauth::daemon {

// Where a device went when it was plugged in.
struct Plugged {
  DeviceLocation location;  // for the control API (transport, where, detail)
  std::string readiness;    // the rest of its "vauthd: ready: device N ..." line, for humans and scripts
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "uhid", "usbip", "udp": the name the control API and readiness lines use.
  virtual std::string name() const = 0;
  // Makes `d` visible to the host. Throws (std::runtime_error and subclasses,
  // naming what to do) if the host cannot be reached; `d` is then not plugged.
  virtual Plugged plug(VirtualDevice& d) = 0;
  // The host loses `d`: a transaction in progress is aborted and its session
  // (if any) closed. `d` may be plugged again later. Idempotent.
  virtual void unplug(VirtualDevice& d) = 0;
  // `d` is going away for good (after unplug()): drop anything kept for it.
  virtual void forget(VirtualDevice& d) = 0;
};

// Thrown by a backend that cannot work on this machine at all (e.g. no
// /dev/uhid), so `--transport auto` may fall back to another one.
class BackendUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace vauth::daemon
