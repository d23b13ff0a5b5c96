// How makeCredential and getAssertion use built-in user verification (internal
// to vauth/ctap; the sensor reading itself is Session::verify_user).
#pragma once

#include "vauth/ctap/session.h"

namespace vauth::ctap {

// CTAP 2.1 §6.1.2 steps 5-6 and §6.2.2 steps 4-5, for a request without a
// pinUvAuthParam: "uv": true asks for built-in UV, which must be configured
// (else INVALID_OPTION); alwaysUv turns a request without "uv" into one with it
// when a finger is enrolled, and otherwise demands a pinUvAuthToken
// (PUAT_REQUIRED). `built_in` says whether to read the sensor.
Status plan_built_in_uv(const Session& s, bool uv_option, bool& built_in);

// makeCredUvNotRqd as getInfo reports it: never while alwaysUv is on.
bool make_cred_uv_not_required(const Session& s);

}  // namespace vauth::ctap
