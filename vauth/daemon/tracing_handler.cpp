#include "vauth/daemon/tracing_handler.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "vauth/ctap/command_names.h"
#include "vauth/ctap/status.h"
#include "vauth/daemon/protocol_trace.h"

namespace vauth::daemon {
namespace {

std::string hex_byte(unsigned v, int digits = 2) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%0*x", digits, v);
  return buf;
}

}  // namespace

std::string ctap2_command_name(uint8_t command) { return ctap::command_name(command); }

std::string u2f_instruction_name(ByteView apdu) { return ctap::u2f_instruction_name(apdu); }

std::string u2f_status_name(uint16_t sw) {
  switch (sw) {
    case 0x9000: return "SW_NO_ERROR";
    case 0x6985: return "SW_CONDITIONS_NOT_SATISFIED";
    case 0x6a80: return "SW_WRONG_DATA";
    case 0x6700: return "SW_WRONG_LENGTH";
    case 0x6d00: return "SW_INS_NOT_SUPPORTED";
    case 0x6e00: return "SW_CLA_NOT_SUPPORTED";
  }
  return hex_byte(sw, 4);
}

TracingHandler::Reply TracingHandler::traced(std::string protocol, std::string command, uint8_t command_byte,
                                             Reply reply) {
  const TimePoint start = clock_.now();
  // Captures `this`: the authenticator never replies after it is destroyed, and
  // it is destroyed before this wrapper (VirtualDevice's member order).
  return [this, protocol, command, command_byte, start, reply = std::move(reply)](Bytes response) {
    if (trace_) {
      const double ms = std::chrono::duration<double, std::milli>(clock_.now() - start).count();
      if (protocol == "ctap2") trace_->ctap2_response(device_, command_byte, response, ms);
      else trace_->u2f_response(device_, response, ms);
    }
    if (!events_) return reply(std::move(response));
    nlohmann::json e = {{"device", device_}, {"protocol", protocol}, {"command", command},
                        {"length", response.size()},
                        {"elapsed_ms", (clock_.now() - start).count()}};
    if (protocol == "ctap2") {
      e["status"] = response.empty() ? "(empty)" : ctap::to_string(static_cast<ctap::Status>(response[0]));
    } else {
      const uint16_t sw = response.size() >= 2 ? static_cast<uint16_t>(response[response.size() - 2] << 8 |
                                                                        response[response.size() - 1])
                                               : 0;
      e["status"] = u2f_status_name(sw);
    }
    events_->publish("ctap.response", std::move(e));
    reply(std::move(response));
  };
}

void TracingHandler::handle_cbor(ByteView request, Reply reply) {
  if (!events_ && !trace_) return inner_.handle_cbor(request, std::move(reply));
  const std::string command = request.empty() ? "(empty)" : ctap2_command_name(request[0]);
  if (trace_) trace_->ctap2_request(device_, request);
  if (events_) {
    events_->publish("ctap.request", {{"device", device_}, {"protocol", "ctap2"}, {"command", command},
                                      {"length", request.size()}});
  }
  inner_.handle_cbor(request, traced("ctap2", command, request.empty() ? 0 : request[0], std::move(reply)));
}

void TracingHandler::handle_msg(ByteView apdu, Reply reply) {
  if (!events_ && !trace_) return inner_.handle_msg(apdu, std::move(reply));
  const std::string command = u2f_instruction_name(apdu);
  if (trace_) trace_->u2f_request(device_, apdu);
  if (events_) {
    events_->publish("ctap.request", {{"device", device_}, {"protocol", "u2f"}, {"command", command},
                                      {"length", apdu.size()}});
  }
  inner_.handle_msg(apdu, traced("u2f", command, 0, std::move(reply)));
}

void TracingHandler::cancel() {
  if (events_) events_->publish("ctap.cancel", {{"device", device_}});
  inner_.cancel();
}

void TracingHandler::wink() {
  if (events_) events_->publish("ctap.wink", {{"device", device_}});
  inner_.wink();
}

}  // namespace vauth::daemon
