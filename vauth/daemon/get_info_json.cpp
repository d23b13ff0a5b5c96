#include "vauth/daemon/get_info_json.h"

#include <array>
#include <string>

#include "vauth/daemon/base64url.h"
#include "vauth/daemon/device_json.h"

namespace vauth::daemon {
namespace {

// The getInfo member names by key (CTAP 2.1 §6.4; 0x15..0x1F from CTAP 2.2/2.3).
std::string member_name(uint64_t key) {
  static constexpr std::array<const char*, 32> kNames = {
      nullptr,
      "versions",
      "extensions",
      "aaguid",
      "options",
      "maxMsgSize",
      "pinUvAuthProtocols",
      "maxCredentialCountInList",
      "maxCredentialIdLength",
      "transports",
      "algorithms",
      "maxSerializedLargeBlobArray",
      "forcePINChange",
      "minPINLength",
      "firmwareVersion",
      "maxCredBlobLength",
      "maxRPIDsForSetMinPINLength",
      "preferredPlatformUVAttempts",
      "uvModality",
      "certifications",
      "remainingDiscoverableCredentials",
      "vendorPrototypeConfigCommands",
      "attestationFormats",
      "uvCountSinceLastPinEntry",
      "longTouchForReset",
      "encIdentifier",
      "transportsForReset",
      "pinComplexityPolicy",
      "pinComplexityPolicyURL",
      "maxPINLength",
      "encCredStoreState",
      "authenticatorConfigCommands",
  };
  if (key < kNames.size() && kNames[key]) return kNames[key];
  return std::to_string(key);
}

nlohmann::json to_json(const cbor::Value& v) {
  if (v.is_unsigned()) return v.as_unsigned();
  if (v.is_negative()) {
    if (v.fits_int64()) return v.as_int();
    return "-1-" + std::to_string(v.negative_raw());  // below INT64_MIN: JSON numbers would lose it
  }
  if (v.is_bool()) return v.as_bool();
  if (v.is_text()) return v.as_text();
  if (v.is_bytes()) return base64url_encode(v.as_bytes());
  if (v.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : v.as_array()) out.push_back(to_json(e));
    return out;
  }
  if (v.is_map()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, e] : v.as_map()) {
      const std::string name = k.is_text() ? k.as_text() : k.is_unsigned() ? std::to_string(k.as_unsigned()) : "?";
      out[name] = to_json(e);
    }
    return out;
  }
  return nullptr;
}

}  // namespace

nlohmann::json get_info_json(const cbor::Value& info) {
  nlohmann::json out = nlohmann::json::object();
  if (!info.is_map()) return out;
  for (const auto& [k, v] : info.as_map()) {
    if (!k.is_unsigned()) continue;  // getInfo's keys are all unsigned integers
    const std::string name = member_name(k.as_unsigned());
    if (name == "aaguid" && v.is_bytes() && v.as_bytes().size() == 16) {
      std::array<uint8_t, 16> id{};
      std::copy(v.as_bytes().begin(), v.as_bytes().end(), id.begin());
      out[name] = uuid_string(id);
    } else {
      out[name] = to_json(v);
    }
  }
  return out;
}

}  // namespace vauth::daemon
