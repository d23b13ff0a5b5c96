// --trace and --pcap: what went over the wire, for people and for Wireshark.
// ProtocolTrace writes JSON lines: every CTAPHID packet (direction, CID,
// command or sequence number, hex) and every CTAP request and response
// decoded (command and subcommand names, CBOR in diagnostic notation, status
// names, timing). VirtualDevice hands it each report and TracingHandler each
// whole message, only when tracing is on (a null pointer otherwise), so an
// untraced daemon does no per-packet work.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "transports/hid_endpoint.h"
#include "vauth/base/bytes.h"

namespace vauth::daemon {

class PcapngWriter;

class ProtocolTrace {
 public:
  // Either file may be empty (that output off). Files are created 0600. Throws on failure.
  ProtocolTrace(const std::string& json_path, const std::string& pcap_path);
  ~ProtocolTrace();

  void device_added(size_t device, const transport::HidDeviceInfo& info);
  void packet(size_t device, bool host_to_device, ByteView report);
  void ctap2_request(size_t device, ByteView request);
  void ctap2_response(size_t device, uint8_t command, ByteView response, double elapsed_ms);
  void u2f_request(size_t device, ByteView apdu);
  void u2f_response(size_t device, ByteView response, double elapsed_ms);

 private:
  void write(nlohmann::json line);

  std::ofstream json_;
  std::unique_ptr<PcapngWriter> pcap_;
};

// "INIT", "CBOR", ... for a CTAPHID command byte (without the 0x80 bit).
std::string ctaphid_command_name(uint8_t command);

}  // namespace vauth::daemon
