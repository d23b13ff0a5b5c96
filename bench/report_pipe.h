// Where a benchmark or soak client's 64-byte HID reports go: straight into an
// in-process CTAPHID engine (LoopbackPipe), or over a TCP connection to a
// USB/IP server as interrupt URBs (UsbipPipe, the host side of what vhci-hcd
// does; Linux Documentation/usb/usbip_protocol.rst). Both are blocking and
// single-threaded: one pipe per client thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>

#include "transports/ctaphid.h"
#include "transports/loopback.h"

namespace vauth::bench {

using transport::Report;

class ReportPipe {
 public:
  virtual ~ReportPipe() = default;
  // Host -> device. `count` reports are sent back to back (one send for USB/IP).
  virtual void write(const Report* reports, size_t count) = 0;
  // Device -> host; nullopt after `timeout`.
  virtual std::optional<Report> read(std::chrono::milliseconds timeout) = 0;
};

class LoopbackPipe final : public ReportPipe {
 public:
  explicit LoopbackPipe(transport::LoopbackDevice& device) : device_(device) {}
  void write(const Report* reports, size_t count) override {
    for (size_t i = 0; i < count; ++i) device_.write(reports[i]);
  }
  std::optional<Report> read(std::chrono::milliseconds timeout) override { return device_.read(timeout); }

 private:
  transport::LoopbackDevice& device_;
};

// One TCP connection that has imported one device. Keeps `posted_in` interrupt
// IN URBs posted (usbhid keeps one; more lets the server stream a long reply
// without waiting for the client), and pipelines OUT URBs without waiting for
// their completions (their RET_SUBMIT is checked when it arrives).
class UsbipPipe final : public ReportPipe {
 public:
  // Throws std::runtime_error when the connection or the import fails.
  UsbipPipe(const std::string& host, uint16_t port, const std::string& busid, size_t posted_in = 4);
  ~UsbipPipe() override;
  UsbipPipe(const UsbipPipe&) = delete;
  UsbipPipe& operator=(const UsbipPipe&) = delete;

  void write(const Report* reports, size_t count) override;
  std::optional<Report> read(std::chrono::milliseconds timeout) override;

  // OUT URBs the server failed (non-zero status) or other protocol surprises.
  uint64_t errors() const { return errors_; }
  // Closes the socket without unlinking anything (a host that vanishes).
  void drop();

 private:
  void send_all(const uint8_t* data, size_t size);
  void post_in();
  // Reads and handles replies until a report is queued or the deadline passes.
  bool pump(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  uint32_t devid_ = 0;
  uint32_t seqnum_ = 0;
  std::set<uint32_t> in_seqnums_;
  std::deque<Report> reports_;
  Bytes in_;  // received, not yet parsed
  size_t posted_in_;
  uint64_t errors_ = 0;
};

}  // namespace vauth::bench
