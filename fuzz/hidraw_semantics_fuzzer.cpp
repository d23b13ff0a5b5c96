// What a program under `vauth run` may throw at its emulated /dev/hidrawN:
// any ioctl request number with any descriptor length, and writes of any size.
// The answers must stay within the caller's buffer and never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <sys/ioctl.h>

#include "kernelfree/hidraw_semantics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vauth::kernelfree;
  if (size < 12) return 0;
  unsigned long request = 0;
  uint32_t length_in = 0;
  std::memcpy(&request, data, 8);
  std::memcpy(&length_in, data + 8, 4);
  const HidrawIdentity id;
  const IoctlAnswer a = answer_hidraw_ioctl(request, length_in, id);
  if (a.result == -1 && a.error == 0) std::abort();  // a failure must say why
  if (a.result != -1 && a.error != 0) std::abort();
  // Whatever is copied back fits the argument the request declares.
  if (!a.out.empty() && a.out.size() > _IOC_SIZE(request)) std::abort();

  const WriteOutcome w = interpret_write(vauth::ByteView(data + 12, size - 12));
  if (w.report && (w.report->size() != kReportSize || w.result != static_cast<long>(size - 12))) std::abort();
  if (!w.report && (w.result != -1 || w.error == 0)) std::abort();
  if (read_length(size) > kReportSize) std::abort();
  return 0;
}
