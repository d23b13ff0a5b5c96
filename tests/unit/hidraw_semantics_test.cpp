// The answers `vauth run` gives for its emulated /dev/hidrawN, checked against
// what Linux's hidraw driver (drivers/hid/hidraw.c) returns for the same calls.
#include <doctest/doctest.h>

#include <linux/hid.h>
#include <linux/hidraw.h>
#include <sys/ioctl.h>

#include <cstring>

#include "kernelfree/hidraw_semantics.h"
#include "transports/hid_descriptor.h"

namespace vauth::kernelfree {
namespace {

HidrawIdentity identity() {
  HidrawIdentity id;
  id.name = "vauth virtual FIDO2 key";
  id.phys = "usb-vauth/input0";
  id.uniq = "SERIAL-1";
  return id;
}

TEST_CASE("hidraw ioctl: the report descriptor, its size and the device info") {
  const auto id = identity();
  const auto& rdesc = transport::kFidoReportDescriptor;

  auto size = answer_hidraw_ioctl(HIDIOCGRDESCSIZE, 0, id);
  CHECK(size.result == 0);
  REQUIRE(size.out.size() == sizeof(int));
  int n = 0;
  std::memcpy(&n, size.out.data(), sizeof n);
  CHECK(n == static_cast<int>(rdesc.size()));

  CHECK(ioctl_reads_descriptor_length(HIDIOCGRDESC));
  CHECK_FALSE(ioctl_reads_descriptor_length(HIDIOCGRDESCSIZE));
  auto desc = answer_hidraw_ioctl(HIDIOCGRDESC, static_cast<uint32_t>(rdesc.size()), id);
  CHECK(desc.result == 0);
  REQUIRE(desc.out.size() == 4 + rdesc.size());
  CHECK(std::equal(rdesc.begin(), rdesc.end(), desc.out.begin() + 4));
  // Usage page 0xF1D0 is what clients look for.
  CHECK(desc.out[4] == 0x06);
  CHECK(desc.out[5] == 0xd0);
  CHECK(desc.out[6] == 0xf1);

  // A caller asking for fewer bytes gets fewer; more than the kernel allows is EINVAL.
  CHECK(answer_hidraw_ioctl(HIDIOCGRDESC, 5, id).out.size() == 4 + 5);
  auto big = answer_hidraw_ioctl(HIDIOCGRDESC, HID_MAX_DESCRIPTOR_SIZE, id);
  CHECK(big.result == -1);
  CHECK(big.error == EINVAL);
  CHECK(big.out.empty());

  auto info = answer_hidraw_ioctl(HIDIOCGRAWINFO, 0, id);
  CHECK(info.result == 0);
  REQUIRE(info.out.size() == sizeof(hidraw_devinfo));
  hidraw_devinfo di{};
  std::memcpy(&di, info.out.data(), sizeof di);
  CHECK(di.bustype == 3u);  // BUS_USB
  CHECK(static_cast<uint16_t>(di.vendor) == 0x1209);
  CHECK(static_cast<uint16_t>(di.product) == 0x7a01);
}

TEST_CASE("hidraw ioctl: name, phys and uniq strings are cut to the caller's buffer like the kernel does") {
  const auto id = identity();
  auto name = answer_hidraw_ioctl(HIDIOCGRAWNAME(256), 0, id);
  CHECK(name.result == static_cast<long>(id.name.size() + 1));
  REQUIRE(name.out.size() == id.name.size() + 1);
  CHECK(std::string(reinterpret_cast<const char*>(name.out.data())) == id.name);

  auto cut = answer_hidraw_ioctl(HIDIOCGRAWNAME(5), 0, id);
  CHECK(cut.result == 5);
  CHECK(std::string(cut.out.begin(), cut.out.end()) == "vauth");  // no NUL when cut, as in hidraw.c

  auto phys = answer_hidraw_ioctl(HIDIOCGRAWPHYS(64), 0, id);
  CHECK(std::string(reinterpret_cast<const char*>(phys.out.data())) == id.phys);
  auto uniq = answer_hidraw_ioctl(HIDIOCGRAWUNIQ(64), 0, id);
  CHECK(std::string(reinterpret_cast<const char*>(uniq.out.data())) == id.uniq);
}

TEST_CASE("hidraw ioctl: feature reports, unknown and foreign requests fail as on the kernel") {
  const auto id = identity();
  for (unsigned long r : {static_cast<unsigned long>(HIDIOCGFEATURE(65)), static_cast<unsigned long>(HIDIOCSFEATURE(65)),
                          static_cast<unsigned long>(HIDIOCGINPUT(65)), static_cast<unsigned long>(HIDIOCSOUTPUT(65))}) {
    auto a = answer_hidraw_ioctl(r, 0, id);
    CHECK(a.result == -1);
    CHECK(a.error == EIO);
    CHECK(a.out.empty());
  }
  auto unknown = answer_hidraw_ioctl(_IOR('H', 0x30, int), 0, id);
  CHECK(unknown.result == -1);
  CHECK(unknown.error == ENOTTY);
  // isatty() asks TCGETS: a hidraw node is no terminal (hidraw answers EINVAL for foreign types).
  auto tty = answer_hidraw_ioctl(0x5401 /* TCGETS */, 0, id);
  CHECK(tty.result == -1);
  CHECK(tty.error == EINVAL);
  // A read-direction NAME request with the write bit is not HIDIOCGRAWNAME.
  CHECK(answer_hidraw_ioctl(_IOC(_IOC_WRITE, 'H', 0x04, 16), 0, id).error == ENOTTY);
}

TEST_CASE("hidraw write: report number 0 then 64 bytes is one output report; anything else is EINVAL") {
  Bytes w(65, 0xab);
  w[0] = 0;
  auto ok = interpret_write(w);
  REQUIRE(ok.report);
  CHECK(ok.report->size() == kReportSize);
  CHECK((*ok.report)[0] == 0xab);
  CHECK(ok.result == 65);

  for (size_t len : {size_t{0}, size_t{1}, size_t{64}, size_t{66}, size_t{4096}}) {
    auto bad = interpret_write(Bytes(len, 0));
    CHECK_FALSE(bad.report);
    CHECK(bad.result == -1);
    CHECK(bad.error == EINVAL);
  }
  w[0] = 1;  // a report ID the descriptor does not declare
  CHECK(interpret_write(w).error == EINVAL);
}

TEST_CASE("hidraw read: at most one report per read") {
  CHECK(read_length(64) == 64);
  CHECK(read_length(65) == 64);
  CHECK(read_length(4096) == 64);
  CHECK(read_length(10) == 10);
  CHECK(read_length(0) == 0);
}

}  // namespace
}  // namespace vauth::kernelfree
