#include "transports/usbip_session.h"

#include <algorithm>
#include <stdexcept>
#include <variant>

#include "transports/hid_descriptor.h"

namespace vauth::transport {
namespace {

using usbip::kDirIn;
using usbip::kDirOut;

// bmRequestType fields (USB 2.0 §9.3.1).
constexpr uint8_t kTypeMask = 0x60, kTypeStandard = 0x00, kTypeClass = 0x20;
constexpr uint8_t kRecipientMask = 0x1f, kRecipientDevice = 0, kRecipientInterface = 1;
// GET_PROTOCOL answers "report protocol" (HID 1.11 §7.2.5).
constexpr uint8_t kReportProtocol = 1;

const std::string kPathPrefix = "/sys/devices/platform/vauth/usb1/";

}  // namespace

// ---------------------------------------------------------------- device table

size_t UsbipDeviceTable::add(HidEndpoint& endpoint) {
  uint32_t highest = 0;
  for (const Entry& e : entries_) highest = std::max(highest, e.number);
  return add(endpoint, highest + 1);
}

size_t UsbipDeviceTable::add(HidEndpoint& endpoint, uint32_t number) {
  if (number == 0) throw std::invalid_argument("usbip: device numbers start at 1");
  for (const Entry& e : entries_) {
    if (e.number == number) throw std::invalid_argument("usbip: bus ID 1-" + std::to_string(number) + " is in use");
    if (e.endpoint == &endpoint) throw std::invalid_argument("usbip: device exported twice");
  }
  entries_.push_back(Entry{&endpoint, number});
  return entries_.size() - 1;
}

std::string UsbipDeviceTable::remove(const HidEndpoint& endpoint) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->endpoint != &endpoint) continue;
    std::string id = "1-" + std::to_string(it->number);
    entries_.erase(it);
    return id;
  }
  return {};
}

std::string UsbipDeviceTable::busid(size_t index) const { return "1-" + std::to_string(entries_.at(index).number); }

std::string UsbipDeviceTable::busid_of(const HidEndpoint& endpoint) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].endpoint == &endpoint) return busid(i);
  }
  return {};
}

usbip::DeviceRecord UsbipDeviceTable::record(size_t index) const {
  const HidDeviceInfo& info = entries_[index].endpoint->info();
  usbip::DeviceRecord r;
  r.busid = busid(index);
  r.path = kPathPrefix + r.busid;
  r.busnum = 1;
  r.devnum = entries_[index].number;
  r.speed = usbip::kSpeedFull;
  r.id_vendor = info.vendor_id;
  r.id_product = info.product_id;
  r.bcd_device = info.version;
  r.configuration_value = usb::kConfigurationValue;
  r.num_configurations = 1;
  r.interfaces.push_back(usbip::InterfaceRecord{usb::kInterfaceClassHid, 0, 0});
  return r;
}

std::vector<usbip::DeviceRecord> UsbipDeviceTable::records() const {
  std::vector<usbip::DeviceRecord> out;
  for (size_t i = 0; i < entries_.size(); ++i) out.push_back(record(i));
  return out;
}

std::optional<UsbipDeviceTable::Claim> UsbipDeviceTable::claim(std::string_view id) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (busid(i) != id) continue;
    if (entries_[i].imported) return std::nullopt;
    entries_[i].imported = true;
    return Claim{entries_[i].endpoint, record(i)};
  }
  return std::nullopt;
}

void UsbipDeviceTable::release(std::string_view id) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (busid(i) == id) entries_[i].imported = false;
  }
}

// ---------------------------------------------------------------- session

UsbipSession::UsbipSession(UsbipDeviceTable& devices, Wake wake, Limits limits)
    : devices_(devices), wake_(std::move(wake)), limits_(limits) {}

UsbipSession::~UsbipSession() { close(); }

Bytes UsbipSession::take_output() {
  Bytes out;
  out.swap(out_);
  return out;
}

void UsbipSession::close() {
  if (closed_) return;
  closed_ = true;
  in_.clear();
  pending_in_.clear();
  queued_reports_.clear();
  if (endpoint_) {
    HidEndpoint* endpoint = endpoint_;
    endpoint_ = nullptr;
    // Detach first: the reset must not produce reports into a dead session.
    endpoint->set_input_sink({});
    endpoint->on_host_reset();
    devices_.release(busid_);
    busid_.clear();
  }
}

void UsbipSession::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  close();
}

bool UsbipSession::consume(ByteView data) {
  if (closed_) return false;
  in_.insert(in_.end(), data.begin(), data.end());
  size_t offset = 0;
  while (!closed_) {
    const ByteView rest(in_.data() + offset, in_.size() - offset);
    if (!imported()) {
      usbip::Parsed<usbip::OpRequest> p = usbip::parse_op_request(rest);
      if (p.status == usbip::ParseStatus::kNeedMore) break;
      if (p.status == usbip::ParseStatus::kError) {
        fail(p.error);
        return false;
      }
      offset += p.consumed;
      handle_op(p.message);
    } else {
      usbip::Parsed<usbip::UrbCommand> p = usbip::parse_urb_command(rest);
      if (p.status == usbip::ParseStatus::kNeedMore) break;
      if (p.status == usbip::ParseStatus::kError) {
        fail(p.error);
        return false;
      }
      offset += p.consumed;
      if (auto* submit = std::get_if<usbip::CmdSubmit>(&p.message)) {
        handle_submit(*submit);
      } else {
        handle_unlink(std::get<usbip::CmdUnlink>(p.message));
      }
    }
  }
  if (closed_) return false;
  in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(offset));
  return true;
}

void UsbipSession::handle_op(const usbip::OpRequest& request) {
  if (request.header.code == usbip::kOpReqDevlist) {
    append(out_, usbip::encode_devlist_reply(devices_.records()));
  } else {
    handle_import(request.busid);
  }
}

void UsbipSession::handle_import(const std::string& busid) {
  std::optional<UsbipDeviceTable::Claim> claim = devices_.claim(busid);
  if (!claim) {
    // Unknown or in use by another session; the client may try again.
    append(out_, usbip::encode_import_reply(usbip::kStatusError, nullptr));
    return;
  }
  append(out_, usbip::encode_import_reply(usbip::kStatusOk, &claim->record));
  endpoint_ = claim->endpoint;
  busid_ = busid;
  endpoint_->set_input_sink([this](const Report& report) { on_input_report(report); });
}

void UsbipSession::reply(const usbip::RetSubmit& ret) { append(out_, usbip::encode(ret)); }

void UsbipSession::handle_submit(const usbip::CmdSubmit& cmd) {
  const bool in = cmd.basic.direction == kDirIn;
  usbip::RetSubmit ret;
  ret.seqnum = cmd.basic.seqnum;

  if (cmd.basic.ep == 0) {
    const usb::SetupPacket setup = usb::parse_setup(cmd.setup);
    ControlResult result;
    if (setup.device_to_host() != in) {
      result.status = usbip::kEpipe;  // the data stage contradicts the SETUP packet
    } else {
      result = handle_control(setup, cmd.data);
    }
    ret.status = result.status;
    if (in) {
      // Never more than the host asked for: wLength and the URB's buffer.
      const size_t limit = std::min<size_t>(setup.length, cmd.transfer_buffer_length);
      if (result.data.size() > limit) result.data.resize(limit);
      ret.data = std::move(result.data);
    } else {
      ret.actual_length = result.status == 0 ? static_cast<uint32_t>(cmd.data.size()) : 0;
    }
    reply(ret);
    if (result.output_report) feed_output_reports(*result.output_report);
    return;
  }

  if (cmd.basic.ep != usb::kInterruptEndpoint) {
    ret.status = usbip::kEpipe;  // no such endpoint
    if (!in) ret.actual_length = 0;
    reply(ret);
    return;
  }

  if (!in) {
    // Reply before feeding, so the host sees its OUT complete before the
    // answers the report may produce at once.
    ret.actual_length = static_cast<uint32_t>(cmd.data.size());
    reply(ret);
    feed_output_reports(cmd.data);
    return;
  }

  const PendingIn urb{cmd.basic.seqnum, cmd.transfer_buffer_length};
  if (!queued_reports_.empty()) {
    const Report report = queued_reports_.front();
    queued_reports_.pop_front();
    complete_in(urb, report);
  } else if (pending_in_.size() >= limits_.max_pending_in) {
    ret.status = usbip::kEnomem;
    reply(ret);
  } else {
    pending_in_.push_back(urb);
  }
}

void UsbipSession::handle_unlink(const usbip::CmdUnlink& cmd) {
  usbip::RetUnlink ret;
  ret.seqnum = cmd.basic.seqnum;
  const auto it = std::find_if(pending_in_.begin(), pending_in_.end(),
                               [&](const PendingIn& p) { return p.seqnum == cmd.unlink_seqnum; });
  if (it != pending_in_.end()) {
    // Unlinked before completion: it gets no RET_SUBMIT, and vhci gives it
    // back with this status.
    pending_in_.erase(it);
    ret.status = usbip::kEconnreset;
  } else {
    ret.status = 0;  // already completed (its RET_SUBMIT was sent) or never seen
  }
  append(out_, usbip::encode(ret));
}

// A USB interrupt OUT transfer longer than wMaxPacketSize is several packets,
// and each packet is one HID report; a short last packet is zero-padded, as
// the report is always 64 bytes.
void UsbipSession::feed_output_reports(ByteView data) {
  for (size_t offset = 0; offset < data.size() && endpoint_; offset += kReportSize) {
    Report report{};
    const size_t n = std::min(kReportSize, data.size() - offset);
    std::copy_n(data.begin() + static_cast<ptrdiff_t>(offset), n, report.begin());
    endpoint_->on_output_report(report);
  }
}

void UsbipSession::on_input_report(const Report& report) {
  if (closed_) return;
  if (!pending_in_.empty()) {
    const PendingIn urb = pending_in_.front();
    pending_in_.pop_front();
    complete_in(urb, report);
  } else {
    if (queued_reports_.size() >= limits_.max_queued_reports) queued_reports_.pop_front();
    queued_reports_.push_back(report);
  }
  if (wake_) wake_();
}

void UsbipSession::complete_in(const PendingIn& urb, const Report& report) {
  usbip::RetSubmit ret;
  ret.seqnum = urb.seqnum;
  const size_t n = std::min<size_t>(kReportSize, urb.length);
  ret.data.assign(report.begin(), report.begin() + static_cast<ptrdiff_t>(n));
  reply(ret);
}

std::optional<Bytes> UsbipSession::get_descriptor(const usb::SetupPacket& setup) const {
  const uint8_t type = static_cast<uint8_t>(setup.value >> 8);
  const uint8_t index = static_cast<uint8_t>(setup.value);
  const uint8_t recipient = setup.request_type & kRecipientMask;
  if (recipient == kRecipientDevice) {
    switch (type) {
      case usb::desc_type::kDevice: return usb::device_descriptor(endpoint_->info());
      case usb::desc_type::kConfiguration:
        if (index != 0) return std::nullopt;
        return usb::configuration_descriptor();
      case usb::desc_type::kString: return usb::string_descriptor(index, endpoint_->info());
      // Device qualifier, other-speed configuration, BOS: a full-speed-only
      // USB 2.0 device has none, and says so with a STALL.
      default: return std::nullopt;
    }
  }
  if (recipient == kRecipientInterface && setup.index == usb::kInterfaceNumber) {
    if (type == usb::desc_type::kHid) return usb::hid_descriptor();
    if (type == usb::desc_type::kHidReport) {
      return Bytes(kFidoReportDescriptor.begin(), kFidoReportDescriptor.end());
    }
  }
  return std::nullopt;
}

UsbipSession::ControlResult UsbipSession::handle_control(const usb::SetupPacket& setup, ByteView out_data) {
  namespace req = usb::request;
  ControlResult r;
  const uint8_t type = setup.request_type & kTypeMask;
  const uint8_t recipient = setup.request_type & kRecipientMask;
  const bool in = setup.device_to_host();
  auto stall = [&] {
    r.status = usbip::kEpipe;
    r.data.clear();
    return r;
  };

  if (type == kTypeStandard) {
    switch (setup.request) {
      case req::kGetStatus:
        if (!in) return stall();
        r.data = {0, 0};  // bus powered, no remote wakeup, not halted
        return r;
      case req::kClearFeature:
      case req::kSetFeature:
      case req::kSetAddress:  // vhci-hcd handles addressing itself; harmless if sent
        return in ? stall() : r;
      case req::kGetDescriptor: {
        if (!in) return stall();
        std::optional<Bytes> d = get_descriptor(setup);
        if (!d) return stall();
        r.data = std::move(*d);
        return r;
      }
      case req::kGetConfiguration:
        if (!in || recipient != kRecipientDevice) return stall();
        r.data = {configuration_};
        return r;
      case req::kSetConfiguration:
        if (in || setup.value > usb::kConfigurationValue) return stall();
        configuration_ = static_cast<uint8_t>(setup.value);
        return r;
      case req::kGetInterface:
        if (!in || setup.index != usb::kInterfaceNumber) return stall();
        r.data = {0};
        return r;
      case req::kSetInterface:
        // Only alternate setting 0 of interface 0 exists.
        if (in || setup.index != usb::kInterfaceNumber || setup.value != 0) return stall();
        return r;
      default:
        return stall();
    }
  }

  if (type == kTypeClass && recipient == kRecipientInterface && setup.index == usb::kInterfaceNumber) {
    switch (setup.request) {
      case req::kHidSetIdle:
      case req::kHidSetProtocol:
        return in ? stall() : r;
      case req::kHidGetIdle:
        if (!in) return stall();
        r.data = {0};  // infinite: reports only when there is data
        return r;
      case req::kHidGetProtocol:
        if (!in) return stall();
        r.data = {kReportProtocol};
        return r;
      case req::kHidSetReport:
        // hidraw falls back to SET_REPORT when it writes a report by control transfer.
        if (in) return stall();
        r.output_report = Bytes(out_data.begin(), out_data.end());
        return r;
      default:
        return stall();  // GET_REPORT included: input flows through the interrupt endpoint
    }
  }
  return stall();
}

}  // namespace vauth::transport
