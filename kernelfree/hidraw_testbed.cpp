#include "kernelfree/hidraw_testbed.h"

#include <umockdev.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "transports/hid_descriptor.h"

namespace vauth::kernelfree {
namespace {

// hidraw's major number is assigned at boot; 240 is the first of the
// "local/experimental use" majors, so it names no other driver.
constexpr int kHidrawMajor = 240;

template <typename... Args>
std::string format(const char* fmt, Args... args) {
  char buf[96];
  std::snprintf(buf, sizeof buf, fmt, static_cast<unsigned>(args)...);
  return buf;
}

// Values in the description are one line each.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

HidrawTestbed::HidrawTestbed() {
  testbed_ = umockdev_testbed_new();
  if (!testbed_) throw std::runtime_error("cannot create a umockdev test bed");
  char* root = umockdev_testbed_get_root_dir(testbed_);
  root_ = root;
  g_free(root);
}

HidrawTestbed::~HidrawTestbed() {
  shut_down();
  nodes_.clear();
  g_object_unref(testbed_);
}

std::string HidrawTestbed::add_key(const HidrawIdentity& id, const std::string& socket_path) {
  const unsigned n = static_cast<unsigned>(nodes_.size());
  // The layout the kernel makes for a USB security key: a USB device with one
  // HID interface, the HID device (bus:vendor:product.instance) and its hidrawN.
  // The USB device has no /dev node, so nothing tries to open it through usbfs.
  const std::string usb = "1-" + std::to_string(n + 1);
  const std::string usb_path = "/devices/platform/vauth-kernel-free/usb1/" + usb;
  const std::string hid_path = usb_path + "/" + usb + ":1.0/" +
                               format("%04X:%04X:%04X.%04X", id.bus, id.vendor_id, id.product_id, n + 1);
  const std::string node = "hidraw" + std::to_string(n);
  const std::string major = std::to_string(kHidrawMajor), minor = std::to_string(n);
  const auto& rdesc = transport::kFidoReportDescriptor;

  // umockdev's device description format (umockdev-record): P: path, E: udev
  // property, A: attribute, H: binary attribute, N: /dev node (a pty).
  std::ostringstream d;
  d << "P: " << usb_path << "\n"
    << "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
    << "E: PRODUCT=" << format("%x/%x/%x", id.vendor_id, id.product_id, 0x100) << "\n"
    << "E: TYPE=0/0/0\nE: BUSNUM=001\nE: DEVNUM=" << format("%03u", n + 2) << "\n"
    << "A: manufacturer=" << one_line(id.manufacturer) << "\n"
    << "A: product=" << one_line(id.name) << "\n"
    << "A: serial=" << one_line(id.uniq) << "\n"
    << "A: idVendor=" << format("%04x", id.vendor_id) << "\nA: idProduct=" << format("%04x", id.product_id) << "\n"
    << "A: bcdDevice=0100\nA: bDeviceClass=00\nA: bNumConfigurations=1\nA: bNumInterfaces= 1\n"
    << "A: busnum=1\nA: devnum=" << n + 2 << "\nA: speed=12\nA: version= 2.00\n\n"
    << "P: " << usb_path << "/" << usb << ":1.0\n"
    << "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\nE: DRIVER=usbhid\nE: INTERFACE=3/0/0\n"
    << "A: bInterfaceClass=03\nA: bInterfaceSubClass=00\nA: bInterfaceProtocol=00\nA: bInterfaceNumber=00\n"
    << "A: bNumEndpoints=02\n\n"
    << "P: " << hid_path << "\n"
    << "E: SUBSYSTEM=hid\n"
    << "E: DRIVER=hid-generic\n"
    << "E: HID_ID=" << format("%04X:%08X:%08X", id.bus, id.vendor_id, id.product_id) << "\n"
    << "E: HID_NAME=" << one_line(id.name) << "\n"
    << "E: HID_PHYS=" << one_line(id.phys) << "\n"
    << "E: HID_UNIQ=" << one_line(id.uniq) << "\n"
    << "E: MODALIAS=" << format("hid:b%04Xg0001v%08Xp%08X", id.bus, id.vendor_id, id.product_id) << "\n"
    << "H: report_descriptor=" << to_hex(ByteView(rdesc.data(), rdesc.size())) << "\n\n"
    << "P: " << hid_path << "/hidraw/" << node << "\n"
    << "N: " << node << "\n"
    << "E: SUBSYSTEM=hidraw\n"
    << "E: DEVNAME=/dev/" << node << "\n"
    << "E: MAJOR=" << major << "\n"
    << "E: MINOR=" << minor << "\n"
    << "A: dev=" << major << ":" << minor << "\n";
  GError* error = nullptr;
  if (!umockdev_testbed_add_from_string(testbed_, d.str().c_str(), &error)) {
    const std::string what = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    throw std::runtime_error("umockdev refused the description of " + node + ": " + what);
  }
  const std::string devnode = "/dev/" + node;
  nodes_.push_back(std::make_unique<HidrawNode>(testbed_, devnode, id, socket_path));
  return devnode;
}

std::vector<std::string> HidrawTestbed::environment(const std::string& ld_preload_before) const {
  std::string preload = kUmockdevPreload;
  if (!ld_preload_before.empty()) preload += ":" + ld_preload_before;
  return {"UMOCKDEV_DIR=" + root_, "LD_PRELOAD=" + preload};
}

void HidrawTestbed::interrupt_reads() {
  for (auto& n : nodes_) n->interrupt_reads();
}

void HidrawTestbed::shut_down() {
  for (auto& n : nodes_) n->shut_down();
}

}  // namespace vauth::kernelfree
