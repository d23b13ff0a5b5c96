// Reshapes a getInfo response to what the profile's persona advertises
// (versions, extensions, options of disabled commands, PIN protocols,
// transports, firmware version). get_info.cpp builds what vauth implements;
// this narrows it, so the two stay independent as getInfo grows.
#pragma once

#include "vauth/cbor/value.h"
#include "vauth/ctap/profile.h"

namespace vauth::ctap {

void shape_info_for_profile(const Profile& profile, cbor::Value::Map& info);

}  // namespace vauth::ctap
