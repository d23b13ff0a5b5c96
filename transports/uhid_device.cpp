#include "transports/uhid_device.h"

#include <fcntl.h>
#include <linux/uhid.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iostream>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "transports/hid_descriptor.h"

namespace vauth::transport {
namespace {

// Bus type of <linux/input.h>; clients (libfido2, Chromium) treat the node like
// any USB key, and udev rules match on it.
constexpr uint16_t kBusUsb = 0x03;

void log(const std::string& line) { std::clog << "uhid: " << line << std::endl; }

[[noreturn]] void throw_open_error(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      throw UhidError(path + " does not exist: load the module with `modprobe uhid`");
    case ENODEV:
    case ENXIO:
      throw UhidError(path + " has no driver behind it: load the module with `modprobe uhid`");
    case EACCES:
    case EPERM:
      throw UhidError("no write access to " + path +
                      ": run as root, or grant your user access with a udev rule or group "
                      "(see docs/uhid.md)");
    default:
      throw UhidError("cannot open " + path + ": " + std::strerror(err));
  }
}

// Copies a string into a fixed, NUL-terminated kernel field (truncating).
template <size_t N>
void copy_field(__u8 (&field)[N], const std::string& s) {
  const size_t n = std::min(s.size(), N - 1);
  std::memcpy(field, s.data(), n);
  field[n] = 0;
}

// Shared with pending read handlers: a handler that runs after the device was
// destroyed (operation_aborted queued on the io_context) must still find valid memory.
struct UhidCore : std::enable_shared_from_this<UhidCore> {
  UhidCore(boost::asio::io_context& io, HidEndpoint& ep, std::string path)
      : endpoint(ep), uhid_path(std::move(path)), fd(io) {}

  HidEndpoint& endpoint;
  std::string uhid_path;
  boost::asio::posix::stream_descriptor fd;
  uhid_event in{};  // one read returns exactly one event
  bool created = false;
  bool opened = false;
  bool logged_first_output = false;
  // Bumped on every start(): a read completed for an earlier incarnation of the
  // device must not be dispatched (or re-armed) after a stop()/start().
  uint64_t generation = 0;

  // Writes one event. Writes to /dev/uhid are handled synchronously by the kernel
  // (they never wait for the reader), so a plain write() suffices.
  bool write_event(const uhid_event& ev, size_t size) {
    for (;;) {
      const ssize_t n = ::write(fd.native_handle(), &ev, size);
      if (n == static_cast<ssize_t>(size)) return true;
      if (n < 0 && errno == EINTR) continue;
      log(std::string("write of event ") + std::to_string(ev.type) + " failed: " +
          (n < 0 ? std::strerror(errno) : "short write"));
      return false;
    }
  }

  void send_input(const Report& report) {
    if (!created) return;
    uhid_event ev{};
    ev.type = UHID_INPUT2;
    ev.u.input2.size = static_cast<__u16>(report.size());
    std::memcpy(ev.u.input2.data, report.data(), report.size());
    // Only the header and the report itself: the kernel reads `size` bytes of data.
    write_event(ev, offsetof(uhid_event, u.input2.data) + report.size());
  }

  void read_next() {
    fd.async_read_some(boost::asio::buffer(&in, sizeof in),
                       [self = shared_from_this(), gen = generation](
                           const boost::system::error_code& ec, size_t n) { self->on_read(gen, ec, n); });
  }

  void on_read(uint64_t gen, const boost::system::error_code& ec, size_t n) {
    if (!created || gen != generation) return;  // stopped (and maybe restarted) meanwhile
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      log("read from " + uhid_path + " failed: " + ec.message() + "; device stops answering");
      return;
    }
    if (n >= sizeof(in.type)) dispatch();
    // dispatch() may have stopped the device (through the endpoint); only re-arm if not.
    if (created) read_next();
  }

  void dispatch() {
    switch (in.type) {
      case UHID_START:
        log("start (dev_flags=" + std::to_string(in.u.start.dev_flags) + ")");
        break;
      case UHID_STOP:
        log("stop");
        break;
      case UHID_OPEN:
        opened = true;
        log("opened by host");
        break;
      case UHID_CLOSE:
        opened = false;
        log("closed by host");
        endpoint.on_host_reset();
        break;
      case UHID_OUTPUT:
        on_output();
        break;
      case UHID_GET_REPORT: {
        // Feature/input reports by control transfer are not part of CTAPHID; answer
        // at once so the kernel (and the caller's ioctl) never waits for a timeout.
        uhid_event reply{};
        reply.type = UHID_GET_REPORT_REPLY;
        reply.u.get_report_reply.id = in.u.get_report.id;
        reply.u.get_report_reply.err = EIO;
        reply.u.get_report_reply.size = 0;
        write_event(reply, offsetof(uhid_event, u.get_report_reply.data));
        break;
      }
      case UHID_SET_REPORT: {
        uhid_event reply{};
        reply.type = UHID_SET_REPORT_REPLY;
        reply.u.set_report_reply.id = in.u.set_report.id;
        reply.u.set_report_reply.err = EIO;
        write_event(reply, offsetof(uhid_event, u.set_report_reply) + sizeof(uhid_set_report_reply_req));
        break;
      }
      default:
        log("ignoring event type " + std::to_string(in.type));
    }
  }

  // Our descriptor has no report IDs. A hidraw write still starts with report
  // number 0 and uhid passes the buffer through as written, so a libfido2 /
  // Chromium / python-fido2 write arrives as 65 bytes; a writer that omits the
  // number (or a kernel that strips it) yields the bare 64 bytes.
  void on_output() {
    const size_t size = std::min<size_t>(in.u.output.size, UHID_DATA_MAX);
    const uint8_t* data = in.u.output.data;
    if (!logged_first_output) {
      logged_first_output = true;
      log("first output report: " + std::to_string(size) + " bytes, rtype " +
          std::to_string(in.u.output.rtype) + ", byte0 " + std::to_string(data[0]));
    }
    if (in.u.output.rtype != UHID_OUTPUT_REPORT) return;
    if (size == kReportSize + 1 && data[0] == 0) {
      endpoint.on_output_report(ByteView(data + 1, kReportSize));
    } else if (size == kReportSize) {
      endpoint.on_output_report(ByteView(data, kReportSize));
    } else {
      log("dropping output report of " + std::to_string(size) + " bytes (expected 64, or 65 with report ID 0)");
    }
  }

  void destroy() {
    if (!created) return;
    created = false;
    endpoint.set_input_sink({});
    uhid_event ev{};
    ev.type = UHID_DESTROY;
    write_event(ev, sizeof ev.type);
    if (opened) {
      opened = false;
      endpoint.on_host_reset();
    }
    boost::system::error_code ignored;
    fd.close(ignored);  // cancels the pending read (its handler sees created == false)
    log("destroyed");
  }
};

}  // namespace

struct UhidDevice::Impl {
  std::shared_ptr<UhidCore> core;
};

UhidDevice::UhidDevice(boost::asio::io_context& io, HidEndpoint& endpoint, std::string uhid_path)
    : impl_(std::make_unique<Impl>()) {
  impl_->core = std::make_shared<UhidCore>(io, endpoint, std::move(uhid_path));
}

UhidDevice::~UhidDevice() { stop(); }

void UhidDevice::start() {
  UhidCore& c = *impl_->core;
  if (c.created) return;
  const int fd = ::open(c.uhid_path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw_open_error(c.uhid_path, errno);
  c.fd.assign(fd);

  const HidDeviceInfo& info = c.endpoint.info();
  auto ev = std::make_unique<uhid_event>();  // ~4 KiB: keep it off the stack
  *ev = {};
  ev->type = UHID_CREATE2;
  auto& req = ev->u.create2;
  copy_field(req.name, info.name);
  copy_field(req.phys, "vauth/uhid");
  copy_field(req.uniq, info.serial);
  req.rd_size = static_cast<__u16>(kFidoReportDescriptor.size());
  req.bus = kBusUsb;
  req.vendor = info.vendor_id;
  req.product = info.product_id;
  req.version = info.version;
  req.country = 0;
  std::memcpy(req.rd_data, kFidoReportDescriptor.data(), kFidoReportDescriptor.size());
  if (::write(fd, ev.get(), sizeof *ev) != static_cast<ssize_t>(sizeof *ev)) {
    const int err = errno;
    boost::system::error_code ignored;
    c.fd.close(ignored);
    throw UhidError("UHID_CREATE2 on " + c.uhid_path + " failed: " + std::strerror(err));
  }
  c.created = true;
  ++c.generation;
  std::weak_ptr<UhidCore> weak = impl_->core;
  c.endpoint.set_input_sink([weak](const Report& r) {
    if (auto core = weak.lock()) core->send_input(r);
  });
  log("created \"" + info.name + "\" (" + c.uhid_path + ")");
  c.read_next();
}

void UhidDevice::stop() {
  if (impl_) impl_->core->destroy();
}

bool UhidDevice::opened_by_host() const { return impl_->core->opened; }

}  // namespace vauth::transport
