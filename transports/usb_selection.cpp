#include "transports/usb_selection.h"

#include <cstdio>

namespace vauth::transport {

std::string usb_id_text(uint16_t vendor_id, uint16_t product_id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%04x", vendor_id, product_id);
  return buf;
}

Expected<size_t, std::string> select_usb_device(const std::vector<UsbCandidate>& candidates, uint16_t vendor_id,
                                                uint16_t product_id, const std::optional<std::string>& serial) {
  const std::string id = usb_id_text(vendor_id, product_id);
  std::vector<size_t> same_ids;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].vendor_id == vendor_id && candidates[i].product_id == product_id) same_ids.push_back(i);
  }
  if (same_ids.empty()) return unexpected("no USB device " + id + " is plugged in (lsusb lists what is)");
  std::vector<size_t> matches;
  std::string seen;
  for (size_t i : same_ids) {
    const UsbCandidate& c = candidates[i];
    if (serial && c.serial != serial) {
      seen += (seen.empty() ? "" : ", ") + (c.serial ? "\"" + *c.serial + "\"" : "unreadable (" + c.open_error + ")");
      continue;
    }
    matches.push_back(i);
  }
  if (matches.empty())
    return unexpected("no USB device " + id + " has serial \"" + *serial + "\" (found: " + seen + ")");
  if (matches.size() > 1) {
    return unexpected(std::to_string(matches.size()) + " USB devices " + id +
                      " are plugged in; choose one with usb:" + id + ":SERIAL");
  }
  const UsbCandidate& c = candidates[matches.front()];
  if (!c.open_error.empty()) {
    char where[32];
    std::snprintf(where, sizeof where, "bus %03u device %03u", c.bus, c.address);
    return unexpected("cannot open USB device " + id + " (" + where + "): " + c.open_error);
  }
  return matches.front();
}

}  // namespace vauth::transport
