#include "transports/libusb_upstream.h"

#include <libusb.h>
#include <poll.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <stdexcept>

#include "transports/hid_usage.h"
#include "transports/usb_selection.h"

namespace vauth::transport {
namespace {

namespace asio = boost::asio;

std::string usb_error(int code) {
  return libusb_strerror(static_cast<libusb_error>(code));
}

std::optional<std::string> string_descriptor(libusb_device_handle* h, uint8_t index) {
  if (index == 0) return std::nullopt;
  unsigned char buf[256];
  const int n = libusb_get_string_descriptor_ascii(h, index, buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// The first HID interface with an interrupt IN and an interrupt OUT endpoint.
struct HidInterface {
  int number = -1;
  uint8_t in = 0, out = 0;
  uint16_t report_descriptor_length = 1024;
};

std::optional<HidInterface> find_hid_interface(libusb_device* dev) {
  libusb_config_descriptor* config = nullptr;
  if (libusb_get_active_config_descriptor(dev, &config) != 0) return std::nullopt;
  std::optional<HidInterface> found;
  for (int i = 0; i < config->bNumInterfaces && !found; ++i) {
    if (config->interface[i].num_altsetting < 1) continue;
    const libusb_interface_descriptor& alt = config->interface[i].altsetting[0];
    if (alt.bInterfaceClass != LIBUSB_CLASS_HID) continue;
    HidInterface h;
    h.number = alt.bInterfaceNumber;
    for (int e = 0; e < alt.bNumEndpoints; ++e) {
      const libusb_endpoint_descriptor& ep = alt.endpoint[e];
      if ((ep.bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_INTERRUPT) continue;
      if (ep.bEndpointAddress & LIBUSB_ENDPOINT_IN)
        h.in = ep.bEndpointAddress;
      else
        h.out = ep.bEndpointAddress;
    }
    // The HID class descriptor (HID 1.11 §6.2.1) gives the report descriptor's length.
    if (alt.extra_length >= 9 && alt.extra[1] == LIBUSB_DT_HID) {
      h.report_descriptor_length = static_cast<uint16_t>(alt.extra[7] | alt.extra[8] << 8);
    }
    if (h.in && h.out) found = h;
  }
  libusb_free_config_descriptor(config);
  return found;
}

// Everything that pending Asio waits and libusb callbacks may still touch:
// shared, so a callback after the upstream is gone finds valid memory.
struct Core : std::enable_shared_from_this<Core> {
  explicit Core(asio::io_context& io) : io(io), timer(io) {}

  asio::io_context& io;
  asio::steady_timer timer;
  libusb_context* ctx = nullptr;
  libusb_device_handle* handle = nullptr;
  HidInterface iface;
  bool claimed = false;
  libusb_transfer* in_transfer = nullptr;
  bool in_active = false;
  int outstanding_out = 0;
  bool stopping = false;
  std::array<uint8_t, kReportSize> in_buffer{};
  Upstream::OnReport on_report;
  Upstream::OnFailure on_failure;
  struct Watch {
    asio::posix::stream_descriptor descriptor;
    short events;
  };
  std::map<int, std::unique_ptr<Watch>> watches;

  // ---- libusb events on the Asio loop ----
  void watch(int fd, short events) {
    unwatch(fd);  // libusb may announce an fd again with other events
    auto w = std::make_unique<Watch>(Watch{asio::posix::stream_descriptor(io, fd), events});
    watches[fd] = std::move(w);
    arm(fd);
  }
  void unwatch(int fd) {
    auto it = watches.find(fd);
    if (it == watches.end()) return;
    boost::system::error_code ignored;
    it->second->descriptor.cancel(ignored);
    it->second->descriptor.release();  // libusb owns the fd
    watches.erase(it);
  }
  void arm(int fd) {
    auto it = watches.find(fd);
    if (it == watches.end()) return;
    Watch& w = *it->second;
    const auto what =
        (w.events & POLLOUT) ? asio::posix::descriptor_base::wait_write : asio::posix::descriptor_base::wait_read;
    std::weak_ptr<Core> weak = shared_from_this();
    w.descriptor.async_wait(what, [weak, fd](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec == asio::error::operation_aborted) return;
      self->handle_events();
      self->arm(fd);
    });
  }
  void handle_events() {
    if (!ctx) return;
    timeval zero{0, 0};
    libusb_handle_events_timeout_completed(ctx, &zero, nullptr);
    arm_timer();
  }
  // Where libusb needs a timeout handled by hand (no timerfd), its next deadline.
  void arm_timer() {
    timeval tv{};
    if (!ctx || libusb_get_next_timeout(ctx, &tv) != 1) return;
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    std::weak_ptr<Core> weak = shared_from_this();
    timer.async_wait([weak](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->handle_events();
    });
  }

  // ---- transfers ----
  static void LIBUSB_CALL in_done(libusb_transfer* t) {
    auto* self = static_cast<Core*>(t->user_data);
    self->in_active = false;
    if (self->stopping) return;
    switch (t->status) {
      case LIBUSB_TRANSFER_COMPLETED:
        if (t->actual_length == static_cast<int>(kReportSize) && self->on_report) {
          Report r;
          std::copy_n(self->in_buffer.begin(), kReportSize, r.begin());
          self->on_report(r);
        }
        break;
      case LIBUSB_TRANSFER_NO_DEVICE: return self->fail("the key was unplugged");
      case LIBUSB_TRANSFER_CANCELLED: return;
      default: break;  // a stall or error on one transfer: try the next
    }
    if (!self->stopping) self->submit_in();
  }
  void submit_in() {
    libusb_fill_interrupt_transfer(in_transfer, handle, iface.in, in_buffer.data(), static_cast<int>(in_buffer.size()),
                                   &Core::in_done, this, 0);
    const int rc = libusb_submit_transfer(in_transfer);
    if (rc == 0)
      in_active = true;
    else
      fail("cannot read from the key: " + usb_error(rc));
  }
  static void LIBUSB_CALL out_done(libusb_transfer* t) {
    auto* self = static_cast<Core*>(t->user_data);
    --self->outstanding_out;
    if (t->status == LIBUSB_TRANSFER_NO_DEVICE && !self->stopping) self->fail("the key was unplugged");
    // LIBUSB_TRANSFER_FREE_BUFFER | FREE_TRANSFER: libusb frees both.
  }
  void send(const Report& r) {
    if (!handle || stopping) return;
    libusb_transfer* t = libusb_alloc_transfer(0);
    auto* buffer = static_cast<unsigned char*>(std::malloc(kReportSize));
    if (!t || !buffer) {
      std::free(buffer);
      if (t) libusb_free_transfer(t);
      return;
    }
    std::copy(r.begin(), r.end(), buffer);
    libusb_fill_interrupt_transfer(t, handle, iface.out, buffer, static_cast<int>(kReportSize), &Core::out_done, this,
                                   1000);
    t->flags = LIBUSB_TRANSFER_FREE_BUFFER | LIBUSB_TRANSFER_FREE_TRANSFER;
    if (libusb_submit_transfer(t) == 0) {
      ++outstanding_out;
      arm_timer();
    } else {
      libusb_free_transfer(t);  // frees the buffer too
    }
  }
  void fail(const std::string& why) {
    if (stopping) return;
    Upstream::OnFailure f = std::move(on_failure);
    on_report = nullptr;
    if (f) asio::post(io, [f, why] { f(why); });
  }

  // ---- teardown: cancel, let the callbacks run, give the interface back ----
  void close() {
    stopping = true;
    if (in_transfer && in_active) libusb_cancel_transfer(in_transfer);
    for (int i = 0; i < 100 && ctx && (in_active || outstanding_out > 0); ++i) {
      timeval tv{0, 10'000};
      libusb_handle_events_timeout_completed(ctx, &tv, nullptr);
    }
    if (in_transfer && !in_active) libusb_free_transfer(in_transfer);
    in_transfer = nullptr;
    if (claimed) libusb_release_interface(handle, iface.number);  // auto-detach: the kernel driver comes back
    claimed = false;
    if (handle) libusb_close(handle);
    handle = nullptr;
    if (ctx) libusb_set_pollfd_notifiers(ctx, nullptr, nullptr, nullptr);
    while (!watches.empty()) unwatch(watches.begin()->first);
    timer.cancel();
    if (ctx) libusb_exit(ctx);
    ctx = nullptr;
  }
};

class LibusbUpstream final : public Upstream {
 public:
  LibusbUpstream(asio::io_context& io, const UpstreamSpec& spec) : spec_(spec), core_(std::make_shared<Core>(io)) {}
  ~LibusbUpstream() override { core_->close(); }

  std::string describe() const override {
    return "usb " + usb_id_text(spec_.vendor_id, spec_.product_id) + (spec_.serial ? " serial " + *spec_.serial : "");
  }
  std::optional<HidDeviceInfo> identity() const override { return identity_; }

  void start(OnReport on_report, OnFailure on_failure) override {
    Core& c = *core_;
    const std::string id = usb_id_text(spec_.vendor_id, spec_.product_id);
    if (int rc = libusb_init(&c.ctx); rc != 0) {
      c.ctx = nullptr;
      throw std::runtime_error("proxy: cannot initialise libusb: " + usb_error(rc));
    }
    try {
      open(id);
      claim(id);
    } catch (...) {
      c.close();
      throw;
    }
    c.on_report = std::move(on_report);
    c.on_failure = std::move(on_failure);
    // From here on libusb's events arrive through its file descriptors on the Asio loop.
    const libusb_pollfd** fds = libusb_get_pollfds(c.ctx);
    for (size_t i = 0; fds && fds[i]; ++i) c.watch(fds[i]->fd, fds[i]->events);
    libusb_free_pollfds(fds);
    libusb_set_pollfd_notifiers(
        c.ctx, [](int fd, short events, void* user) { static_cast<Core*>(user)->watch(fd, events); },
        [](int fd, void* user) { static_cast<Core*>(user)->unwatch(fd); }, &c);
    c.in_transfer = libusb_alloc_transfer(0);
    if (!c.in_transfer) throw std::runtime_error("proxy: out of memory for a libusb transfer");
    c.submit_in();
    c.arm_timer();
  }

  void send(const Report& report) override { core_->send(report); }

 private:
  // Lists the devices, reads the serials of those with the right IDs, and opens the chosen one.
  void open(const std::string& id) {
    Core& c = *core_;
    libusb_device** list = nullptr;
    const ssize_t n = libusb_get_device_list(c.ctx, &list);
    if (n < 0) throw std::runtime_error("proxy: cannot list USB devices: " + usb_error(static_cast<int>(n)));
    std::vector<UsbCandidate> candidates;
    std::vector<libusb_device*> devices;
    std::vector<libusb_device_handle*> handles;
    for (ssize_t i = 0; i < n; ++i) {
      libusb_device_descriptor d{};
      if (libusb_get_device_descriptor(list[i], &d) != 0) continue;
      UsbCandidate cand{d.idVendor,   d.idProduct, libusb_get_bus_number(list[i]), libusb_get_device_address(list[i]),
                        std::nullopt, ""};
      libusb_device_handle* h = nullptr;
      if (d.idVendor == spec_.vendor_id && d.idProduct == spec_.product_id) {
        if (int rc = libusb_open(list[i], &h); rc != 0) {
          h = nullptr;
          cand.open_error =
              rc == LIBUSB_ERROR_ACCESS
                  ? "permission denied (run as root, or add a udev rule giving you the device: see docs/proxy.md)"
                  : usb_error(rc);
        } else {
          cand.serial = string_descriptor(h, d.iSerialNumber);
          identity_candidate_[candidates.size()] = HidDeviceInfo{string_descriptor(h, d.iProduct).value_or(""),
                                                                 string_descriptor(h, d.iManufacturer).value_or(""),
                                                                 cand.serial.value_or(""),
                                                                 d.idVendor,
                                                                 d.idProduct,
                                                                 d.bcdDevice};
        }
      }
      candidates.push_back(cand);
      devices.push_back(list[i]);
      handles.push_back(h);
    }
    auto chosen = select_usb_device(candidates, spec_.vendor_id, spec_.product_id, spec_.serial);
    for (size_t i = 0; i < handles.size(); ++i) {
      if (handles[i] && (!chosen || i != *chosen)) libusb_close(handles[i]);
    }
    if (!chosen) {
      libusb_free_device_list(list, 1);
      throw std::runtime_error("proxy: " + chosen.error());
    }
    c.handle = handles[*chosen];
    identity_ = identity_candidate_[*chosen];
    auto hid = find_hid_interface(devices[*chosen]);
    libusb_free_device_list(list, 1);
    if (!hid) {
      throw std::runtime_error("proxy: USB device " + id +
                               " is not a FIDO device: it has no HID interface with interrupt IN and OUT endpoints");
    }
    c.iface = *hid;
  }

  // Takes the interface from the kernel's HID driver and checks the report descriptor.
  void claim(const std::string& id) {
    Core& c = *core_;
    libusb_set_auto_detach_kernel_driver(c.handle, 1);
    const int rc = libusb_claim_interface(c.handle, c.iface.number);
    if (rc == LIBUSB_ERROR_BUSY) {
      throw std::runtime_error("proxy: USB device " + id +
                               " is busy: another program has claimed it (a browser, ssh-agent, or another vauthd)");
    }
    if (rc != 0) throw std::runtime_error("proxy: cannot claim USB device " + id + ": " + usb_error(rc));
    c.claimed = true;
    std::vector<unsigned char> descriptor(std::max<uint16_t>(c.iface.report_descriptor_length, 64));
    const int n = libusb_control_transfer(
        c.handle, static_cast<uint8_t>(LIBUSB_ENDPOINT_IN) | static_cast<uint8_t>(LIBUSB_RECIPIENT_INTERFACE),
        LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_REPORT << 8, static_cast<uint16_t>(c.iface.number), descriptor.data(),
        static_cast<uint16_t>(descriptor.size()), 1000);
    if (n < 0) throw std::runtime_error("proxy: cannot read the HID report descriptor of " + id + ": " + usb_error(n));
    if (!declares_fido_usage_page(ByteView(descriptor.data(), static_cast<size_t>(n)))) {
      throw std::runtime_error("proxy: USB device " + id +
                               " is not a FIDO device: its HID report descriptor declares no usage page 0xF1D0");
    }
  }

  UpstreamSpec spec_;
  std::shared_ptr<Core> core_;
  std::optional<HidDeviceInfo> identity_;
  std::map<size_t, HidDeviceInfo> identity_candidate_;
};

}  // namespace

std::unique_ptr<Upstream> make_libusb_upstream(asio::io_context& io, const UpstreamSpec& spec) {
  return std::make_unique<LibusbUpstream>(io, spec);
}

}  // namespace vauth::transport
