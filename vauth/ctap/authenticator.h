// The authenticator: a ctap::MessageHandler that answers CTAP2 (CBOR) and
// CTAP1/U2F (APDU) messages. It owns no threads and no I/O: time, randomness,
// user presence and state come in through Environment.
#pragma once

#include <memory>

#include "store/store.h"
#include "vauth/cbor/value.h"
#include "vauth/base/timer_queue.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/message_handler.h"
#include "vauth/ctap/presence.h"
#include "vauth/ctap/profile.h"
#include "vauth/ctap/user_verifier.h"

namespace vauth::ctap {

class AuthDataFaults;

struct Environment {
  store::Store& store;
  crypto::Rng& rng;
  TimerQueue& timers;
  Presence& presence;
  Profile profile;
  // The fingerprint sensor; without one, every reading matches (when the
  // profile has built-in UV and a finger is enrolled).
  UserVerifier* user_verifier = nullptr;
  // The CTAP fault layer's hook into signing (see auth_data_faults.h); optional.
  AuthDataFaults* auth_data_faults = nullptr;
};

class Session;
struct Response;

class Authenticator final : public MessageHandler {
 public:
  // Provisions the store on first use (master secret, attestation CA and batch
  // certificate) and powers up.
  explicit Authenticator(Environment env);
  ~Authenticator() override;
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  void handle_cbor(ByteView request, Reply reply) override;
  void handle_msg(ByteView apdu, Reply reply) override;
  void cancel() override;
  bool waiting_for_user() const override;
  void wink() override;
  bool supports_cbor() const override;
  bool supports_msg() const override;

  // Unplug and re-plug: the PIN token, the key-agreement key, the consecutive
  // PIN failure count and any getNextAssertion state start over.
  void power_cycle();

  const Profile& profile() const;
  // What authenticatorGetInfo answers now, for the control API: the command's
  // own code, without a command's side effects (an enumeration or
  // getNextAssertion in progress carries on).
  cbor::Value info() const;
  // The attestation CA certificate (DER) a relying party can trust for this key.
  Bytes attestation_ca_certificate() const;
  size_t wink_count() const;

 private:
  void dispatch(Session& s, ByteView request, const std::function<void(Response)>& done);

  std::unique_ptr<Session> session_;
};

}  // namespace vauth::ctap
