#include "kernelfree/hidraw_semantics.h"

#include <linux/hid.h>
#include <linux/hidraw.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

#include "transports/hid_descriptor.h"

namespace vauth::kernelfree {
namespace {

template <typename T>
Bytes bytes_of(const T& value) {
  Bytes out(sizeof value);
  std::memcpy(out.data(), &value, sizeof value);
  return out;
}

// HIDIOCGRAWNAME/PHYS/UNIQ: the string and its NUL, cut to the caller's buffer
// (then without the NUL, as the kernel does); returns the bytes copied.
IoctlAnswer string_answer(const std::string& s, size_t capacity) {
  const size_t len = std::min(s.size() + 1, capacity);
  Bytes out(len, 0);
  // A zero-sized request buffer is legal (the kernel copies nothing and answers 0);
  // then out.data() may be null, which memcpy must not see.
  if (len != 0) std::memcpy(out.data(), s.data(), std::min(s.size(), len));
  return IoctlAnswer{static_cast<long>(len), 0, std::move(out)};
}

IoctlAnswer fail(int error) { return IoctlAnswer{-1, error, {}}; }

}  // namespace

bool ioctl_reads_descriptor_length(unsigned long request) { return request == HIDIOCGRDESC; }

IoctlAnswer answer_hidraw_ioctl(unsigned long request, uint32_t descriptor_length_in, const HidrawIdentity& id) {
  const auto& rdesc = transport::kFidoReportDescriptor;
  if (_IOC_TYPE(request) != 'H') return fail(EINVAL);  // hidraw's answer to a foreign ioctl
  if (request == HIDIOCGRDESCSIZE) return IoctlAnswer{0, 0, bytes_of(static_cast<int>(rdesc.size()))};
  if (request == HIDIOCGRDESC) {
    if (descriptor_length_in > HID_MAX_DESCRIPTOR_SIZE - 1) return fail(EINVAL);
    const size_t n = std::min<size_t>(rdesc.size(), descriptor_length_in);
    Bytes out = bytes_of(descriptor_length_in);  // the size field stays as the caller set it
    out.insert(out.end(), rdesc.begin(), rdesc.begin() + static_cast<std::ptrdiff_t>(n));
    return IoctlAnswer{0, 0, std::move(out)};
  }
  if (request == HIDIOCGRAWINFO) {
    hidraw_devinfo info{};
    info.bustype = id.bus;
    info.vendor = static_cast<__s16>(id.vendor_id);
    info.product = static_cast<__s16>(id.product_id);
    return IoctlAnswer{0, 0, bytes_of(info)};
  }
  // The variable-length requests carry the caller's buffer size in the request.
  const size_t size = _IOC_SIZE(request);
  const unsigned nr = _IOC_NR(request);
  const unsigned dir = _IOC_DIR(request);
  if (dir == _IOC_READ && nr == _IOC_NR(HIDIOCGRAWNAME(0))) return string_answer(id.name, size);
  if (dir == _IOC_READ && nr == _IOC_NR(HIDIOCGRAWPHYS(0))) return string_answer(id.phys, size);
  if (dir == _IOC_READ && nr == _IOC_NR(HIDIOCGRAWUNIQ(0))) return string_answer(id.uniq, size);
  // Feature, input and output reports by control transfer: the FIDO descriptor
  // declares none, and vauth answers them with an I/O error over UHID too.
  if (dir == (_IOC_READ | _IOC_WRITE) &&
      (nr == _IOC_NR(HIDIOCSFEATURE(0)) || nr == _IOC_NR(HIDIOCGFEATURE(0)) || nr == _IOC_NR(HIDIOCSINPUT(0)) ||
       nr == _IOC_NR(HIDIOCGINPUT(0)) || nr == _IOC_NR(HIDIOCSOUTPUT(0)) || nr == _IOC_NR(HIDIOCGOUTPUT(0)))) {
    return fail(EIO);
  }
  return fail(ENOTTY);
}

WriteOutcome interpret_write(ByteView data) {
  if (data.size() != kReportSize + 1 || data[0] != 0) return WriteOutcome{std::nullopt, -1, EINVAL};
  return WriteOutcome{Bytes(data.begin() + 1, data.end()), static_cast<long>(data.size()), 0};
}

size_t read_length(size_t capacity) { return std::min(capacity, kReportSize); }

}  // namespace vauth::kernelfree
