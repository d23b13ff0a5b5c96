#include "vauth/ctap/apdu.h"

namespace vauth::ctap {

std::optional<Apdu> parse_apdu(ByteView raw) {
  if (raw.size() < 4) return std::nullopt;
  Apdu a{raw[0], raw[1], raw[2], raw[3], {}};
  ByteView body = raw.subspan(4);
  if (body.empty()) return a;  // case 1: no data, no Le

  if (body[0] == 0 && body.size() >= 3) {
    // Extended length: 00 Lc1 Lc2 data [Le1 Le2], or 00 Le1 Le2 with no data.
    const size_t lc = get_u16_be(body.data() + 1);
    if (body.size() == 3) return a;  // case 2E: Le only
    ByteView rest = body.subspan(3);
    if (lc == 0 || rest.size() < lc) return std::nullopt;
    const size_t trailing = rest.size() - lc;
    if (trailing != 0 && trailing != 2) return std::nullopt;
    a.data.assign(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(lc));
    return a;
  }
  // Short length: Lc data [Le], or Le alone.
  if (body.size() == 1) return a;  // case 2S: Le only
  const size_t lc = body[0];
  ByteView rest = body.subspan(1);
  if (lc == 0 || rest.size() < lc) return std::nullopt;
  const size_t trailing = rest.size() - lc;
  if (trailing != 0 && trailing != 1) return std::nullopt;
  a.data.assign(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(lc));
  return a;
}

}  // namespace vauth::ctap
