#include "vauth/daemon/persona_capture.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "transports/ctaphid_packet.h"
#include "vauth/cbor/codec.h"

namespace vauth::daemon {
namespace {

namespace hid = transport::ctaphid;
using cbor::Value;

const Value* field(const Value::Map& m, int64_t key) {
  auto it = m.find(Value(key));
  return it == m.end() ? nullptr : &it->second;
}

std::optional<uint64_t> unsigned_field(const Value::Map& m, int64_t key) {
  const Value* v = field(m, key);
  if (!v || !v->is_unsigned()) return std::nullopt;
  return v->as_unsigned();
}

// The text strings of an array field (other items ignored).
std::vector<std::string> strings(const Value::Map& m, int64_t key) {
  std::vector<std::string> out;
  const Value* v = field(m, key);
  if (!v || !v->is_array()) return out;
  for (const Value& e : v->as_array()) {
    if (e.is_text()) out.push_back(e.as_text());
  }
  return out;
}

// Splits `all` into what vauth knows (kept, in order) and the rest (reported).
toml::array known(const std::vector<std::string>& all, const std::set<std::string>& allowed, const std::string& what,
                  std::vector<std::string>& left_out) {
  toml::array out;
  for (const std::string& s : all) {
    if (allowed.count(s))
      out.push_back(s);
    else
      left_out.push_back(what + " " + s);
  }
  return out;
}

std::string aaguid_text(const Bytes& b) {
  std::string hex = to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

// Text from the key (or the command line) for a TOML comment: printable ASCII
// only, so a hostile key cannot end the comment and write keys of its own.
std::string comment_text(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  return out;
}

int64_t clamp(uint64_t v, int64_t lo, int64_t hi) {
  return static_cast<int64_t>(std::clamp<uint64_t>(v, static_cast<uint64_t>(lo), static_cast<uint64_t>(hi)));
}

}  // namespace

Expected<std::string, std::string> persona_from_get_info(ByteView response, const std::string& name,
                                                         const CaptureIdentity& identity) {
  if (response.empty()) return unexpected(std::string("the getInfo answer is empty"));
  if (response[0] != 0x00) {
    char status[8];
    std::snprintf(status, sizeof status, "0x%02x", response[0]);
    return unexpected(std::string("the key answered getInfo with status ") + status);
  }
  auto decoded = cbor::decode(response.subspan(1));
  if (!decoded)
    return unexpected(std::string("the getInfo answer is not CTAP2 canonical CBOR: ") +
                      cbor::to_string(decoded.error()));
  if (!decoded->is_map()) return unexpected(std::string("the getInfo answer is not a CBOR map"));
  const Value::Map& info = decoded->as_map();

  toml::table p;
  std::vector<std::string> left_out;
  p.insert("description", "captured from " + (identity.product.empty() ? identity.source : identity.product) +
                              " by vauthd --capture-persona");
  p.insert("base", "default");
  p.insert("ctap2", true);

  const std::vector<std::string> versions = strings(info, 0x01);
  if (versions.empty()) return unexpected(std::string("the getInfo answer has no versions (0x01)"));
  p.insert("versions",
           known(versions, {"U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE", "FIDO_2_1", "FIDO_2_2"}, "version", left_out));
  if (std::find(versions.begin(), versions.end(), "U2F_V2") == versions.end()) p.insert("no-u2f", true);
  p.insert("extensions", known(strings(info, 0x02),
                               {"credProtect", "hmac-secret", "hmac-secret-mc", "credBlob", "largeBlobKey",
                                "minPinLength", "thirdPartyPayment"},
                               "extension", left_out));
  const Value* aaguid = field(info, 0x03);
  if (!aaguid || !aaguid->is_bytes() || aaguid->as_bytes().size() != 16) {
    return unexpected(std::string("the getInfo answer has no 16-byte aaguid (0x03)"));
  }
  p.insert("aaguid", aaguid_text(aaguid->as_bytes()));

  // Options: the ones that are persona switches, and the commands they imply.
  std::map<std::string, bool> options;
  if (const Value* o = field(info, 0x04); o && o->is_map()) {
    for (const auto& [k, v] : o->as_map()) {
      if (k.is_text() && v.is_bool()) options[k.as_text()] = v.as_bool();
    }
  }
  auto has = [&](const char* option) { return options.count(option) > 0; };
  if (has("rk")) p.insert("resident-keys", options["rk"]);
  p.insert("pin-uv-auth-token", has("pinUvAuthToken") && options["pinUvAuthToken"]);
  p.insert("make-cred-uv-not-required", has("makeCredUvNotRqd") && options["makeCredUvNotRqd"]);
  toml::array commands;
  for (const char* c : {"makeCredential", "getAssertion", "getInfo"}) commands.push_back(std::string(c));
  std::vector<int64_t> pin_protocols;
  if (const Value* a = field(info, 0x06); a && a->is_array()) {
    for (const Value& e : a->as_array()) {
      if (e.is_unsigned() && (e.as_unsigned() == 1 || e.as_unsigned() == 2) &&
          std::find(pin_protocols.begin(), pin_protocols.end(), static_cast<int64_t>(e.as_unsigned())) ==
              pin_protocols.end()) {
        pin_protocols.push_back(static_cast<int64_t>(e.as_unsigned()));
      }
    }
  }
  if (has("clientPin") || !pin_protocols.empty()) commands.push_back("clientPIN");
  commands.push_back("reset");
  commands.push_back("getNextAssertion");
  if (has("credMgmt")) commands.push_back("credentialManagement");
  if (has("credentialMgmtPreview")) commands.push_back("credentialManagementPreview");
  if (has("bioEnroll")) commands.push_back("bioEnrollment");
  if (has("userVerificationMgmtPreview")) commands.push_back("bioEnrollmentPreview");
  if (has("largeBlobs")) commands.push_back("largeBlobs");
  if (has("authnrCfg")) commands.push_back("config");
  if (std::find(versions.begin(), versions.end(), "FIDO_2_1") != versions.end()) commands.push_back("selection");
  p.insert("commands", std::move(commands));
  if (!pin_protocols.empty()) {
    toml::array a;
    for (int64_t v : pin_protocols) a.push_back(v);
    p.insert("pin-protocols", std::move(a));
  } else {
    left_out.push_back("no PIN protocols (vauth keeps protocol 1 and 2 of its base)");
  }
  if (has("uv") || has("bioEnroll"))
    left_out.push_back("built-in UV: start the emulated key with --uv auto / --fingerprints N");

  if (auto v = unsigned_field(info, 0x05)) p.insert("max-message-size", clamp(*v, 64, 7609));
  if (auto v = unsigned_field(info, 0x07)) p.insert("max-credential-count-in-list", clamp(*v, 1, 1000));
  if (auto v = unsigned_field(info, 0x08)) p.insert("max-credential-id-length", clamp(*v, 64, 1024));
  p.insert("transports", known(strings(info, 0x09), {"usb", "nfc", "ble", "smart-card", "hybrid", "internal"},
                               "transport", left_out));
  if (const Value* a = field(info, 0x0A); a && a->is_array()) {
    toml::array algorithms;
    for (const Value& e : a->as_array()) {
      if (!e.is_map()) continue;
      auto alg = e.as_map().find(Value("alg"));
      if (alg == e.as_map().end() || !alg->second.is_integer() || !alg->second.fits_int64()) continue;
      switch (alg->second.as_int()) {
        case -7: algorithms.push_back("es256"); break;
        case -8: algorithms.push_back("eddsa"); break;
        case -35: algorithms.push_back("es384"); break;
        case -257: algorithms.push_back("rs256"); break;
        default: left_out.push_back("algorithm " + std::to_string(alg->second.as_int()));
      }
    }
    if (!algorithms.empty()) p.insert("algorithms", std::move(algorithms));
  }
  if (auto v = unsigned_field(info, 0x0D)) p.insert("min-pin-length", clamp(*v, 4, 63));
  if (auto v = unsigned_field(info, 0x0E)) p.insert("firmware-version", clamp(*v, 0, UINT32_MAX));
  if (auto v = unsigned_field(info, 0x14)) p.insert("max-resident-credentials", clamp(*v, 0, 1'000'000));
  if (!identity.product.empty()) p.insert("name", identity.product);
  if (identity.vendor_id || identity.product_id) {
    char id[8];
    std::snprintf(id, sizeof id, "%04x", identity.vendor_id);
    p.insert("vid", std::string(id));
    std::snprintf(id, sizeof id, "%04x", identity.product_id);
    p.insert("pid", std::string(id));
  }

  toml::table personas;
  personas.insert(name, std::move(p));
  toml::table root;
  root.insert("personas", std::move(personas));
  std::ostringstream out;
  out << "# A persona captured by `vauthd --capture-persona` from " << comment_text(identity.source) << ".\n"
      << "# Use it with: vauthd --config THIS_FILE --persona " << comment_text(name) << "\n"
      << "# Its attestation is vauth's own: relying parties that pin the vendor's root will not trust it.\n";
  for (const std::string& s : left_out) out << "# not emulated: " << comment_text(s) << "\n";
  out << root << "\n";
  return out.str();
}

Bytes fetch_get_info(boost::asio::io_context& io, transport::Upstream& upstream, Duration timeout) {
  std::array<uint8_t, 8> nonce{0x76, 0x61, 0x75, 0x74, 0x68, 0x63, 0x61, 0x70};  // "vauthcap"
  uint32_t cid = 0;
  std::optional<hid::Reassembly> answer;
  std::optional<Bytes> result;
  std::string error;
  auto send = [&](uint32_t c, uint8_t cmd, ByteView payload) {
    hid::frame_message(c, cmd, payload, [&](const transport::Report& r) { upstream.send(r); });
  };
  upstream.start(
      [&](const transport::Report& r) {
        const hid::Packet p = hid::parse_packet(r);
        if (p.is_init && p.cmd == transport::ctaphid_cmd::kInit && p.cid == transport::kBroadcastCid && cid == 0 &&
            p.bcnt >= 17 && std::equal(nonce.begin(), nonce.end(), p.data.begin())) {
          cid = get_u32_be(p.data.data() + 8);
          send(cid, transport::ctaphid_cmd::kCbor, Bytes{0x04});  // authenticatorGetInfo
          return;
        }
        if (cid == 0 || p.cid != cid) return;
        if (p.is_init) {
          if (p.cmd == transport::ctaphid_cmd::kKeepalive) return;
          if (p.cmd != transport::ctaphid_cmd::kCbor) {
            error =
                "the key answered getInfo with CTAPHID command " + std::to_string(p.cmd) +
                (p.cmd == transport::ctaphid_cmd::kError && p.bcnt >= 1 ? " (error " + std::to_string(p.data[0]) + ")"
                                                                        : "");
            return io.stop();
          }
          answer.emplace(p.cid, p.cmd, p.bcnt, p.data);
        } else if (answer) {
          answer->add(p.seq, p.data);
        }
        if (answer && answer->complete()) {
          result = answer->take_payload();
          io.stop();
        }
      },
      [&](const std::string& why) {
        error = why;
        io.stop();
      });
  send(transport::kBroadcastCid, transport::ctaphid_cmd::kInit, nonce);
  boost::asio::steady_timer timer(io, std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
  bool timed_out = false;
  timer.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    io.stop();
  });
  io.restart();
  io.run();
  timer.cancel();
  if (result) return *result;
  if (!error.empty()) throw std::runtime_error("--capture-persona: " + error);
  if (timed_out) {
    throw std::runtime_error("--capture-persona: " + upstream.describe() + " did not answer " +
                             (cid == 0 ? std::string("CTAPHID_INIT") : std::string("getInfo")) + " within " +
                             std::to_string(timeout.count()) + " ms");
  }
  throw std::runtime_error("--capture-persona: stopped before the key answered");
}

}  // namespace vauth::daemon
