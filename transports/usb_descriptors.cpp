#include "transports/usb_descriptors.h"

#include <vector>

#include "transports/hid_descriptor.h"

namespace vauth::transport::usb {
namespace {

constexpr uint8_t kDeviceDescriptorSize = 18;
constexpr uint8_t kConfigurationHeaderSize = 9;
constexpr uint8_t kInterfaceDescriptorSize = 9;
constexpr uint8_t kHidDescriptorSize = 9;
constexpr uint8_t kEndpointDescriptorSize = 7;
constexpr uint8_t kTransferInterrupt = 0x03;
constexpr uint16_t kBcdUsb = 0x0200;  // 2.00 without BOS: the host asks for no BOS descriptor
constexpr uint16_t kBcdHid = 0x0111;
// Bus powered; 100 mA (bMaxPower counts 2 mA units), what a typical key declares.
constexpr uint8_t kAttributesBusPowered = 0x80;
constexpr uint8_t kMaxPower2mA = 50;
constexpr size_t kMaxDescriptorSize = 255;  // bLength is one byte

void put_u16_le(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

void endpoint_descriptor(Bytes& out, uint8_t address) {
  out.push_back(kEndpointDescriptorSize);
  out.push_back(desc_type::kEndpoint);
  out.push_back(address);
  out.push_back(kTransferInterrupt);
  put_u16_le(out, kMaxPacketSize);
  out.push_back(kPollIntervalMs);
}

constexpr char32_t kReplacement = 0xfffd;

// Decodes UTF-8 strictly (no overlong forms, no surrogates, <= U+10FFFF); each
// invalid sequence becomes one U+FFFD so a bad product name cannot break enumeration.
std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<uint8_t>(s[i]);
    size_t extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (lead < 0x80) {
      out.push_back(lead);
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      extra = 1, cp = lead & 0x1f, min = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      extra = 2, cp = lead & 0x0f, min = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      extra = 3, cp = lead & 0x07, min = 0x10000;
    } else {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    size_t j = 1;
    for (; j <= extra && i + j < s.size(); ++j) {
      const auto c = static_cast<uint8_t>(s[i + j]);
      if ((c & 0xc0) != 0x80) break;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (j <= extra) {  // truncated or interrupted sequence
      out.push_back(kReplacement);
      i += j;
      continue;
    }
    const bool valid = cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    out.push_back(valid ? cp : kReplacement);
    i += extra + 1;
  }
  return out;
}

}  // namespace

SetupPacket parse_setup(const std::array<uint8_t, 8>& raw) {
  SetupPacket s;
  s.request_type = raw[0];
  s.request = raw[1];
  s.value = static_cast<uint16_t>(raw[2] | (raw[3] << 8));
  s.index = static_cast<uint16_t>(raw[4] | (raw[5] << 8));
  s.length = static_cast<uint16_t>(raw[6] | (raw[7] << 8));
  return s;
}

std::array<uint8_t, 8> encode_setup(const SetupPacket& s) {
  return {s.request_type,
          s.request,
          static_cast<uint8_t>(s.value),
          static_cast<uint8_t>(s.value >> 8),
          static_cast<uint8_t>(s.index),
          static_cast<uint8_t>(s.index >> 8),
          static_cast<uint8_t>(s.length),
          static_cast<uint8_t>(s.length >> 8)};
}

Bytes device_descriptor(const HidDeviceInfo& info) {
  Bytes d;
  d.push_back(kDeviceDescriptorSize);
  d.push_back(desc_type::kDevice);
  put_u16_le(d, kBcdUsb);
  d.push_back(0x00);  // bDeviceClass: per interface
  d.push_back(0x00);  // bDeviceSubClass
  d.push_back(0x00);  // bDeviceProtocol
  d.push_back(kMaxPacketSize);
  put_u16_le(d, info.vendor_id);
  put_u16_le(d, info.product_id);
  put_u16_le(d, info.version);
  d.push_back(kStringManufacturer);
  d.push_back(kStringProduct);
  d.push_back(kStringSerial);
  d.push_back(1);  // bNumConfigurations
  return d;
}

Bytes hid_descriptor() {
  Bytes d;
  d.push_back(kHidDescriptorSize);
  d.push_back(desc_type::kHid);
  put_u16_le(d, kBcdHid);
  d.push_back(0x00);  // bCountryCode: not localised
  d.push_back(1);     // bNumDescriptors
  d.push_back(desc_type::kHidReport);
  put_u16_le(d, static_cast<uint16_t>(kFidoReportDescriptor.size()));
  return d;
}

Bytes configuration_descriptor() {
  Bytes body;
  // Interface 0: HID, no boot subclass (a FIDO key is not a keyboard), two endpoints.
  body.push_back(kInterfaceDescriptorSize);
  body.push_back(desc_type::kInterface);
  body.push_back(kInterfaceNumber);
  body.push_back(0);  // bAlternateSetting
  body.push_back(2);  // bNumEndpoints
  body.push_back(kInterfaceClassHid);
  body.push_back(0x00);  // bInterfaceSubClass
  body.push_back(0x00);  // bInterfaceProtocol
  body.push_back(0);     // iInterface
  append(body, hid_descriptor());
  endpoint_descriptor(body, kInterruptInAddress);
  endpoint_descriptor(body, kInterruptOutAddress);

  Bytes d;
  d.push_back(kConfigurationHeaderSize);
  d.push_back(desc_type::kConfiguration);
  put_u16_le(d, static_cast<uint16_t>(kConfigurationHeaderSize + body.size()));
  d.push_back(1);  // bNumInterfaces
  d.push_back(kConfigurationValue);
  d.push_back(0);  // iConfiguration
  d.push_back(kAttributesBusPowered);
  d.push_back(kMaxPower2mA);
  append(d, body);
  return d;
}

Bytes utf16_string_descriptor(std::string_view utf8) {
  Bytes d{0, desc_type::kString};
  for (char32_t cp : decode_utf8(utf8)) {
    const size_t units = cp >= 0x10000 ? 2 : 1;
    if (d.size() + 2 * units > kMaxDescriptorSize) break;
    if (units == 2) {
      const char32_t v = cp - 0x10000;
      put_u16_le(d, static_cast<uint16_t>(0xd800 + (v >> 10)));
      put_u16_le(d, static_cast<uint16_t>(0xdc00 + (v & 0x3ff)));
    } else {
      put_u16_le(d, static_cast<uint16_t>(cp));
    }
  }
  d[0] = static_cast<uint8_t>(d.size());
  return d;
}

std::optional<Bytes> string_descriptor(uint8_t index, const HidDeviceInfo& info) {
  switch (index) {
    case 0: {
      Bytes d{4, desc_type::kString};
      put_u16_le(d, kLangIdEnglishUs);
      return d;
    }
    case kStringManufacturer: return utf16_string_descriptor(info.manufacturer);
    case kStringProduct: return utf16_string_descriptor(info.name);
    case kStringSerial: return utf16_string_descriptor(info.serial);
    default: return std::nullopt;
  }
}

}  // namespace vauth::transport::usb
