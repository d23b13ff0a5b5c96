// A physical FIDO key as the upstream of a proxy (vauthd --proxy
// usb:VID:PID[:SERIAL]), through libusb-1.0. start() finds the key
// (usb_selection.h), checks that its HID report descriptor declares the FIDO
// usage page 0xF1D0, detaches the kernel's HID driver from the interface and
// claims it; reports travel in asynchronous interrupt transfers whose events
// libusb hands to the daemon's Asio loop through its pollfds (no thread, no
// transfer blocks the loop). Destroying the upstream releases the interface,
// which gives it back to the kernel driver.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "transports/upstream.h"
#include "transports/upstream_spec.h"

namespace vauth::transport {

std::unique_ptr<Upstream> make_libusb_upstream(boost::asio::io_context& io, const UpstreamSpec& spec);

}  // namespace vauth::transport
