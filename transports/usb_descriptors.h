// The USB descriptors of a full-speed FIDO HID device (USB 2.0 §9.6, HID 1.11
// §6.2): one configuration, one HID interface with an interrupt IN and an
// interrupt OUT endpoint of 64 bytes. The USB/IP server answers the host's
// GET_DESCRIPTOR requests with these bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "transports/hid_endpoint.h"
#include "vauth/base/bytes.h"

namespace vauth::transport::usb {

// Descriptor types (wValue high byte of GET_DESCRIPTOR).
namespace desc_type {
constexpr uint8_t kDevice = 0x01, kConfiguration = 0x02, kString = 0x03, kInterface = 0x04,
                  kEndpoint = 0x05, kDeviceQualifier = 0x06, kOtherSpeedConfiguration = 0x07,
                  kBos = 0x0f, kHid = 0x21, kHidReport = 0x22;
}
// Standard and HID class bRequest values.
namespace request {
constexpr uint8_t kGetStatus = 0x00, kClearFeature = 0x01, kSetFeature = 0x03, kSetAddress = 0x05,
                  kGetDescriptor = 0x06, kGetConfiguration = 0x08, kSetConfiguration = 0x09,
                  kGetInterface = 0x0a, kSetInterface = 0x0b;
constexpr uint8_t kHidGetReport = 0x01, kHidGetIdle = 0x02, kHidGetProtocol = 0x03,
                  kHidSetReport = 0x09, kHidSetIdle = 0x0a, kHidSetProtocol = 0x0b;
}  // namespace request

constexpr uint8_t kMaxPacketSize = 64;      // endpoint 0 and both interrupt endpoints
constexpr uint8_t kInterruptInAddress = 0x81;
constexpr uint8_t kInterruptOutAddress = 0x01;
constexpr uint8_t kInterruptEndpoint = 1;   // the endpoint number of both
constexpr uint8_t kPollIntervalMs = 5;      // bInterval (full speed: frames of 1 ms)
constexpr uint8_t kConfigurationValue = 1;
constexpr uint8_t kInterfaceNumber = 0;
constexpr uint8_t kInterfaceClassHid = 0x03;
// String descriptor indexes referenced by the device descriptor.
constexpr uint8_t kStringManufacturer = 1, kStringProduct = 2, kStringSerial = 3;
constexpr uint16_t kLangIdEnglishUs = 0x0409;

// The 8-byte SETUP packet of a control transfer (little-endian on the wire).
struct SetupPacket {
  uint8_t request_type = 0;  // bmRequestType
  uint8_t request = 0;       // bRequest
  uint16_t value = 0;        // wValue
  uint16_t index = 0;        // wIndex
  uint16_t length = 0;       // wLength

  bool device_to_host() const { return (request_type & 0x80) != 0; }
};
SetupPacket parse_setup(const std::array<uint8_t, 8>& raw);
std::array<uint8_t, 8> encode_setup(const SetupPacket& setup);

// 18 bytes: bcdUSB 2.00, class defined per interface, bMaxPacketSize0 64.
Bytes device_descriptor(const HidDeviceInfo& info);
// Configuration + interface + HID + two endpoint descriptors (41 bytes), as
// returned for GET_DESCRIPTOR(CONFIGURATION); wTotalLength covers them all.
Bytes configuration_descriptor();
// The 9-byte HID class descriptor (also embedded in the configuration).
Bytes hid_descriptor();
// Index 0: the language table (en-US); 1-3: manufacturer, product, serial;
// nullopt for any other index (the host gets a STALL).
std::optional<Bytes> string_descriptor(uint8_t index, const HidDeviceInfo& info);
// A string descriptor for UTF-8 text: UTF-16LE, invalid UTF-8 becomes U+FFFD,
// truncated (never mid surrogate pair) to fit bLength's 255 bytes.
Bytes utf16_string_descriptor(std::string_view utf8);

}  // namespace vauth::transport::usb
