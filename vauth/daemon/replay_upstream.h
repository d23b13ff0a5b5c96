// `vauthd --replay TRACE` (= --proxy replay:TRACE): an upstream that answers
// from a recorded session instead of a key, for deterministic client
// regression tests. Each whole message the host sends must be the next one of
// the recording; it is answered with what the key answered then:
//   - INIT: the recorded answer with the host's new nonce (clients check it)
//     and the recorded channel, so the rest of the session uses the same CIDs;
//   - any channel the host uses is answered on that channel (CIDs remapped);
//   - a message that differs from the recording (or comes after its end) is
//     logged with what was expected and answered CTAPHID_ERROR ERR_OTHER; the
//     recording does not advance, so the session can go on once the client
//     sends what was recorded.
// Keepalives are not replayed; answers come at once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "transports/upstream.h"
#include "vauth/daemon/replay_trace.h"

namespace vauth::daemon {

// Reads and parses `path`; throws std::runtime_error naming the file and line on failure.
RecordedSession load_recorded_session(const std::string& path);

std::unique_ptr<transport::Upstream> make_replay_upstream(boost::asio::io_context& io, std::string path,
                                                          RecordedSession session);

}  // namespace vauth::daemon
