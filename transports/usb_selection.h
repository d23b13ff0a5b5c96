// Choosing the physical key `--proxy usb:VID:PID[:SERIAL]` means, from what
// libusb lists, with an error that tells the user what to do when it is
// absent or ambiguous. Pure, so it is unit-tested without a device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vauth/base/expected.h"

namespace vauth::transport {

struct UsbCandidate {
  uint16_t vendor_id = 0, product_id = 0;
  uint8_t bus = 0, address = 0;
  std::optional<std::string> serial;  // nullopt: could not be read (no permission) or none
  std::string open_error;             // why the device could not be opened ("" if it could)
};

// The index of the one candidate that matches, or a sentence: none plugged in,
// none with that serial (listing the serials seen), several without a serial
// to tell them apart, or the match could not be opened (permissions).
Expected<size_t, std::string> select_usb_device(const std::vector<UsbCandidate>& candidates, uint16_t vendor_id,
                                                uint16_t product_id, const std::optional<std::string>& serial);

// "1050:0407"
std::string usb_id_text(uint16_t vendor_id, uint16_t product_id);

}  // namespace vauth::transport
