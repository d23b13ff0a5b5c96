// HID report descriptor item walk (transports/hid_usage): any bytes, as a
// hostile or broken device could hand the kernel, must parse without reading
// past the end.
#include <cstddef>
#include <cstdint>

#include "transports/hid_usage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto pages = vauth::transport::usage_pages(vauth::ByteView(data, size));
  // Each page item is at least 1 byte: never more items than bytes.
  if (pages.size() > size) __builtin_trap();
  (void)vauth::transport::declares_fido_usage_page(vauth::ByteView(data, size));
  return 0;
}
