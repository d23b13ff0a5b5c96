// An upstream on a Unix SEQPACKET socket, one 64-byte report per packet: the
// socket another vauthd offers each key on (--transport seqpacket), or any
// local bridge speaking the same convention.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "transports/upstream.h"
#include "transports/upstream_spec.h"

namespace vauth::transport {

std::unique_ptr<Upstream> make_seqpacket_upstream(boost::asio::io_context& io, const UpstreamSpec& spec);

}  // namespace vauth::transport
