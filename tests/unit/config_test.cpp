// vauthd's TOML config file, [[device]] tables, personas and --print-config
// (vauth/daemon/options.cpp, config_file.cpp, option_sources.cpp, personas.cpp),
// and what personas make the authenticator advertise and serve.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "ctap_test_support.h"
#include "vauth/daemon/options.h"
#include "vauth/daemon/personas.h"

using namespace vauth;
using namespace vauth::daemon;

namespace {

// vauthd ARGS... with the config text given as if by --config cfg.toml.
ParseResult parse(const std::string& toml, std::vector<std::string> args = {}) {
  args.insert(args.begin(), "vauthd");
  args.push_back("--no-control");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data(), toml, "cfg.toml");
}

ParseResult parse_args(std::vector<std::string> args) {
  args.insert(args.begin(), "vauthd");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

DaemonOptions ok(const std::string& toml, std::vector<std::string> args = {}) {
  ParseResult r = parse(toml, std::move(args));
  INFO(r.message);
  REQUIRE(r.options);
  return *r.options;
}

std::string error_of(const std::string& toml, std::vector<std::string> args = {}) {
  ParseResult r = parse(toml, std::move(args));
  CHECK_FALSE(r.options);
  CHECK(r.exit_code == 2);
  return r.message;
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// getInfo of an authenticator running `profile`.
ctaptest::Response get_info(const ctap::Profile& profile) {
  ctaptest::Harness h(profile);
  return h.call(ctaptest::kGetInfo);
}

std::vector<std::string> texts(const cbor::Value* v) {
  std::vector<std::string> out;
  if (v && v->is_array()) for (const auto& e : v->as_array()) out.push_back(e.as_text());
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

TEST_CASE("config: top-level keys are the long option names, with TOML types") {
  DaemonOptions o = ok(R"(
transport = "usbip"
usbip-listen = "127.0.0.1:0"
store = "ephemeral"
devices = 2
seed = 7
algorithms = ["eddsa", "es256"]
presence = "manual"
presence-timeout = 1500
no-u2f = true
vid = "abcd"
)");
  CHECK(o.transport == TransportKind::Usbip);
  CHECK(o.usbip.port == 0);
  CHECK(o.store == StoreKind::Ephemeral);
  CHECK(o.devices == 2);
  CHECK(o.seed == 7u);
  CHECK(o.profile.algorithms == std::vector{crypto::Algorithm::EdDSA, crypto::Algorithm::ES256});
  CHECK(o.presence == PresenceMode::Manual);
  CHECK(o.presence_timeout_ms == 1500);
  CHECK_FALSE(o.profile.u2f);
  CHECK(o.hid.vendor_id == 0xabcd);
  // "es256,eddsa" as a string works the same as the array.
  CHECK(ok("algorithms = \"es256,eddsa\"").profile.algorithms ==
        std::vector{crypto::Algorithm::ES256, crypto::Algorithm::EdDSA});
  // A switch set to false is simply not given.
  CHECK(ok("no-u2f = false").profile.u2f);
}

TEST_CASE("config: the command line overrides the file") {
  DaemonOptions o = ok("presence = \"deny\"\nname = \"from file\"\nseed = 1\n", {"--presence", "manual", "--seed", "5"});
  CHECK(o.presence == PresenceMode::Manual);
  CHECK(o.seed == 5u);
  CHECK(o.hid.name == "from file");
}

TEST_CASE("config: mistakes are exit 2 with FILE:LINE:COLUMN") {
  CHECK(has(error_of("transport = \"usbip\"\nbogus = 1\n"), "cfg.toml:2:1: unknown key \"bogus\""));
  CHECK(has(error_of("devices = \"many\"\n"), "cfg.toml:1:11: devices:"));
  CHECK(has(error_of("\n\ntransport = \"carrier-pigeon\"\n"), "cfg.toml:3:13: transport: --transport must be"));
  CHECK(has(error_of("no-u2f = \"yes\"\n"), "cfg.toml:1:10: no-u2f is a switch"));
  CHECK(has(error_of("pin = true\n"), "cfg.toml:1:7: pin takes a value"));
  CHECK(has(error_of("[name]\nx = 1\n"), "name takes a value, not a table"));
  CHECK(has(error_of("presence = [\n"), "cfg.toml:"));  // a TOML syntax error
  CHECK(has(error_of("help = true\n"), "help is only a command-line option"));
  CHECK(has(error_of("config = \"other.toml\"\n"), "config is only a command-line option"));
  CHECK(has(error_of("algorithms = [\"es256\", {x = 1}]\n"), "algorithms takes a value"));
  // A bad value from the command line is not blamed on the file.
  CHECK(!has(error_of("name = \"x\"\n", {"--transport", "nope"}), "cfg.toml"));
}

TEST_CASE("config: [[device]] tables configure keys one by one") {
  DaemonOptions o = ok(R"(
seed = 100
presence = "deny"

[[device]]
pin = "123456"
persona = "yubikey5"

[[device]]
presence = "manual"
serial = "two"
seed = 9
name = "second"
)");
  REQUIRE(o.devices == 2);
  REQUIRE(o.device_options.size() == 2);
  const DaemonOptions& a = o.device(0);
  const DaemonOptions& b = o.device(1);
  CHECK(a.pin == std::optional<std::string>("123456"));
  CHECK_FALSE(b.pin);
  CHECK(a.presence == PresenceMode::Deny);  // from the top level
  CHECK(b.presence == PresenceMode::Manual);
  CHECK(a.hid.name == "Yubico YubiKey OTP+FIDO+CCID");  // the persona's, over the built-in default
  CHECK(b.hid.name == "second");
  // The top level of the file beats the persona's option defaults.
  CHECK(ok("name = \"top\"\npersona = \"yubikey5\"\n").hid.name == "top");
  CHECK(a.hid.vendor_id == 0x1050);
  CHECK(a.profile.max_credential_count_in_list == 8);
  CHECK(b.profile.max_credential_count_in_list == ctap::Profile{}.max_credential_count_in_list);
  CHECK(a.hid.serial == "0000000001-1");  // derived serials unless a table names one
  CHECK(b.hid.serial == "two");
  CHECK(a.seed == 100u);  // seed + index unless a table names one
  CHECK(b.seed == 9u);
}

TEST_CASE("config: [[device]] tables and the device count") {
  CHECK(ok("devices = 3\n[[device]]\nname = \"a\"\n").device(2).hid.serial == "0000000001-3");
  CHECK(has(error_of("devices = 1\n[[device]]\n[[device]]\n"), "fewer than the 2 [[device]] tables"));
  CHECK(has(error_of("[[device]]\ntransport = \"usbip\"\n"), "cfg.toml:2:1: transport is a daemon-wide option"));
  CHECK(has(error_of("[[device]]\nstore = \"ephemeral\"\n"), "store is a daemon-wide option"));
  CHECK(has(error_of("[[device]]\npresence = \"sometimes\"\n"), "cfg.toml:2:12: presence: --presence must be"));
  CHECK(has(error_of("device = 3\n"), "device must be an array of tables"));
  // The command line beats a device table too.
  CHECK(ok("[[device]]\npresence = \"deny\"\n", {"--presence", "auto"}).device(0).presence == PresenceMode::Auto);
  // Without a config, every device still gets its own derived settings.
  ParseResult r = parse_args({"--devices", "2", "--seed", "4", "--no-control"});
  REQUIRE(r.options);
  CHECK(r.options->device(1).seed == 5u);
  CHECK(r.options->device(1).hid.serial == "0000000001-2");
}

TEST_CASE("personas: the built-in ones set their profiles") {
  const ctap::Profile def = ok("").profile;
  CHECK(def.ctap2);
  CHECK_FALSE(def.versions);
  CHECK_FALSE(def.commands);

  const DaemonOptions yk = ok("persona = \"yubikey5\"\n");
  CHECK(yk.persona == "yubikey5");
  CHECK(to_hex(ByteView(yk.profile.aaguid.data(), 16)) == "2fc0579f811347eab116bb5a8db9202a");
  CHECK(yk.profile.max_credential_count_in_list == 8);
  CHECK(yk.profile.max_credential_id_length == 128);
  CHECK(yk.profile.max_message_size == 1200);
  CHECK(yk.profile.firmware_version == 0x050403u);
  CHECK(yk.profile.algorithms == std::vector{crypto::Algorithm::ES256, crypto::Algorithm::EdDSA});

  const ctap::Profile c20 = ok("", {"--persona", "ctap2.0"}).profile;
  CHECK(c20.pin_protocols == std::vector<int64_t>{1});
  CHECK_FALSE(c20.pin_uv_auth_token);
  CHECK_FALSE(c20.command_enabled(ctap::command::kCredentialManagement));

  const ctap::Profile u2f = ok("persona = \"u2f-only\"").profile;
  CHECK_FALSE(u2f.ctap2);
  CHECK(u2f.u2f);
  CHECK(has(error_of("persona = \"u2f-only\"\nno-u2f = true\n"), "no protocol at all"));
  CHECK(has(error_of("persona = \"nokia\"\n"), "cfg.toml:1:11: persona \"nokia\" is not a persona"));

  // Options still refine a persona.
  CHECK(ok("persona = \"yubikey5\"\nalgorithms = \"eddsa\"\n").profile.algorithms ==
        std::vector{crypto::Algorithm::EdDSA});
}

TEST_CASE("personas: a config defines and extends them") {
  const std::string defs = R"(
[personas.tiny]
base = "yubikey5"
description = "a yubikey with a tiny list"
max-credential-count-in-list = 2
name = "Tiny"

[personas.tinier]
base = "tiny"
pin-protocols = [1]
)";
  const DaemonOptions o = ok("persona = \"tinier\"\n" + defs);
  CHECK(o.profile.max_credential_count_in_list == 2);  // from tiny
  CHECK(o.profile.max_message_size == 1200);           // from yubikey5
  CHECK(o.profile.pin_protocols == std::vector<int64_t>{1});
  CHECK(o.hid.name == "Tiny");
  CHECK(o.hid.vendor_id == 0x1050);
  // The [persona.NAME] spelling works too (with the persona chosen in a device table).
  CHECK(ok("[[device]]\npersona = \"mine\"\n[persona.mine]\nbase = \"ctap2.0\"\n").device(0).profile.pin_protocols ==
        std::vector<int64_t>{1});

  CHECK(has(error_of("[personas.yubikey5]\nbase = \"default\"\n"), "is built in"));
  CHECK(has(error_of("[personas.a]\nbase = \"b\"\n[personas.b]\nbase = \"a\"\n"), "its own base"));
  CHECK(has(error_of("[personas.a]\nbase = \"nope\"\n"), "\"nope\" is not a persona"));
  // Every defined persona is checked, used or not.
  CHECK(has(error_of("[personas.a]\npin-protocols = [3]\n"), "cfg.toml:2:18: pin-protocols must be an integer from 1 to 2"));
  CHECK(has(error_of("[personas.a]\nversions = [\"FIDO_3\"]\n"), "versions has \"FIDO_3\""));
  CHECK(has(error_of("[personas.a]\nwhatever = 1\n"), "cfg.toml:2:1: unknown key \"whatever\""));
  CHECK(has(error_of("[personas.a]\ntransport = \"uhid\"\n"), "transport is a daemon-wide option"));
  CHECK(has(error_of("[personas.a]\ncommands = [\"fly\"]\n"), "commands lists CTAP2 commands"));
}

TEST_CASE("personas: --list-personas names each with its description") {
  ParseResult r = parse("[personas.mine]\nbase = \"ctap2.0\"\ndescription = \"my key\"\n", {"--list-personas"});
  CHECK_FALSE(r.options);
  CHECK(r.exit_code == 0);
  for (const char* name : {"default:", "ctap2.0:", "u2f-only:", "yubikey5:", "mine (based on ctap2.0): my key"}) {
    CHECK(has(r.message, name));
  }
}

TEST_CASE("config: --print-config prints settings that load back the same") {
  const std::string toml = R"(
transport = "usbip"
seed = 3
algorithms = ["eddsa"]
[[device]]
persona = "mine"
pin = "4321"
[[device]]
presence = "deny"
[personas.mine]
base = "yubikey5"
max-credential-count-in-list = 3
)";
  ParseResult printed = parse(toml, {"--print-config", "--presence", "manual"});
  REQUIRE_FALSE(printed.options);
  REQUIRE(printed.exit_code == 0);
  INFO(printed.message);
  CHECK(has(printed.message, "presence = 'manual'"));  // the command line is part of the effect
  const DaemonOptions a = ok(toml, {"--presence", "manual"});
  const DaemonOptions b = ok(printed.message);
  REQUIRE(b.devices == a.devices);
  for (size_t i = 0; i < a.devices; ++i) {
    CAPTURE(i);
    CHECK(b.device(i).presence == a.device(i).presence);
    CHECK(b.device(i).pin == a.device(i).pin);
    CHECK(b.device(i).seed == a.device(i).seed);
    CHECK(b.device(i).hid.name == a.device(i).hid.name);
    CHECK(b.device(i).profile.max_credential_count_in_list == a.device(i).profile.max_credential_count_in_list);
    CHECK(b.device(i).profile.algorithms == a.device(i).profile.algorithms);
  }
}

TEST_CASE("config: docs/vauthd.example.toml is valid") {
  const std::string text = read_file(VAUTH_SOURCE_DIR "/docs/vauthd.example.toml");
  REQUIRE_FALSE(text.empty());
  const DaemonOptions o = ok(text);
  CHECK(o.devices >= 2);
}

TEST_CASE("config: log format, trace and pcap options") {
  const DaemonOptions o = ok("log-format = \"json\"\ntrace = \"/tmp/t.jsonl\"\npcap = \"/tmp/t.pcapng\"\n");
  CHECK(o.log_format == DaemonOptions::LogFormat::Json);
  CHECK(o.trace_file == std::optional<std::string>("/tmp/t.jsonl"));
  CHECK(o.pcap_file == std::optional<std::string>("/tmp/t.pcapng"));
  CHECK(has(error_of("log-format = \"xml\"\n"), "cfg.toml:1:14: log-format: --log-format must be text or json"));
}

TEST_CASE("personas: getInfo and commands follow the profile") {
  SUBCASE("default advertises what vauth implements") {
    auto r = get_info(ok("").profile);
    REQUIRE(r.ok());
    CHECK(contains(texts(r.get(cbor::Value(1))), "FIDO_2_0"));
    const auto* options = r.get(cbor::Value(4));
    REQUIRE(options);
    CHECK(options->find(cbor::Value("credMgmt")));
    CHECK(options->find(cbor::Value("pinUvAuthToken")));
  }
  SUBCASE("ctap2.0: FIDO_2_0 + U2F_V2, protocol 1, no credMgmt, no pinUvAuthToken, and not served") {
    const ctap::Profile p = ok("persona = \"ctap2.0\"").profile;
    ctaptest::Harness h(p);
    auto r = h.call(ctaptest::kGetInfo);
    REQUIRE(r.ok());
    CHECK(texts(r.get(cbor::Value(1))) == std::vector<std::string>{"U2F_V2", "FIDO_2_0"});
    const auto* options = r.get(cbor::Value(4));
    REQUIRE(options);
    CHECK_FALSE(options->find(cbor::Value("credMgmt")));
    CHECK_FALSE(options->find(cbor::Value("pinUvAuthToken")));
    const auto* uv_not_rqd = options->find(cbor::Value("makeCredUvNotRqd"));
    CHECK((!uv_not_rqd || !uv_not_rqd->as_bool()));
    const auto* protocols = r.get(cbor::Value(6));
    REQUIRE(protocols);
    CHECK(protocols->as_array().size() == 1);
    CHECK(protocols->as_array()[0].as_int() == 1);
    CHECK(h.call(0x0a, ctaptest::Map{{1, 1}}).status == ctap::Status::InvalidCommand);
    CHECK(h.call(0x41, ctaptest::Map{{1, 1}}).status == ctap::Status::InvalidCommand);
    CHECK(h.call(ctaptest::kSelection).status == ctap::Status::InvalidCommand);
    // clientPIN with protocol 2 does not exist here; permissions tokens neither.
    // (clientPIN keys: 1 pinUvAuthProtocol, 2 subCommand; 2 getKeyAgreement, 9 ...WithPermissions)
    CHECK(h.call(ctaptest::kClientPin, ctaptest::Map{{1, 2}, {2, 2}}).status == ctap::Status::InvalidParameter);
    CHECK(h.call(ctaptest::kClientPin, ctaptest::Map{{1, 1}, {2, 2}}).ok());
    CHECK(h.call(ctaptest::kClientPin, ctaptest::Map{{1, 1}, {2, 9}}).status == ctap::Status::InvalidSubcommand);
  }
  SUBCASE("yubikey5: its getInfo") {
    ctaptest::Harness h(ok("persona = \"yubikey5\"").profile);
    auto r = h.call(ctaptest::kGetInfo);
    REQUIRE(r.ok());
    CHECK(texts(r.get(cbor::Value(1))) == std::vector<std::string>{"U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE"});
    CHECK(texts(r.get(cbor::Value(9))) == std::vector<std::string>{"nfc", "usb"});
    CHECK(r.get(cbor::Value(5))->as_unsigned() == 1200);
    CHECK(r.get(cbor::Value(7))->as_unsigned() == 8);
    CHECK(r.get(cbor::Value(8))->as_unsigned() == 128);
    CHECK(r.get(cbor::Value(0x0e))->as_unsigned() == 0x050403);
    const auto* options = r.get(cbor::Value(4));
    REQUIRE(options);
    CHECK(options->find(cbor::Value("credentialMgmtPreview")));
    CHECK_FALSE(options->find(cbor::Value("credMgmt")));
    const auto ext = texts(r.get(cbor::Value(2)));
    CHECK(contains(ext, "credProtect"));
    // Served through the preview command only.
    CHECK(h.call(0x0a, ctaptest::Map{{1, 1}}).status == ctap::Status::InvalidCommand);
    CHECK(h.call(0x41, ctaptest::Map{{1, 1}}).status != ctap::Status::InvalidCommand);
    // A 5.4.3 key predates CTAP 2.2: none of its getInfo fields, no perCredMgmtRO.
    for (int key = 0x15; key <= 0x1f; ++key) CHECK_FALSE(r.get(cbor::Value(key)));
    CHECK_FALSE(options->find(cbor::Value("perCredMgmtRO")));
  }
  SUBCASE("ctap2.0: no CTAP 2.2 getInfo fields either") {
    ctaptest::Harness h(ok("persona = \"ctap2.0\"").profile);
    auto r = h.call(ctaptest::kGetInfo);
    REQUIRE(r.ok());
    for (int key = 0x15; key <= 0x1f; ++key) CHECK_FALSE(r.get(cbor::Value(key)));
    CHECK_FALSE(r.get(cbor::Value(4))->find(cbor::Value("perCredMgmtRO")));
  }
  SUBCASE("the CTAP 2.2 persona keys: per-cred-mgmt-ro, pin-complexity-policy(-url)") {
    const ctap::Profile p =
        ok("[[device]]\npersona = \"x\"\n[personas.x]\nper-cred-mgmt-ro = false\n"
           "pin-complexity-policy = true\npin-complexity-policy-url = \"https://example.com/pin\"\n")
            .device(0)
            .profile;
    CHECK_FALSE(p.persistent_cred_mgmt_ro);
    CHECK(p.pin_complexity_policy);
    CHECK(p.pin_complexity_policy_url == "https://example.com/pin");
    ctaptest::Harness h(p);
    auto r = h.call(ctaptest::kGetInfo);
    REQUIRE(r.ok());
    CHECK_FALSE(r.get(cbor::Value(4))->find(cbor::Value("perCredMgmtRO")));
    CHECK(*r.get(cbor::Value(0x1b)) == cbor::Value(true));
    CHECK(*r.get(cbor::Value(0x1c)) == cbor::Value(to_bytes("https://example.com/pin")));
    CHECK(has(error_of("[personas.a]\npin-complexity-policy-url = 7\n"),
              "pin-complexity-policy-url must be a URL string"));
  }
  SUBCASE("u2f-only: no CBOR at all") {
    ctaptest::Harness h(ok("persona = \"u2f-only\"").profile);
    CHECK_FALSE(h.auth->supports_cbor());
    CHECK(h.auth->supports_msg());
  }
  SUBCASE("an extension a persona leaves out is neither advertised nor honoured") {
    ctaptest::Harness h(ok("[[device]]\npersona = \"x\"\n[personas.x]\nextensions = []\n").device(0).profile);
    auto info = h.call(ctaptest::kGetInfo);
    CHECK_FALSE(info.get(cbor::Value(2)));
  }
}
