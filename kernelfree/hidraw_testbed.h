// A umockdev test bed that shows vauth's keys to a program as USB security
// keys: for each key a HID device (subsystem "hid": HID_ID, HID_NAME,
// HID_PHYS, HID_UNIQ, its report_descriptor attribute) with a hidraw child
// (/dev/hidrawN with its major:minor, DEVNAME and the udev database entry),
// the layout the kernel's hidraw driver makes for a UHID or USB key. Programs
// started with environment() see these instead of the real /sys and /dev.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernelfree/hidraw_node.h"
#include "kernelfree/hidraw_semantics.h"

typedef struct _UMockdevTestbed UMockdevTestbed;

namespace vauth::kernelfree {

class HidrawTestbed {
 public:
  HidrawTestbed();  // creates the test bed (a private temporary directory)
  ~HidrawTestbed();  // removes every node and the directory
  HidrawTestbed(const HidrawTestbed&) = delete;
  HidrawTestbed& operator=(const HidrawTestbed&) = delete;

  // Adds /dev/hidraw<n> (n = 0, 1, ... in order) bridged to `socket_path`;
  // returns the node's path as the program sees it.
  std::string add_key(const HidrawIdentity& identity, const std::string& socket_path);

  // The variables a program needs to see the test bed: UMOCKDEV_DIR and
  // LD_PRELOAD (umockdev's preload library in front of `ld_preload_before`).
  std::vector<std::string> environment(const std::string& ld_preload_before) const;
  const std::string& root() const { return root_; }

  void interrupt_reads();
  void shut_down();

 private:
  UMockdevTestbed* testbed_ = nullptr;
  std::string root_;
  std::vector<std::unique_ptr<HidrawNode>> nodes_;
};

// umockdev's preload library, as the dynamic loader finds it.
inline constexpr const char* kUmockdevPreload = "libumockdev-preload.so.0";

}  // namespace vauth::kernelfree
