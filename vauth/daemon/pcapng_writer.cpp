#include "vauth/daemon/pcapng_writer.h"

#include <array>
#include <chrono>
#include <optional>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "transports/hid_descriptor.h"
#include "transports/usb_descriptors.h"

namespace vauth::daemon {
namespace {

constexpr uint32_t kSectionHeader = 0x0a0d0d0a, kInterfaceDescription = 1, kEnhancedPacket = 6;
constexpr uint16_t kLinkTypeUsbLinuxMmapped = 220;
constexpr uint8_t kTransferInterrupt = 1, kTransferControl = 2;

void put_le(Bytes& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// The 64-byte usbmon header (linux/Documentation/usb/usbmon.rst, "struct
// usbmon_packet" of the mmap interface), little-endian as written on x86/arm.
struct PcapngWriter::Urb {
  uint64_t id = 0;
  char event = 'S';  // 'S'ubmit or 'C'omplete
  uint8_t transfer = kTransferInterrupt;
  uint8_t endpoint = 0;  // with 0x80 for IN
  uint8_t address = 1;
  std::optional<std::array<uint8_t, 8>> setup;
  uint32_t urb_length = 0;
  ByteView data;

  Bytes encode() const {
    Bytes h;
    const uint64_t t = now_us();
    put_le(h, id, 8);
    h.push_back(static_cast<uint8_t>(event));
    h.push_back(transfer);
    h.push_back(endpoint);
    h.push_back(address);
    put_le(h, 1, 2);                                            // bus 1
    h.push_back(setup ? 0 : '-');                               // setup flag: 0 = present
    h.push_back(data.empty() ? (endpoint & 0x80 ? '<' : '>') : 0);  // data flag: 0 = present
    put_le(h, t / 1'000'000, 8);
    put_le(h, t % 1'000'000, 4);
    put_le(h, event == 'S' ? static_cast<uint32_t>(-115) : 0, 4);  // -EINPROGRESS until complete
    put_le(h, urb_length, 4);
    put_le(h, data.size(), 4);
    if (setup) h.insert(h.end(), setup->begin(), setup->end());
    else put_le(h, 0, 8);
    put_le(h, transfer == kTransferInterrupt ? transport::usb::kPollIntervalMs : 0, 4);  // interval
    put_le(h, 0, 4);                                                                  // start frame
    put_le(h, 0, 4);                                                                  // transfer flags
    put_le(h, 0, 4);                                                                  // iso descriptors
    h.insert(h.end(), data.begin(), data.end());
    return h;
  }
};

PcapngWriter::PcapngWriter(const std::string& path) {
  // Traces hold PINs' hashes and credential IDs: private to the user, like the state files.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create the pcap file " + path);
  ::close(fd);
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot write the pcap file " + path);
  Bytes shb;
  put_le(shb, 0x1a2b3c4d, 4);        // byte-order magic
  put_le(shb, 1, 2);                 // version 1.0
  put_le(shb, 0, 2);
  put_le(shb, UINT64_MAX, 8);        // section length unknown
  write_block(kSectionHeader, shb);
  Bytes idb;
  put_le(idb, kLinkTypeUsbLinuxMmapped, 2);
  put_le(idb, 0, 2);
  put_le(idb, 0, 4);                 // no snapshot limit
  write_block(kInterfaceDescription, idb);  // timestamps in microseconds (the default)
}

void PcapngWriter::write_block(uint32_t type, const Bytes& body) {
  Bytes block;
  const size_t padded = (body.size() + 3) & ~size_t{3};
  const uint32_t total = static_cast<uint32_t>(12 + padded);
  put_le(block, type, 4);
  put_le(block, total, 4);
  block.insert(block.end(), body.begin(), body.end());
  block.resize(8 + padded, 0);
  put_le(block, total, 4);
  out_.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size()));
  out_.flush();  // a trace is read while vauthd runs, or after kill
}

void PcapngWriter::write_packet(const Bytes& packet) {
  Bytes epb;
  const uint64_t t = now_us();
  put_le(epb, 0, 4);  // interface 0
  put_le(epb, t >> 32, 4);
  put_le(epb, t & 0xffffffff, 4);
  put_le(epb, packet.size(), 4);
  put_le(epb, packet.size(), 4);
  epb.insert(epb.end(), packet.begin(), packet.end());
  write_block(kEnhancedPacket, epb);
}

void PcapngWriter::control_in(uint8_t address, const std::array<uint8_t, 8>& setup, ByteView answer) {
  Urb submit;
  submit.id = next_urb_id_++;
  submit.transfer = kTransferControl;
  submit.endpoint = 0x80;
  submit.address = address;
  submit.setup = setup;
  submit.urb_length = static_cast<uint32_t>(setup[6] | setup[7] << 8);
  write_packet(submit.encode());
  Urb complete = submit;
  complete.event = 'C';
  complete.setup.reset();
  complete.urb_length = static_cast<uint32_t>(answer.size());
  complete.data = answer;
  write_packet(complete.encode());
}

void PcapngWriter::add_device(uint8_t address, const transport::HidDeviceInfo& info) {
  namespace u = transport::usb;
  auto get = [](uint8_t request_type, uint8_t type, uint16_t index, size_t length) {
    return u::encode_setup(u::SetupPacket{request_type, u::request::kGetDescriptor,
                                          static_cast<uint16_t>(type << 8), index, static_cast<uint16_t>(length)});
  };
  const Bytes device = u::device_descriptor(info);
  const Bytes configuration = u::configuration_descriptor();
  const ByteView report(transport::kFidoReportDescriptor.data(), transport::kFidoReportDescriptor.size());
  control_in(address, get(0x80, u::desc_type::kDevice, 0, device.size()), device);
  control_in(address, get(0x80, u::desc_type::kConfiguration, 0, configuration.size()), configuration);
  control_in(address, get(0x81, u::desc_type::kHidReport, u::kInterfaceNumber, report.size()), report);
}

void PcapngWriter::report(uint8_t address, bool host_to_device, ByteView report) {
  Urb submit;
  submit.id = next_urb_id_++;
  submit.endpoint = host_to_device ? transport::usb::kInterruptOutAddress : transport::usb::kInterruptInAddress;
  submit.address = address;
  submit.urb_length = static_cast<uint32_t>(report.size());
  if (host_to_device) submit.data = report;
  write_packet(submit.encode());
  Urb complete = submit;
  complete.event = 'C';
  complete.data = host_to_device ? ByteView{} : report;
  write_packet(complete.encode());
}

}  // namespace vauth::daemon
