#include "vauth/daemon/protocol_trace.h"

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "vauth/cbor/codec.h"
#include "vauth/ctap/status.h"
#include "vauth/daemon/pcapng_writer.h"
#include "vauth/daemon/tracing_handler.h"

namespace vauth::daemon {
namespace {

std::string hex_of(uint64_t v, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The CBOR parameters of a request or response in diagnostic notation, or why not.
std::string cbor_diagnostic(ByteView body) {
  if (body.empty()) return "";
  auto decoded = cbor::decode(body);
  if (!decoded) return "(not canonical CBOR: " + to_hex(body) + ")";
  return cbor::diagnostic(*decoded);
}

// The subcommand key of commands that have one (CTAP 2.1 §6.5, §6.7, §6.8, §6.11).
std::optional<int64_t> subcommand(uint8_t command, ByteView body) {
  int64_t key = 0;
  switch (command) {
    case ctap::command::kClientPin:
    case ctap::command::kCredentialManagement:
    case ctap::command::kCredentialManagementPreview:
    case ctap::command::kConfig: key = 0x01; break;
    case ctap::command::kBioEnrollment:
    case 0x40: key = 0x02; break;
    default: return std::nullopt;
  }
  auto decoded = cbor::decode(body);
  if (!decoded || !decoded->is_map()) return std::nullopt;
  auto it = decoded->as_map().find(cbor::Value(key));
  if (it == decoded->as_map().end() || !it->second.is_integer()) return std::nullopt;
  return it->second.as_int();
}

void create_private(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create the trace file " + path);
  ::close(fd);
}

}  // namespace

std::string ctaphid_command_name(uint8_t command) {
  switch (command) {
    case 0x01: return "PING";
    case 0x03: return "MSG";
    case 0x04: return "LOCK";
    case 0x06: return "INIT";
    case 0x08: return "WINK";
    case 0x10: return "CBOR";
    case 0x11: return "CANCEL";
    case 0x3b: return "KEEPALIVE";
    case 0x3f: return "ERROR";
  }
  return hex_of(command, 2);
}

ProtocolTrace::ProtocolTrace(const std::string& json_path, const std::string& pcap_path) {
  if (!json_path.empty()) {
    create_private(json_path);
    json_.open(json_path, std::ios::trunc);
    if (!json_) throw std::runtime_error("cannot write the trace file " + json_path);
  }
  if (!pcap_path.empty()) pcap_ = std::make_unique<PcapngWriter>(pcap_path);
}

ProtocolTrace::~ProtocolTrace() = default;

void ProtocolTrace::write(nlohmann::json line) {
  if (!json_.is_open()) return;
  line["time"] = unix_time();
  json_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  json_.flush();  // readable while vauthd runs, complete after a kill
}

void ProtocolTrace::device_added(size_t device, const transport::HidDeviceInfo& info) {
  if (pcap_) pcap_->add_device(static_cast<uint8_t>(device), info);
}

void ProtocolTrace::packet(size_t device, bool host_to_device, ByteView report) {
  if (pcap_) pcap_->report(static_cast<uint8_t>(device), host_to_device, report);
  if (!json_.is_open() || report.size() < 5) return;
  nlohmann::json line = {{"type", "ctaphid"}, {"device", device}, {"dir", host_to_device ? "out" : "in"},
                         {"cid", hex_of(get_u32_be(report.data()), 8)}};
  const uint8_t b = report[4];
  if (b & 0x80) {
    line["cmd"] = ctaphid_command_name(b & 0x7f);
    if (report.size() >= 7) line["bcnt"] = report[5] << 8 | report[6];
  } else {
    line["seq"] = b;
  }
  line["hex"] = to_hex(report);
  write(std::move(line));
}

void ProtocolTrace::ctap2_request(size_t device, ByteView request) {
  if (!json_.is_open()) return;
  nlohmann::json line = {{"type", "ctap.request"}, {"device", device}, {"protocol", "ctap2"}};
  if (request.empty()) {
    line["command"] = "(empty)";
  } else {
    line["command"] = ctap2_command_name(request[0]);
    const ByteView body = request.subspan(1);
    if (auto sub = subcommand(request[0], body)) line["subcommand"] = *sub;
    if (!body.empty()) line["cbor"] = cbor_diagnostic(body);
  }
  write(std::move(line));
}

void ProtocolTrace::ctap2_response(size_t device, uint8_t command, ByteView response, double elapsed_ms) {
  if (!json_.is_open()) return;
  nlohmann::json line = {{"type", "ctap.response"}, {"device", device}, {"protocol", "ctap2"},
                         {"command", ctap2_command_name(command)}, {"elapsed_ms", elapsed_ms}};
  if (response.empty()) {
    line["status"] = "(empty)";
  } else {
    line["status"] = ctap::to_string(static_cast<ctap::Status>(response[0]));
    if (response.size() > 1) line["cbor"] = cbor_diagnostic(response.subspan(1));
  }
  write(std::move(line));
}

void ProtocolTrace::u2f_request(size_t device, ByteView apdu) {
  write({{"type", "ctap.request"}, {"device", device}, {"protocol", "u2f"}, {"command", u2f_instruction_name(apdu)},
         {"apdu", to_hex(apdu)}});
}

void ProtocolTrace::u2f_response(size_t device, ByteView response, double elapsed_ms) {
  const uint16_t sw = response.size() >= 2 ? static_cast<uint16_t>(response[response.size() - 2] << 8 |
                                                                   response[response.size() - 1])
                                           : 0;
  write({{"type", "ctap.response"}, {"device", device}, {"protocol", "u2f"}, {"status", u2f_status_name(sw)},
         {"hex", to_hex(response)}, {"elapsed_ms", elapsed_ms}});
}

}  // namespace vauth::daemon
