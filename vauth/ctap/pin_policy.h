// What a PIN may be and how it is kept: one definition for clientPIN and for
// anything that sets a PIN from outside (vauthd --pin, the control API).
#pragma once

#include <string_view>

#include "vauth/base/bytes.h"
#include "vauth/crypto/secret_bytes.h"
#include "vauth/ctap/profile.h"

namespace vauth::ctap {

// CTAP 2.1 §6.5.1: at least minPINLength Unicode code points, at most 63 bytes
// of UTF-8; a NUL byte cannot be part of a PIN (it ends the padded PIN).
bool pin_meets_policy(ByteView pin, size_t min_code_points);
inline bool pin_meets_policy(ByteView pin, const Profile& profile) { return pin_meets_policy(pin, profile.min_pin_length); }
inline bool pin_meets_policy(std::string_view pin, const Profile& profile) {
  return pin_meets_policy(ByteView(reinterpret_cast<const uint8_t*>(pin.data()), pin.size()), profile);
}

// vauth's PIN complexity policy (CTAP 2.2 pinComplexityPolicy; the spec leaves
// the rules to each authenticator, which may describe them at
// pinComplexityPolicyURL). A PIN fails it when it is one byte repeated ("0000")
// or a run of consecutive bytes going up or down ("1234", "4321", "abcd"):
// the PINs every blocklist starts with. Bytes, not code points, so it judges
// ASCII characters; a PIN with other characters is rarely such a run anyway.
bool pin_meets_complexity_policy(ByteView pin);

// What the store keeps of a PIN: LEFT(SHA-256(PIN), 16).
crypto::SecretBytes pin_hash(ByteView pin);
inline crypto::SecretBytes pin_hash(std::string_view pin) {
  return pin_hash(ByteView(reinterpret_cast<const uint8_t*>(pin.data()), pin.size()));
}

}  // namespace vauth::ctap
