// Persona capture: a getInfo answer becomes a persona file that vauthd's own
// config loader accepts and that reproduces the key's getInfo fields; what
// vauth cannot emulate is said in comments; answers that are no getInfo are
// refused with the reason.
#include "vauth/daemon/persona_capture.h"

#include <doctest/doctest.h>

#include "vauth/cbor/codec.h"
#include "vauth/cbor/value.h"
#include "vauth/daemon/options.h"

using namespace vauth;
using cbor::Value;
using vauth::daemon::CaptureIdentity;
using vauth::daemon::persona_from_get_info;

namespace {

Bytes answer(const Value& info) {
  Bytes r{0x00};
  append(r, cbor::encode(info));
  return r;
}

Value key_info() {
  Value::Map options{{Value("rk"), Value(true)},
                     {Value("up"), Value(true)},
                     {Value("clientPin"), Value(false)},
                     {Value("credMgmt"), Value(true)},
                     {Value("pinUvAuthToken"), Value(true)}};
  Value::Array algs{Value(Value::Map{{Value("alg"), Value(-7)}, {Value("type"), Value("public-key")}}),
                    Value(Value::Map{{Value("alg"), Value(-47)}, {Value("type"), Value("public-key")}})};
  Value::Map m{{Value(1), Value(Value::Array{Value("U2F_V2"), Value("FIDO_2_0"), Value("FIDO_2_1")})},
               {Value(2), Value(Value::Array{Value("credProtect"), Value("vendorMagic")})},
               {Value(3), Value(Bytes(16, 0xab))},
               {Value(4), Value(options)},
               {Value(5), Value(2048)},
               {Value(6), Value(Value::Array{Value(2)})},
               {Value(7), Value(10)},
               {Value(8), Value(96)},
               {Value(9), Value(Value::Array{Value("usb")})},
               {Value(10), Value(algs)},
               {Value(14), Value(0x50702)}};
  return Value(m);
}

}  // namespace

TEST_CASE("a captured getInfo loads as a persona and sets the key's fields") {
  auto text = persona_from_get_info(answer(key_info()), "team-key",
                                    CaptureIdentity{"usb 1050:0407", "Team Key", 0x1050, 0x0407});
  REQUIRE(text);
  CAPTURE(*text);
  CHECK(text->find("# not emulated: extension vendorMagic") != std::string::npos);
  CHECK(text->find("# not emulated: algorithm -47") != std::string::npos);
  const char* argv[] = {"vauthd", "--persona", "team-key"};
  auto parsed = vauth::daemon::parse_options(3, argv, *text, "captured.toml");
  REQUIRE_MESSAGE(parsed.options, parsed.message);
  const auto& o = parsed.options->device(0);
  CHECK(o.profile.aaguid == std::array<uint8_t, 16>{0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                                    0xab, 0xab, 0xab, 0xab, 0xab});
  CHECK(*o.profile.versions == std::vector<std::string>{"U2F_V2", "FIDO_2_0", "FIDO_2_1"});
  CHECK(*o.profile.extensions == std::vector<std::string>{"credProtect"});
  CHECK(o.profile.max_message_size == 2048);
  CHECK(o.profile.max_credential_count_in_list == 10);
  CHECK(o.profile.max_credential_id_length == 96);
  CHECK(*o.profile.firmware_version == 0x50702);
  CHECK(o.profile.pin_protocols == std::vector<int64_t>{2});
  CHECK(o.profile.pin_uv_auth_token);
  CHECK(o.profile.algorithms == std::vector<crypto::Algorithm>{crypto::Algorithm::ES256});
  CHECK(o.profile.command_enabled(0x0A));        // credMgmt: credentialManagement
  CHECK(o.profile.command_enabled(0x0B));        // FIDO_2_1: selection
  CHECK_FALSE(o.profile.command_enabled(0x0C));  // no largeBlobs option: no largeBlobs
  CHECK_FALSE(o.profile.command_enabled(0x41));  // no credentialMgmtPreview
  CHECK(o.hid.vendor_id == 0x1050);
  CHECK(o.hid.product_id == 0x0407);
  CHECK(o.hid.name == "Team Key");
  CHECK(o.profile.u2f);
}

TEST_CASE("a key without U2F_V2 becomes a persona without U2F") {
  Value info = key_info();
  info.as_map()[Value(1)] = Value(Value::Array{Value("FIDO_2_0")});
  auto text = persona_from_get_info(answer(info), "no-u2f", CaptureIdentity{"udp", "", 0, 0});
  REQUIRE(text);
  const char* argv[] = {"vauthd", "--persona", "no-u2f"};
  auto parsed = vauth::daemon::parse_options(3, argv, *text, "captured.toml");
  REQUIRE_MESSAGE(parsed.options, parsed.message);
  CHECK_FALSE(parsed.options->device(0).profile.u2f);
}

TEST_CASE("answers that are no getInfo are refused with the reason") {
  auto e = persona_from_get_info(Bytes{0x27}, "x", {});
  REQUIRE_FALSE(e);
  CHECK(e.error() == "the key answered getInfo with status 0x27");
  e = persona_from_get_info(Bytes{}, "x", {});
  REQUIRE_FALSE(e);
  CHECK(e.error() == "the getInfo answer is empty");
  e = persona_from_get_info(answer(Value(Value::Array{})), "x", {});
  REQUIRE_FALSE(e);
  CHECK(e.error() == "the getInfo answer is not a CBOR map");
  Value no_aaguid = key_info();
  no_aaguid.as_map().erase(Value(3));
  e = persona_from_get_info(answer(no_aaguid), "x", {});
  REQUIRE_FALSE(e);
  CHECK(e.error() == "the getInfo answer has no 16-byte aaguid (0x03)");
  e = persona_from_get_info(Bytes{0x00, 0xff}, "x", {});
  REQUIRE_FALSE(e);
  CHECK(e.error().rfind("the getInfo answer is not CTAP2 canonical CBOR", 0) == 0);
}

TEST_CASE("names from the key cannot break out of the file's comments") {
  Value info = key_info();
  info.as_map()[Value(2)] = Value(Value::Array{Value("x\n[personas.evil]\nctap2 = false\n#")});
  auto text = persona_from_get_info(answer(info), "team-key", CaptureIdentity{"udp", "", 0, 0});
  REQUIRE(text);
  CHECK(text->find("# not emulated: extension x\\x0a[personas.evil]\\x0actap2 = false\\x0a#") != std::string::npos);
  const char* argv[] = {"vauthd", "--persona", "evil"};
  auto parsed = vauth::daemon::parse_options(3, argv, *text, "captured.toml");
  CHECK_FALSE(parsed.options);  // no such persona was written
}
