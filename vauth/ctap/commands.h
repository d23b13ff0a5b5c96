// One entry point per authenticator command; each lives in its own file.
#pragma once

#include "vauth/cbor/value.h"
#include "vauth/ctap/credential_management.h"
#include "vauth/ctap/session.h"

namespace vauth::ctap {

void make_credential(Session& s, const cbor::Value::Map& params, Done done);   // make_credential.cpp
void get_assertion(Session& s, const cbor::Value::Map& params, Done done);     // get_assertion.cpp
void get_next_assertion(Session& s, Done done);                                // get_assertion.cpp
Response get_info(const Session& s);                                           // get_info.cpp
Response client_pin(Session& s, const cbor::Value::Map& params);               // client_pin.cpp
// The same, and also getPinUvAuthTokenUsingUvWithPermissions, which waits for the sensor.
void client_pin(Session& s, const cbor::Value::Map& params, Done done);        // client_pin.cpp
void bio_enrollment(Session& s, const cbor::Value::Map& params, Done done);    // bio_enrollment.cpp
Response authenticator_config(Session& s, const cbor::Value::Map& params);     // config.cpp
Response large_blobs(Session& s, const cbor::Value::Map& params);              // large_blobs.cpp
void reset(Session& s, Done done);                                             // reset.cpp
void selection(Session& s, Done done);                                         // selection.cpp
// CTAP1/U2F: an APDU in, response data || SW1 SW2 out.                        // u2f.cpp
Bytes u2f(Session& s, ByteView apdu);

}  // namespace vauth::ctap
