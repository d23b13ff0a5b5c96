// The FIDO HID report descriptor (CTAP 2.1 §11.2.8.1): usage page 0xF1D0,
// usage CTAPHID (0x01), one 64-byte input and one 64-byte output report, no
// report IDs. Clients (libfido2, browsers) recognise FIDO devices by this page.
#pragma once

#include <array>
#include <cstdint>

namespace vauth::transport {

inline constexpr std::array<uint8_t, 34> kFidoReportDescriptor = {
    0x06, 0xd0, 0xf1,  // Usage Page (FIDO Alliance, 0xF1D0)
    0x09, 0x01,        // Usage (CTAPHID)
    0xa1, 0x01,        // Collection (Application)
    0x09, 0x20,        //   Usage (Input Report Data)
    0x15, 0x00,        //   Logical Minimum (0)
    0x26, 0xff, 0x00,  //   Logical Maximum (255)
    0x75, 0x08,        //   Report Size (8)
    0x95, 0x40,        //   Report Count (64)
    0x81, 0x02,        //   Input (Data, Var, Abs)
    0x09, 0x21,        //   Usage (Output Report Data)
    0x15, 0x00,        //   Logical Minimum (0)
    0x26, 0xff, 0x00,  //   Logical Maximum (255)
    0x75, 0x08,        //   Report Size (8)
    0x95, 0x40,        //   Report Count (64)
    0x91, 0x02,        //   Output (Data, Var, Abs)
    0xc0,              // End Collection
};

}  // namespace vauth::transport
