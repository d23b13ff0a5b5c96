// A MessageHandler decorator: the CTAP2 and U2F fault layer. Before each
// request it asks the FaultPlan (layer "ctap" for CBOR, "u2f" for APDUs) and
// then, as the fired rules say:
//   status=X      answers X without running the command (Chromium's override_response_map);
//   stall         answers nothing until the client cancels (then KEEPALIVE_CANCEL / SW);
//   delay=MS      runs the command and holds the answer MS ms (keepalives continue);
//   authData faults (bad-rpid-hash, flip-up/uv, counter-*, extra-extension) are
//                 armed for signing through AuthDataFaults;
//   response faults (bad-signature, malformed/noncanonical CBOR, missing-field,
//                 broken-chain) rewrite the encoded answer with vauth/cbor.
// With no rules for its layer it is a plain pass-through.
#pragma once

#include <optional>
#include <vector>

#include "vauth/base/timer_queue.h"
#include "vauth/ctap/auth_data_faults.h"
#include "vauth/ctap/message_handler.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::ctap {

class FaultHandler final : public MessageHandler {
 public:
  FaultHandler(MessageHandler& inner, faults::FaultPlan& plan, TimerQueue& timers, AuthDataFaults& auth_data)
      : inner_(inner), plan_(plan), timers_(timers), auth_data_(auth_data) {}
  ~FaultHandler() override;

  void handle_cbor(ByteView request, Reply reply) override;
  void handle_msg(ByteView apdu, Reply reply) override;
  void cancel() override;
  bool waiting_for_user() const override { return !stalled_ && inner_.waiting_for_user(); }
  void wink() override { inner_.wink(); }
  bool supports_cbor() const override { return inner_.supports_cbor(); }
  bool supports_msg() const override { return inner_.supports_msg(); }

 private:
  struct Stalled {
    Reply reply;
    Bytes on_cancel;  // what the cancelled request answers
  };
  // Sends `response` now, or after the fired delay.
  void deliver(Reply reply, Bytes response, const std::vector<faults::Fired>& fired);

  MessageHandler& inner_;
  faults::FaultPlan& plan_;
  TimerQueue& timers_;
  AuthDataFaults& auth_data_;
  std::optional<Stalled> stalled_;
  std::vector<TimerQueue::TimerId> delays_;
};

// The plan's view of a CTAP2 request: command name, subCommand (clientPIN,
// credentialManagement, ...) and the extensions it carries.
faults::Call describe_ctap2_request(ByteView request);

// Rewrites an encoded CTAP2 response (status byte + CBOR) as the response
// faults among `fired` say. `command` is the request's command byte.
Bytes mutate_ctap2_response(Bytes response, uint8_t command, const std::vector<faults::Fired>& fired);

}  // namespace vauth::ctap
