// Reading a HID report descriptor (HID 1.11 §6.2.2) for what FIDO clients look
// at: the usage pages it declares. libfido2 and browsers treat a hidraw node as
// a security key when its descriptor declares usage page 0xF1D0.
#pragma once

#include <cstdint>
#include <vector>

#include "vauth/base/bytes.h"

namespace vauth::transport {

inline constexpr uint16_t kFidoUsagePage = 0xF1D0;

// Every Usage Page item's value, in order. Long items are skipped; parsing
// stops at an item that runs past the end (what came before still counts).
std::vector<uint32_t> usage_pages(ByteView descriptor);

bool declares_fido_usage_page(ByteView descriptor);

}  // namespace vauth::transport
