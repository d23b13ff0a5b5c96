// The backends vauthd can plug its devices into (see backend.h), one file each.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "transports/udp_endpoint.h"
#include "transports/usbip_server.h"
#include "vauth/daemon/backend.h"

namespace vauth::daemon {

// A kernel HID device per key through /dev/uhid (uhid_backend.cpp). plug()
// throws BackendUnavailable when uhid_path cannot be used.
std::unique_ptr<Backend> make_uhid_backend(boost::asio::io_context& io, std::string uhid_path);

// One USB/IP server for every key, bus ID "1-<device index>" (usbip_backend.cpp).
// Listens at once; throws std::system_error if it cannot.
std::unique_ptr<Backend> make_usbip_backend(boost::asio::io_context& io, transport::UsbipOptions options);

// A UDP endpoint per key, device i on both ports + i - 1 (udp_backend.cpp).
std::unique_ptr<Backend> make_udp_backend(boost::asio::io_context& io, transport::UdpOptions options);

// A SEQPACKET socket per key at DIR/device-<index>.sock (seqpacket_backend.cpp).
std::unique_ptr<Backend> make_seqpacket_backend(boost::asio::io_context& io, std::string dir);

}  // namespace vauth::daemon
