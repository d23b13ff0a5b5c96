// Persona capture (vauthd --capture-persona FILE --proxy SPEC): ask a real
// key (or any upstream) for its getInfo and write it as a persona file in the
// format personas.h reads, so `vauthd --config FILE --persona NAME` emulates
// that key model without the key.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>

#include "transports/upstream.h"
#include "vauth/base/bytes.h"
#include "vauth/base/clock.h"
#include "vauth/base/expected.h"

namespace vauth::daemon {

struct CaptureIdentity {
  std::string source;      // where the getInfo came from, for the file's comment
  std::string product;     // USB product string, if known ("" otherwise)
  uint16_t vendor_id = 0;  // USB IDs, if known (0 otherwise)
  uint16_t product_id = 0;
};

// The persona file for a getInfo response (status byte + CBOR map). Fields
// vauth cannot emulate are left out and listed in a comment. Errors say why
// the response is not a usable getInfo.
Expected<std::string, std::string> persona_from_get_info(ByteView response, const std::string& name,
                                                         const CaptureIdentity& identity);

// Sends CTAPHID_INIT and authenticatorGetInfo to `upstream` (started here) and
// returns the getInfo response, running `io` until it comes. Throws
// std::runtime_error when the key does not answer within `timeout` or answers an error.
Bytes fetch_get_info(boost::asio::io_context& io, transport::Upstream& upstream, Duration timeout);

}  // namespace vauth::daemon
