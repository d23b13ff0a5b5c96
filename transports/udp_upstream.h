// An upstream on UDP in the SoloKeys/CanoKey simulator convention (the one
// vauthd --transport udp serves): each host report is one datagram to
// HOST:PORT; the key's reports arrive as datagrams on LISTEN_PORT.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "transports/upstream.h"
#include "transports/upstream_spec.h"

namespace vauth::transport {

std::unique_ptr<Upstream> make_udp_upstream(boost::asio::io_context& io, const UpstreamSpec& spec);

}  // namespace vauth::transport
