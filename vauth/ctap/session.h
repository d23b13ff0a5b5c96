// The authenticator's working state, shared by the command files (internal to
// vauth/ctap). Persistent state lives in the store; what is here is volatile and
// starts over on power_cycle().
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vauth/cbor/value.h"
#include "vauth/ctap/auth_data.h"
#include "vauth/ctap/authenticator.h"
#include "vauth/ctap/credential_id.h"
#include "vauth/ctap/credential_management.h"
#include "vauth/ctap/extensions.h"
#include "vauth/ctap/large_blobs.h"
#include "vauth/ctap/pin_token.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {

// A command's outcome: a status and, for CTAP2_OK, an optional CBOR body.
struct Response {
  Status status = Status::Ok;
  std::optional<cbor::Value> body;
};
inline Response error(Status s) { return Response{s, std::nullopt}; }
using Done = std::function<void(Response)>;

// Volatile PIN protocol state (CTAP 2.1 §6.5.5: regenerated at power-up).
struct PinSession {
  std::optional<crypto::PrivateKey> key_agreement;  // authenticatorKeyAgreementKey
  uint8_t consecutive_failures = 0;                 // PIN_AUTH_BLOCKED at 3 until power cycle
};

// A fingerprint enrollment between enrollBegin and its last sample (volatile).
struct PendingEnrollment {
  Bytes template_id;
  uint8_t remaining = 0;  // samples still needed
};

// What authenticatorGetNextAssertion continues (CTAP 2.0 §5.3).
struct PendingAssertions {
  std::string rp_id;
  Bytes client_data_hash;
  std::vector<Bytes> credential_ids;  // still to return, in order
  bool user_present = false;
  bool user_verified = false;
  size_t total = 0;
  TimePoint expires;
  GetAssertionExtensions extensions;  // applied to each of the remaining credentials too
};

class Session {
 public:
  explicit Session(Environment env);

  store::Store& store;
  crypto::Rng& rng;
  TimerQueue& timers;
  Presence& presence;
  const Profile profile;
  std::unique_ptr<UserVerifier> own_verifier;  // when the environment brought none
  UserVerifier& verifier;
  AuthDataFaults* auth_data_faults;
  // Answers the request in flight with a status; set per request by the
  // Authenticator, used when a store commit fails inside a continuation.
  std::function<void(Status)> fail_request;

  PinSession pin;
  PinUvAuthToken token;
  CredentialEnumeration enumeration;
  std::optional<PendingAssertions> pending_assertions;
  LargeBlobWrite large_blob_write;
  std::optional<PendingEnrollment> enrollment;
  TimePoint powered_up;
  bool waiting_for_user = false;
  bool waiting_for_uv = false;  // the wait is for the fingerprint sensor, not the button
  bool closed = false;  // the authenticator is going away: late presence answers are dropped
  size_t winks = 0;
  // U2F: presence granted by a touch, consumed by the next U2F request that needs it.
  std::optional<TimePoint> u2f_presence_until;
  bool u2f_presence_requested = false;

  const store::State& state() const { return store.state(); }
  bool pin_set() const { return state().pin_hash.has_value(); }
  // Built-in UV is "configured" once a finger is enrolled (getInfo "uv": true).
  bool uv_configured() const { return profile.built_in_uv && !state().enrollments.empty(); }
  // "Protected by some form of user verification" (CTAP 2.1 §6.1.2): a PIN or an enrolled finger.
  bool protected_by_uv() const { return pin_set() || uv_configured(); }
  bool always_uv() const { return state().config.always_uv; }
  // The minimum PIN length in code points: the profile's, or more after setMinPINLength.
  size_t min_pin_length() const;
  // CTAP 2.2 pinComplexityPolicy: on from the profile, or since setMinPINLength turned it on.
  bool pin_complexity_policy() const { return profile.pin_complexity_policy || state().config.pin_complexity_policy; }

  // The credential `id` names for this RP, if it is ours: it unwraps under our
  // master secret and, if discoverable, the store still holds it.
  std::optional<CredentialSecret> credential(ByteView rp_id_hash, ByteView id) const;
  // The same for CTAP2 commands, which a quirk may keep from seeing U2F key handles.
  std::optional<CredentialSecret> ctap2_credential(ByteView rp_id_hash, ByteView id) const;
  // The credProtect level (1..3) of a credential credential() returned: the store's
  // for a discoverable one, else the level its ID carries.
  uint8_t cred_protect(const CredentialSecret& secret, ByteView id) const;

  // Asks the user to touch the key. `then` receives Ok, or the status that
  // ends the request: OPERATION_DENIED, USER_ACTION_TIMEOUT, KEEPALIVE_CANCEL.
  void request_presence(PresenceRequest req, std::function<void(Status)> then);
  // performBuiltInUv (built_in_uv.cpp): one sensor reading with uvRetries kept
  // durably. `then` receives Ok (a match, which is also user presence), or
  // UV_BLOCKED, UV_INVALID, USER_ACTION_TIMEOUT, KEEPALIVE_CANCEL.
  void verify_user(UvRequest req, std::function<void(Status)> then);
  // One reading for bio enrollment (no retry counter involved), with the same
  // waiting state (KEEPALIVE UPNEEDED, CANCEL) as verify_user.
  void read_sensor(UvRequest req, std::function<void(UvResult)> then);
  // CTAPHID_CANCEL: ends whatever the authenticator waits for (button or sensor).
  void cancel_user_wait();
  // The last step before authData is signed: the fault layer's hook (a no-op without one).
  void before_signing(AuthData& ad);
  // Increments and persists the global signature counter; returns the new value.
  uint32_t next_sign_count();
  // Power-up state: new key-agreement key, no token, failures forgotten.
  void power_up();
  // A new authenticatorKeyAgreementKey (at power-up, after a wrong PIN, on reset).
  void regenerate_key_agreement();
};

Status presence_status(PresenceResult r);

}  // namespace vauth::ctap
