#include "vauth/daemon/options.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "vauth/base/bytes.h"
#include "vauth/daemon/option_sources.h"
#include "vauth/ctap/quirks.h"
#include "vauth/faults/fault_parse.h"

namespace po = boost::program_options;

namespace vauth::daemon {
namespace {

constexpr const char* kUsage = R"(vauthd — a virtual FIDO2 security key (CTAP 2.0 + U2F) for Linux.

Usage: vauthd [options]
       vauthd doctor [--user USER]   check /dev/uhid, hidraw permissions, vhci-hcd, usbip

Without options vauthd creates one key and plugs it in through UHID when
/dev/uhid is usable, otherwise it serves it over USB/IP on 127.0.0.1:3240.
It prints one "ready" line per device on stdout, logs to stderr, and removes
its devices on SIGTERM / SIGINT.
)";

std::optional<ctap::AttestationMode> parse_attestation(const std::string& s) {
  if (s == "batch") return ctap::AttestationMode::Batch;
  if (s == "self") return ctap::AttestationMode::Self;
  if (s == "none") return ctap::AttestationMode::None;
  return std::nullopt;
}

std::optional<std::vector<crypto::Algorithm>> parse_algorithms(const std::string& s) {
  std::vector<crypto::Algorithm> out;
  std::stringstream in(s);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name == "es256") out.push_back(crypto::Algorithm::ES256);
    else if (name == "eddsa") out.push_back(crypto::Algorithm::EdDSA);
    else if (name == "es384") out.push_back(crypto::Algorithm::ES384);
    else if (name == "rs256") out.push_back(crypto::Algorithm::RS256);
    else return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<std::array<uint8_t, 16>> parse_aaguid(std::string s) {
  std::erase(s, '-');
  auto bytes = from_hex(s);
  if (!bytes || bytes->size() != 16) return std::nullopt;
  std::array<uint8_t, 16> out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

bool parse_listen(const std::string& s, transport::UsbipOptions& out) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  try {
    const unsigned long port = std::stoul(s.substr(colon + 1));
    if (port > 65535) return false;
    out.address = s.substr(0, colon);
    out.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return false;
  }
  return !out.address.empty();
}

// The bearer token is the whole file minus surrounding whitespace, so `openssl rand -hex 32 > FILE` works.
std::optional<std::string> read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  std::string token = buf.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return std::string();
  const auto last = token.find_last_not_of(" \t\r\n");
  return token.substr(first, last - first + 1);
}

// "off" (zero: any time) or whole seconds; a window of 0 s would forbid every reset.
std::optional<Duration> parse_reset_window(const std::string& s) {
  if (s == "off") return Duration(0);
  unsigned long seconds = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
  if (ec != std::errc() || end != s.data() + s.size() || seconds < 1 || seconds > 3600) return std::nullopt;
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(seconds));
}

ParseResult fail(const std::string& message) { return ParseResult{std::nullopt, 2, "vauthd: " + message}; }

}  // namespace

std::string default_control_socket() {
  if (geteuid() == 0) return "/run/vauth/control.sock";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return std::string(xdg) + "/vauth/control.sock";
  return "/tmp/vauth-" + std::to_string(geteuid()) + "/control.sock";
}

std::string default_seqpacket_dir() {
  return std::filesystem::path(default_control_socket()).parent_path().string();
}

bool is_loopback_address(const std::string& address) {
  return address == "::1" || address == "localhost" || address.rfind("127.", 0) == 0;
}

std::string default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) return std::string(xdg) + "/vauth";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/state/vauth";
  return "/var/lib/vauth";
}

namespace {

// One pass over every source of option values: the command line, then what
// `sources` adds (config file, [[device]] table, persona). parse_options runs
// it for the top level and once per [[device]] table.
ParseResult resolve(int argc, const char* const argv[], OptionSources& sources) {
  std::string transport = "auto", listen = "127.0.0.1:3240", udp_listen = "127.0.0.1:8111",
              udp_peer = "127.0.0.1:7112", attestation = "batch", presence = "auto", uv = "none",
              algorithms = "es256,eddsa,es384,rs256", aaguid, vid, pid;
  DaemonOptions o;
  uint64_t seed = 0;
  std::string pin, import_file, export_ca, control_socket, control_listen, token_file, reset_window = "10";
  std::string proxy, replay, capture;

  po::options_description general("General");
  general.add_options()
      ("help,h", "show this help and exit")
      ("transport,t", po::value(&transport)->value_name("auto|uhid|usbip|udp|seqpacket"),
       "how the key reaches the host (default: auto = uhid if /dev/uhid is usable, else usbip); udp: "
       "the SoloKeys/CanoKey simulator convention, no kernel; seqpacket: a Unix socket per key, one "
       "report per packet, for `vauth run` and other local bridges")
      ("usbip-listen", po::value(&listen)->value_name("ADDR:PORT"),
       "USB/IP listen address (default 127.0.0.1:3240; port 0 picks a free port). USB/IP has no "
       "authentication: keep it on loopback")
      ("udp-listen", po::value(&udp_listen)->value_name("ADDR:PORT"),
       "--transport udp: where device 1 takes its reports (default 127.0.0.1:8111; device i: PORT+i-1; "
       "port 0 picks free ports)")
      ("udp-peer", po::value(&udp_peer)->value_name("ADDR:PORT"),
       "--transport udp: where device 1 sends its reports (default 127.0.0.1:7112; device i: PORT+i-1)")
      ("seqpacket-dir", po::value(&o.seqpacket_dir)->value_name("DIR"),
       "where --transport seqpacket creates device-<n>.sock (0600, in a 0700 directory; default "
       "$XDG_RUNTIME_DIR/vauth)")
      ("uhid-path", po::value(&o.uhid_path)->value_name("PATH"), "the UHID character device (default /dev/uhid)")
      ("devices", po::value(&o.devices)->value_name("N"), "how many independent keys to create (default 1)")
      ("proxy", po::value(&proxy)->value_name("SPEC"),
       "put a real key behind the virtual one: forward every report to usb:VID:PID[:SERIAL] (libusb), "
       "udp:HOST:PORT[:LISTEN_PORT], seqpacket:PATH or replay:TRACE, with faults and --trace in between "
       "(docs/proxy.md)")
      ("replay", po::value(&replay)->value_name("TRACE"),
       "answer from a recorded --trace file (the same as --proxy replay:TRACE)")
      ("capture-persona", po::value(&capture)->value_name("FILE"),
       "with --proxy: ask the upstream key for its getInfo, write it to FILE as a persona and exit")
      ("capture-persona-name", po::value(&o.capture_persona_name)->value_name("NAME"),
       "the persona's name in the --capture-persona file (default captured)");
  std::string store_kind = "durable", passphrase_file, passphrase_env;
  po::options_description state("State");
  state.add_options()
      ("store", po::value(&store_kind)->value_name("durable|batched|ephemeral"),
       "durable (default): every change is on disk before the key answers; batched: synced every 100 ms, "
       "a power cut may lose the last changes (never a counter step backwards); ephemeral: memory only")
      ("state-dir", po::value(&o.state_dir)->value_name("DIR"),
       "where device n keeps its journal: DIR/device-n (default $XDG_STATE_HOME/vauth or ~/.local/state/vauth)")
      ("passphrase-file", po::value(&passphrase_file)->value_name("FILE"),
       "seal the state at rest with the passphrase on FILE's first line (scrypt + AES-256-GCM)")
      ("passphrase-env", po::value(&passphrase_env)->value_name("VAR"), "the same, from an environment variable");
  po::options_description key("Key");
  key.add_options()
      ("seed", po::value(&seed)->value_name("N"),
       "deterministic mode: every key, credential ID and nonce derives from N (device i uses N+i-1)")
      ("attestation", po::value(&attestation)->value_name("batch|self|none"),
       "attestation of new credentials (default batch: packed, signed by a batch certificate under vauth's CA)")
      ("export-attestation-ca", po::value(&export_ca)->value_name("FILE"),
       "write the attestation CA certificate (PEM) of device 1 to FILE, for relying parties to trust")
      ("algorithms", po::value(&algorithms)->value_name("LIST"), "credential algorithms in order of preference: es256, eddsa, es384, rs256 (default all four)")
      ("aaguid", po::value(&aaguid)->value_name("UUID"), "the AAGUID to report (default: vauth's)")
      ("no-u2f", "a CTAP2-only key: no CTAP1/U2F")
      ("reset-window", po::value(&reset_window)->value_name("SECONDS|off"),
       "authenticatorReset is allowed only this long after power-up, as on real keys (default 10); "
       "off allows it at any time")
      ("pin", po::value(&pin)->value_name("PIN"), "start with this PIN set (default: no PIN)")
      ("import", po::value(&import_file)->value_name("FILE"),
       "start an unused key as the device FILE describes (GET /v1/devices/N/export, vauthctl export); "
       "a key already in use keeps its state")
      ("presence", po::value(&presence)->value_name("auto|deny|manual"),
       "user presence: approve every request, deny every request, or wait for the control API "
       "(vauthctl touch/deny) with KEEPALIVE UPNEEDED (default auto)")
      ("presence-delay", po::value(&o.presence_delay_ms)->value_name("MS"), "auto/deny: answer presence requests after MS milliseconds")
      ("presence-timeout", po::value(&o.presence_timeout_ms)->value_name("MS"),
       "manual: give up after MS milliseconds with CTAP2_ERR_USER_ACTION_TIMEOUT (default 30000; 0 waits forever)")
      ("uv", po::value(&uv)->value_name("auto|fail|manual|none"),
       "built-in user verification (a simulated fingerprint sensor): every reading matches, none does, "
       "or each waits for the control API (vauthctl uv match/nomatch); none: no sensor (default none, like most "
       "security keys; --fingerprints alone means auto)")
      ("uv-timeout", po::value(&o.uv_timeout_ms)->value_name("MS"),
       "manual: a reading gives up after MS milliseconds (default 30000; 0 waits forever)")
      ("fingerprints", po::value(&o.fingerprints)->value_name("N"),
       "start with N enrolled fingers when the key has none, so built-in UV is configured (default 0)")
      ("name", po::value(&o.hid.name)->value_name("TEXT"), "HID device / USB product name")
      ("serial", po::value(&o.hid.serial)->value_name("TEXT"), "HID / USB serial number")
      ("vid", po::value(&vid)->value_name("HEX"), "USB vendor ID (default 1209)")
      ("pid", po::value(&pid)->value_name("HEX"), "USB product ID (default 7a01)")
      ("persona", po::value(&o.persona)->value_name("NAME"),
       "start from a named profile: default, ctap2.0, u2f-only, yubikey5, or one the config file defines "
       "(vauthd --list-personas)");
  std::string log_format = "text", trace_file, pcap_file;
  po::options_description output("Configuration and output (docs/config.md)");
  output.add_options()
      ("config,c", po::value<std::string>()->value_name("FILE"),
       "read options from a TOML file: every long option is a key; [[device]] tables configure keys one by "
       "one; the command line wins")
      ("print-config", "print the effective settings as TOML and exit")
      ("list-personas", "list the personas and exit")
      ("log-format", po::value(&log_format)->value_name("text|json"),
       "stderr log lines as plain text (default) or JSON objects; readiness lines stay on stdout")
      ("trace", po::value(&trace_file)->value_name("FILE"),
       "write every CTAPHID packet and every decoded CTAP request/response to FILE as JSON lines")
      ("pcap", po::value(&pcap_file)->value_name("FILE"),
       "write the USB traffic to FILE as pcapng (Linux usbmon link type; Wireshark dissects it)");
  std::vector<std::string> fault_rules, quirks;
  po::options_description misbehave("Faults and quirks (docs/faults.md)");
  misbehave.add_options()
      ("fault", po::value(&fault_rules)->value_name("RULE")->composing(),
       "inject a fault, e.g. ctap:makeCredential:status=KEY_STORE_FULL,times=1 (repeatable; every device)")
      ("quirk", po::value(&quirks)->value_name("NAME[=VALUE]")->composing(),
       "behave like a quirky real key, e.g. reject-large-lists or truncate-user-name=64 (repeatable)");
  po::options_description control("Control API (docs/control-api.md)");
  control.add_options()
      ("control-socket", po::value(&control_socket)->value_name("PATH"),
       "the control API's Unix socket, created 0600 in a 0700 directory (default "
       "$XDG_RUNTIME_DIR/vauth/control.sock; /run/vauth/control.sock as root)")
      ("no-control", "no control API at all")
      ("control-listen", po::value(&control_listen)->value_name("ADDR:PORT"),
       "also serve the control API over TCP (needs --control-token-file; loopback only unless "
       "--control-allow-remote; port 0 picks a free port)")
      ("control-token-file", po::value(&token_file)->value_name("FILE"),
       "the bearer token TCP clients must send (Authorization: Bearer TOKEN)")
      ("control-allow-remote", "let --control-listen bind a non-loopback address");
  po::options_description all;
  all.add(general).add(state).add(key).add(misbehave).add(control).add(output);

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
    sources.store(vm, all, {&general, &state, &control, &output});
    po::notify(vm);
  } catch (const po::error& e) {
    return fail(std::string(e.what()) + " (see vauthd --help)");
  } catch (const ConfigError& e) {
    return fail(e.what());
  }
  if (vm.count("help")) {
    std::ostringstream help;
    help << kUsage << "\n" << all;
    return ParseResult{std::nullopt, 0, help.str()};
  }
  if (vm.count("list-personas")) return ParseResult{std::nullopt, 0, describe_personas(sources.state().personas)};
  if (log_format == "text") o.log_format = DaemonOptions::LogFormat::Text;
  else if (log_format == "json") o.log_format = DaemonOptions::LogFormat::Json;
  else return fail("--log-format must be text or json");
  if (vm.count("trace")) o.trace_file = trace_file;
  if (vm.count("pcap")) o.pcap_file = pcap_file;
  o.profile = sources.profile();  // the persona's; the options below refine it

  if (transport == "auto") o.transport = TransportKind::Auto;
  else if (transport == "uhid") o.transport = TransportKind::Uhid;
  else if (transport == "usbip") o.transport = TransportKind::Usbip;
  else if (transport == "udp") o.transport = TransportKind::Udp;
  else if (transport == "seqpacket") o.transport = TransportKind::Seqpacket;
  else return fail("--transport must be auto, uhid, usbip, udp or seqpacket");
  if (o.seqpacket_dir.empty()) return fail("--seqpacket-dir wants a directory");
  if (!parse_listen(listen, o.usbip)) return fail("--usbip-listen wants ADDR:PORT, e.g. 127.0.0.1:3240");
  transport::UsbipOptions udp_in, udp_out;
  if (!parse_listen(udp_listen, udp_in)) return fail("--udp-listen wants ADDR:PORT, e.g. 127.0.0.1:8111");
  if (!parse_listen(udp_peer, udp_out) || udp_out.port == 0) {
    return fail("--udp-peer wants ADDR:PORT with a port, e.g. 127.0.0.1:7112");
  }
  o.udp = transport::UdpOptions{udp_in.address, udp_in.port, udp_out.address, udp_out.port};
  if (o.devices < 1 || o.devices > 16) return fail("--devices must be between 1 and 16");
  if (vm.count("proxy") && vm.count("replay")) return fail("give one of --proxy, --replay");
  if (vm.count("replay")) proxy = "replay:" + replay;
  if (vm.count("proxy") || vm.count("replay")) {
    auto spec = transport::parse_upstream_spec(proxy);
    if (!spec) return fail(spec.error());
    if (o.devices != 1) return fail("--proxy and --replay make one key: leave --devices at 1");
    o.proxy = std::move(*spec);
  }
  if (vm.count("capture-persona")) {
    if (!o.proxy) return fail("--capture-persona needs --proxy (the key whose getInfo to capture)");
    o.capture_persona = capture;
  }
  if (vm.count("seed")) o.seed = seed;
  if (store_kind == "durable") o.store = StoreKind::Durable;
  else if (store_kind == "batched") o.store = StoreKind::Batched;
  else if (store_kind == "ephemeral") o.store = StoreKind::Ephemeral;
  else return fail("--store must be durable, batched or ephemeral");
  if (vm.count("passphrase-file") && vm.count("passphrase-env")) return fail("give one of --passphrase-file, --passphrase-env");
  if (vm.count("passphrase-file")) o.passphrase_file = passphrase_file;
  if (vm.count("passphrase-env")) o.passphrase_env = passphrase_env;
  auto att = parse_attestation(attestation);
  if (!att) return fail("--attestation must be batch, self or none");
  o.profile.attestation = *att;
  auto algs = parse_algorithms(algorithms);
  if (!algs) return fail("--algorithms is a comma-separated list of es256, eddsa, es384, rs256");
  o.profile.algorithms = *algs;
  if (!aaguid.empty()) {
    auto a = parse_aaguid(aaguid);
    if (!a) return fail("--aaguid must be 16 bytes of hex, e.g. 01234567-89ab-cdef-0123-456789abcdef");
    o.profile.aaguid = *a;
  }
  o.profile.u2f = !vm.count("no-u2f");
  auto window = parse_reset_window(reset_window);
  if (!window) return fail("--reset-window wants whole seconds from 1 to 3600, or off");
  o.profile.reset_window = *window;
  if (!o.profile.u2f && !o.profile.ctap2) return fail("--no-u2f leaves a U2F-only persona (" + o.persona + ") no protocol at all");
  if (vm.count("pin")) o.pin = pin;
  if (vm.count("import")) o.import_file = import_file;
  if (presence == "auto") o.presence = PresenceMode::Auto;
  else if (presence == "deny") o.presence = PresenceMode::Deny;
  else if (presence == "manual") o.presence = PresenceMode::Manual;
  else return fail("--presence must be auto, deny or manual");
  // A key with enrolled fingers needs a sensor: --fingerprints alone asks for one.
  if (vm.count("fingerprints") && !vm.count("uv") && o.fingerprints > 0) uv = "auto";
  if (uv == "auto") o.uv = UvMode::Auto;
  else if (uv == "fail") o.uv = UvMode::Fail;
  else if (uv == "manual") o.uv = UvMode::Manual;
  else if (uv == "none") o.uv = UvMode::None;
  else return fail("--uv must be auto, fail, manual or none");
  o.profile.built_in_uv = o.uv != UvMode::None;
  if (o.fingerprints > o.profile.max_fingerprints) {
    return fail("--fingerprints must be at most " + std::to_string(o.profile.max_fingerprints));
  }
  if (o.fingerprints > 0 && o.uv == UvMode::None) return fail("--fingerprints needs a sensor (not --uv none)");
  if (vm.count("no-control")) {
    if (vm.count("control-socket") || vm.count("control-listen")) return fail("--no-control excludes the other --control-* options");
  } else {
    o.control.socket_path = vm.count("control-socket") ? control_socket : default_control_socket();
    o.control.socket_is_default = !vm.count("control-socket");
    if (o.control.socket_path->empty()) return fail("--control-socket wants a path");
  }
  if (vm.count("control-listen")) {
    transport::UsbipOptions endpoint;
    if (!parse_listen(control_listen, endpoint)) return fail("--control-listen wants ADDR:PORT, e.g. 127.0.0.1:8765");
    if (!is_loopback_address(endpoint.address) && !vm.count("control-allow-remote")) {
      return fail("--control-listen " + endpoint.address + " is not a loopback address (add --control-allow-remote "
                  "if you really want the control API on the network)");
    }
    if (!vm.count("control-token-file")) return fail("--control-listen needs --control-token-file: TCP clients must authenticate");
    auto token = read_token(token_file);
    if (!token) return fail("cannot read --control-token-file " + token_file);
    if (token->size() < 16) return fail("the token in " + token_file + " is shorter than 16 characters");
    o.control.tcp_address = endpoint.address;
    o.control.tcp_port = endpoint.port;
    o.control.token = *token;
    o.control.allow_remote = vm.count("control-allow-remote") > 0;
  } else if (vm.count("control-token-file") || vm.count("control-allow-remote")) {
    return fail("--control-token-file and --control-allow-remote only make sense with --control-listen");
  }
  for (auto [text, field, flag] : {std::tuple{&vid, &o.hid.vendor_id, "--vid"}, std::tuple{&pid, &o.hid.product_id, "--pid"}}) {
    if (text->empty()) continue;
    auto b = from_hex(std::string(4 - std::min<size_t>(4, text->size()), '0') + *text);
    if (!b || b->size() != 2) return fail(std::string(flag) + " must be 4 hex digits");
    *field = get_u16_be(b->data());
  }
  if (vm.count("export-attestation-ca")) o.export_attestation_ca = export_ca;
  for (const std::string& text : fault_rules) {
    auto rule = faults::parse_rule(text);
    if (!rule) return fail("--fault " + text + ": " + rule.error());
    o.faults.push_back(std::move(*rule));
  }
  for (const std::string& text : quirks) {
    if (auto err = ctap::apply_quirk(o.profile, text)) return fail("--quirk: " + *err);
  }
  return ParseResult{o, 0, ""};
}

ParseResult located(ParseResult r, const OptionSources& sources) {
  if (!r.options && r.exit_code != 0) r.message = sources.locate(r.message);
  return r;
}

// --print-config: the top level, then each [[device]] table's differences from it,
// then the config's own personas (so the output loads again as a config file).
std::string effective_config(const OptionSources& top, const std::vector<OptionSources>& devices) {
  std::ostringstream out;
  out << "# vauthd effective settings (vauthd --print-config); load with vauthd --config FILE\n";
  out << top.settings() << "\n";
  for (size_t i = 0; i < devices.size(); ++i) {
    toml::table diff;
    for (const auto& [k, v] : devices[i].settings()) {
      const auto* top_value = top.settings().get(k.str());
      if (!top_value || toml_text(*top_value) != toml_text(v)) diff.insert(k, v);
    }
    for (const auto& [k, v] : top.settings()) {
      if (!devices[i].settings().contains(k.str())) out << "# device " << i + 1 << " does not set " << k.str() << "\n";
    }
    out << "\n[[device]]  # device " << i + 1 << "\n" << diff << "\n";
  }
  if (const auto& file = top.state().file) {
    toml::table personas;
    for (const toml::table* t : file->personas()) {
      for (const auto& [name, body] : *t) personas.insert(name, body);
    }
    if (!personas.empty()) {
      toml::table root;
      root.insert("personas", std::move(personas));
      out << "\n" << root << "\n";
    }
  }
  return out.str();
}

ParseResult parse_all(int argc, const char* const argv[], std::shared_ptr<ConfigState> state) {
  OptionSources top(state, std::nullopt);
  ParseResult r = located(resolve(argc, argv, top), top);
  if (!r.options) return r;
  DaemonOptions& o = *r.options;

  const size_t tables = state->file ? state->file->devices().size() : 0;
  if (tables > 16) return fail(state->file->name + ": at most 16 [[device]] tables");
  if (tables > o.devices) {
    if (top.is_set("devices")) {
      return located(fail("--devices " + std::to_string(o.devices) + " is fewer than the " + std::to_string(tables) +
                          " [[device]] tables of " + state->file->name),
                     top);
    }
    o.devices = tables;
  }
  std::vector<OptionSources> device_sources;
  for (size_t i = 0; i < o.devices; ++i) {
    DaemonOptions d = o;
    bool sets_seed = false, sets_serial = false;
    if (i < tables) {
      device_sources.emplace_back(state, i);
      ParseResult dr = located(resolve(argc, argv, device_sources.back()), device_sources.back());
      if (!dr.options) return dr;
      d = std::move(*dr.options);
      sets_seed = device_sources.back().device_sets("seed");
      sets_serial = device_sources.back().device_sets("serial");
    }
    d.device_options.clear();
    if (d.seed && !sets_seed) *d.seed += i;  // keys of one daemon differ, reproducibly
    if (o.devices > 1 && !sets_serial) d.hid.serial += "-" + std::to_string(i + 1);
    o.device_options.push_back(std::move(d));
  }
  if (top.is_set("print-config")) return ParseResult{std::nullopt, 0, effective_config(top, device_sources)};
  return r;
}

}  // namespace

ParseResult parse_options(int argc, const char* const argv[]) {
  return parse_all(argc, argv, std::make_shared<ConfigState>());
}

ParseResult parse_options(int argc, const char* const argv[], std::string_view config_text,
                          const std::string& config_name) {
  auto state = std::make_shared<ConfigState>();
  state->file_given = true;
  try {
    state->file = parse_config(config_text, config_name);
  } catch (const ConfigError& e) {
    return fail(e.what());
  }
  return parse_all(argc, argv, state);
}

}  // namespace vauth::daemon
