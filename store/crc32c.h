// CRC-32C (Castagnoli), the checksum of journal records. A checksum against torn
// and flipped bytes, not against an adversary (sealing at rest covers that).
// Written here because OpenSSL has no CRC and zlib is not otherwise linked.
#pragma once

#include <cstdint>

#include "vauth/base/bytes.h"

namespace vauth::store {

// crc32c(b, crc32c(a)) == crc32c(a ‖ b); start with 0.
uint32_t crc32c(ByteView data, uint32_t crc = 0);

}  // namespace vauth::store
