#include "transports/hid_usage.h"

#include <algorithm>

namespace vauth::transport {
namespace {

constexpr uint8_t kLongItem = 0xFE;
constexpr uint8_t kTypeGlobal = 1;
constexpr uint8_t kTagUsagePage = 0;

}  // namespace

std::vector<uint32_t> usage_pages(ByteView d) {
  std::vector<uint32_t> pages;
  size_t i = 0;
  while (i < d.size()) {
    const uint8_t prefix = d[i];
    if (prefix == kLongItem) {
      // bDataSize, bLongItemTag, then the data.
      if (i + 2 >= d.size()) break;
      i += 3 + size_t{d[i + 1]};
      continue;
    }
    const size_t size = (prefix & 3) == 3 ? 4 : (prefix & 3);
    if (i + 1 + size > d.size()) break;
    const uint8_t type = (prefix >> 2) & 3;
    const uint8_t tag = prefix >> 4;
    if (type == kTypeGlobal && tag == kTagUsagePage) {
      uint32_t value = 0;
      for (size_t b = 0; b < size; ++b) value |= uint32_t{d[i + 1 + b]} << (8 * b);  // little-endian
      pages.push_back(value);
    }
    i += 1 + size;
  }
  return pages;
}

bool declares_fido_usage_page(ByteView descriptor) {
  const auto pages = usage_pages(descriptor);
  return std::find(pages.begin(), pages.end(), kFidoUsagePage) != pages.end();
}

}  // namespace vauth::transport
