#include "vauth/daemon/upstreams.h"

#include <stdexcept>

#include "transports/libusb_upstream.h"
#include "transports/seqpacket_upstream.h"
#include "transports/udp_upstream.h"
#include "vauth/daemon/replay_upstream.h"

namespace vauth::daemon {

std::unique_ptr<transport::Upstream> make_upstream(boost::asio::io_context& io, const transport::UpstreamSpec& spec) {
  using Kind = transport::UpstreamSpec::Kind;
  switch (spec.kind) {
    case Kind::Udp: return transport::make_udp_upstream(io, spec);
    case Kind::Seqpacket: return transport::make_seqpacket_upstream(io, spec);
    case Kind::Replay: return make_replay_upstream(io, spec.path, load_recorded_session(spec.path));
    case Kind::Usb: return transport::make_libusb_upstream(io, spec);
  }
  throw std::logic_error("unknown upstream kind");
}

}  // namespace vauth::daemon
