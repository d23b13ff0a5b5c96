// Fuzzes the strict CTAP2 CBOR decoder. Besides memory safety (ASan/UBSan),
// it checks the property the decoder promises: only canonical encodings are
// accepted, so every accepted input must be reproduced byte for byte by
// encode(), and decoding that encoding must give back the same Value.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "vauth/cbor/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vauth::cbor;
  const vauth::ByteView input(data, size);
  auto decoded = decode(input);
  if (!decoded) return 0;

  const vauth::Bytes encoded = encode(*decoded);
  if (encoded.size() != size || !std::equal(encoded.begin(), encoded.end(), data)) __builtin_trap();

  auto again = decode(encoded);
  if (!again || *again != *decoded) __builtin_trap();

  // Exercise the diagnostic printer too (it must cope with every decodable value).
  if (diagnostic(*decoded).empty()) __builtin_trap();
  return 0;
}
