// Usage pages read from HID report descriptors (HID 1.11 §6.2.2), as doctor
// uses them to find FIDO hidraw nodes.
#include "transports/hid_usage.h"

#include <doctest/doctest.h>

#include "transports/hid_descriptor.h"

namespace vauth::transport {

TEST_CASE("hid usage: our FIDO descriptor declares page 0xF1D0") {
  CHECK(usage_pages(kFidoReportDescriptor) == std::vector<uint32_t>{0xF1D0});
  CHECK(declares_fido_usage_page(kFidoReportDescriptor));
}

TEST_CASE("hid usage: a boot keyboard is not a FIDO device") {
  // The HID 1.11 Appendix E.6 keyboard (start): Generic Desktop, Keyboard, Key Codes, LEDs.
  const Bytes keyboard = *from_hex("05010906a101050719e029e71500250175019508810295017508810305089505190129059102c0");
  CHECK(usage_pages(keyboard) == std::vector<uint32_t>{0x01, 0x07, 0x08});
  CHECK_FALSE(declares_fido_usage_page(keyboard));
}

TEST_CASE("hid usage: sizes 1, 2 and 4, long items, and a FIDO collection after another") {
  // Usage Page 0x0C (1 byte), a long item (tag 0x10, 3 data bytes) to skip, Usage Page 0xF1D0 in 4 bytes.
  const Bytes d = *from_hex(
      "050c"
      "fe031011223344"
      "07d0f10000");
  CHECK(usage_pages(d) == std::vector<uint32_t>{0x0C, 0xF1D0});
  CHECK(declares_fido_usage_page(d));
}

TEST_CASE("hid usage: truncated or empty descriptors give what was complete, never more") {
  CHECK(usage_pages({}).empty());
  CHECK(usage_pages(*from_hex("06d0")).empty());  // the value runs past the end
  CHECK_FALSE(declares_fido_usage_page(*from_hex("06d0")));
  CHECK(usage_pages(*from_hex("0501"
                              "fe"))
            .size() == 1);  // a long item cut short
  CHECK(usage_pages(*from_hex("0501"
                              "fe20"))
            .size() == 1);
  CHECK(usage_pages(*from_hex("0501"
                              "fe0510"))
            .size() == 1);  // its data missing
  // 0x09 0xD0 0xF1 is a *Usage* (local item) of that value, not a usage page.
  CHECK_FALSE(declares_fido_usage_page(*from_hex("09d0f1")));
}

}  // namespace vauth::transport
