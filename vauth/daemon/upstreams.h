// Opens the upstream a --proxy spec names: a physical key (libusb), a UDP or
// SEQPACKET peer, or a recorded trace to replay.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "transports/upstream.h"
#include "transports/upstream_spec.h"

namespace vauth::daemon {

// Not started yet (Upstream::start opens it). Throws std::runtime_error for a
// replay trace that cannot be read.
std::unique_ptr<transport::Upstream> make_upstream(boost::asio::io_context& io, const transport::UpstreamSpec& spec);

}  // namespace vauth::daemon
