// What the Linux hidraw driver answers for a FIDO HID device, as pure
// functions: the ioctls clients use to recognise a security key
// (HIDIOCGRDESCSIZE, HIDIOCGRDESC, HIDIOCGRAWINFO, HIDIOCGRAWNAME,
// HIDIOCGRAWPHYS, HIDIOCGRAWUNIQ), and how write() and read() map to 64-byte
// reports. The umockdev glue (hidraw_node.cpp) only moves bytes in and out of
// the client's memory; every decision lives here, so it can be unit-tested
// and fuzzed without a test bed.
#pragma once

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>

#include "vauth/base/bytes.h"

namespace vauth::kernelfree {

constexpr size_t kReportSize = 64;

// What the node says about itself (HIDIOCGRAWINFO, HIDIOCGRAWNAME, ...; the
// same values go to sysfs and the udev database).
struct HidrawIdentity {
  std::string manufacturer = "vauth";  // the USB device's strings (sysfs only)
  std::string name = "vauth virtual FIDO2 key";
  std::string phys = "vauth/kernel-free";
  std::string uniq = "0000000001";
  uint32_t bus = 0x03;  // BUS_USB, as a USB security key
  uint16_t vendor_id = 0x1209;
  uint16_t product_id = 0x7a01;
};

// How an ioctl ends: the value ioctl() returns, errno when it is -1, and the
// bytes to copy to the client's argument (starting at its first byte).
struct IoctlAnswer {
  long result = -1;
  int error = 0;
  Bytes out;  // empty: nothing to copy back
};

// `argument_size` is how many bytes the client's argument holds (_IOC_SIZE
// of the request); `descriptor_length_in` is the `size` field the client set
// in struct hidraw_report_descriptor (only read for HIDIOCGRDESC).
IoctlAnswer answer_hidraw_ioctl(unsigned long request, uint32_t descriptor_length_in, const HidrawIdentity& id);

// True when answer_hidraw_ioctl needs the client's `size` field first (HIDIOCGRDESC).
bool ioctl_reads_descriptor_length(unsigned long request);

// A write() of `data`: hidraw's first byte is the report number, 0 for a
// device without report IDs, so a client writes 65 bytes for one 64-byte
// output report. Anything else is refused with EINVAL, like a malformed write.
struct WriteOutcome {
  std::optional<Bytes> report;  // the 64-byte output report to send
  long result = -1;             // what write() returns
  int error = 0;
};
WriteOutcome interpret_write(ByteView data);

// A read() of `capacity` bytes when `report` is next: hidraw copies at most
// the report's length and drops the rest of it.
size_t read_length(size_t capacity);

}  // namespace vauth::kernelfree
