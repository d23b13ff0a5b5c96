#include "vauth/ctap/pin_policy.h"

#include <algorithm>

#include "vauth/crypto/primitives.h"

namespace vauth::ctap {

bool pin_meets_policy(ByteView pin, size_t min_code_points) {
  constexpr size_t kMaxPinBytes = 63;
  if (pin.size() > kMaxPinBytes || std::find(pin.begin(), pin.end(), uint8_t{0}) != pin.end()) return false;
  // Count code points as UTF-8 lead bytes (continuation bytes are 10xxxxxx).
  const size_t code_points = static_cast<size_t>(
      std::count_if(pin.begin(), pin.end(), [](uint8_t b) { return (b & 0xc0) != 0x80; }));
  return code_points >= min_code_points;
}

bool pin_meets_complexity_policy(ByteView pin) {
  if (pin.size() < 2) return true;  // minPINLength, not this policy, judges a PIN that short
  auto all_steps = [&pin](int step) {
    for (size_t i = 1; i < pin.size(); ++i) {
      if (static_cast<int>(pin[i]) - static_cast<int>(pin[i - 1]) != step) return false;
    }
    return true;
  };
  return !all_steps(0) && !all_steps(1) && !all_steps(-1);
}

crypto::SecretBytes pin_hash(ByteView pin) {
  crypto::SecretBytes h = crypto::sha256(pin);
  h.resize(16);  // the dropped half stays in h's block, which is wiped when freed
  return h;
}

}  // namespace vauth::ctap
