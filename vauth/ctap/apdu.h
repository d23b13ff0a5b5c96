// ISO 7816-4 command APDUs as U2F uses them (FIDO U2F Raw Message Formats §3):
// short (Lc 1 byte) and extended (0x00 Lc1 Lc2) encodings, optional Le.
#pragma once

#include <cstdint>
#include <optional>

#include "vauth/base/bytes.h"

namespace vauth::ctap {

struct Apdu {
  uint8_t cla = 0, ins = 0, p1 = 0, p2 = 0;
  Bytes data;
};

// nullopt when the lengths do not add up (the caller answers SW_WRONG_LENGTH).
std::optional<Apdu> parse_apdu(ByteView raw);

// Status words.
namespace sw {
constexpr uint16_t kNoError = 0x9000, kConditionsNotSatisfied = 0x6985, kWrongData = 0x6a80,
                   kWrongLength = 0x6700, kClaNotSupported = 0x6e00, kInsNotSupported = 0x6d00,
                   kIncorrectP1P2 = 0x6a86;
}

}  // namespace vauth::ctap
