#include "tests/integration/libfido2_io.h"

#include <cstring>
#include <map>

namespace vauth::test {
namespace {

std::map<std::string, VirtualKey*>& registry() {
  static std::map<std::string, VirtualKey*> keys;
  return keys;
}

void* io_open(const char* path) {
  auto it = registry().find(path);
  return it == registry().end() ? nullptr : it->second;
}

void io_close(void*) {}

// libfido2 passes the HID report ID in byte 0 (always 0 for FIDO devices).
int io_write(void* handle, const unsigned char* buf, size_t len) {
  if (len != transport::kReportSize + 1) return -1;
  static_cast<VirtualKey*>(handle)->device.write(ByteView(buf + 1, transport::kReportSize));
  return static_cast<int>(len);
}

int io_read(void* handle, unsigned char* buf, size_t len, int ms) {
  if (len < transport::kReportSize) return -1;
  const Duration timeout = ms < 0 ? Duration(60'000) : Duration(ms);
  auto report = static_cast<VirtualKey*>(handle)->device.read(timeout);
  if (!report) return -1;
  std::memcpy(buf, report->data(), report->size());
  return static_cast<int>(report->size());
}

}  // namespace

const fido_dev_io_t kLoopbackIo = {io_open, io_close, io_read, io_write};

void register_key(const std::string& path, VirtualKey* key) { registry()[path] = key; }
void unregister_key(const std::string& path) { registry().erase(path); }

}  // namespace vauth::test
