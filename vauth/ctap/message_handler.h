// The single seam between transports and the authenticator: whole CTAP messages
// in, whole responses out. A transport (the CTAPHID engine) includes only this
// header from vauth/ctap.
#pragma once

#include <functional>

#include "vauth/base/bytes.h"

namespace vauth::ctap {

class MessageHandler {
 public:
  // Called exactly once per request, synchronously or later (e.g. after the user
  // touched the key). Never called after the handler is destroyed.
  using Reply = std::function<void(Bytes response)>;

  virtual ~MessageHandler() = default;

  // CTAPHID_CBOR: request = command byte || CBOR parameters;
  // response = status byte || CBOR.
  virtual void handle_cbor(ByteView request, Reply reply) = 0;
  // CTAPHID_MSG: request = an ISO 7816-4 APDU (CTAP1/U2F); response = data || SW1 SW2.
  virtual void handle_msg(ByteView apdu, Reply reply) = 0;
  // The client gave up on the pending request (CTAPHID_CANCEL, or the channel was
  // re-initialised). The pending request still replies — with
  // CTAP2_ERR_KEEPALIVE_CANCEL — synchronously or later. No-op when idle.
  virtual void cancel() = 0;
  // While a request is pending: true if it waits for the user (KEEPALIVE UPNEEDED),
  // false if it is computing (KEEPALIVE PROCESSING).
  virtual bool waiting_for_user() const = 0;
  // CTAPHID_WINK: identify yourself (a log line / event for a virtual key).
  virtual void wink() = 0;

  // Reported in the CTAPHID_INIT capability flags.
  virtual bool supports_cbor() const = 0;
  virtual bool supports_msg() const = 0;
};

}  // namespace vauth::ctap
