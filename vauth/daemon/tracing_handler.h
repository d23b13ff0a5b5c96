// A ctap::MessageHandler decorator that reports every CTAP request and its
// response on the event bus (command name, status name, size, duration), then
// passes everything through unchanged. It sits between the CTAPHID engine and
// the authenticator, so neither layer knows it is being watched.
#pragma once

#include <string>

#include "vauth/base/clock.h"
#include "vauth/ctap/message_handler.h"
#include "vauth/daemon/event_bus.h"

namespace vauth::daemon {

class ProtocolTrace;

class TracingHandler final : public ctap::MessageHandler {
 public:
  // `trace` (optional): also write each message decoded to the --trace file.
  TracingHandler(ctap::MessageHandler& inner, EventBus* events, size_t device, const Clock& clock,
                 ProtocolTrace* trace = nullptr)
      : inner_(inner), events_(events), device_(device), clock_(clock), trace_(trace) {}

  void handle_cbor(ByteView request, Reply reply) override;
  void handle_msg(ByteView apdu, Reply reply) override;
  void cancel() override;
  bool waiting_for_user() const override { return inner_.waiting_for_user(); }
  void wink() override;
  bool supports_cbor() const override { return inner_.supports_cbor(); }
  bool supports_msg() const override { return inner_.supports_msg(); }

 private:
  Reply traced(std::string protocol, std::string command, uint8_t command_byte, Reply reply);

  ctap::MessageHandler& inner_;
  EventBus* events_;  // null: pass through without tracing
  size_t device_;
  const Clock& clock_;
  ProtocolTrace* trace_;  // null: no --trace/--pcap
};

// "makeCredential", "clientPIN", ... or "0x42" for bytes no command owns.
std::string ctap2_command_name(uint8_t command);
// "u2fRegister", "u2fAuthenticate", "u2fVersion" or "u2f 0x42".
std::string u2f_instruction_name(ByteView apdu);
// "SW_NO_ERROR" style names of ISO 7816 status words, or the hex.
std::string u2f_status_name(uint16_t sw);

}  // namespace vauth::daemon
