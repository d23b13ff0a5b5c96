#include "vauth/ctap/session.h"

#include <algorithm>

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/attestation.h"
#include "vauth/ctap/auth_data_faults.h"
#include "vauth/ctap/quirks.h"
#include "vauth/ctap/store_failure.h"

namespace vauth::ctap {

Status presence_status(PresenceResult r) {
  switch (r) {
    case PresenceResult::Approved: return Status::Ok;
    case PresenceResult::Denied: return Status::OperationDenied;
    case PresenceResult::TimedOut: return Status::UserActionTimeout;
    case PresenceResult::Cancelled: return Status::KeepaliveCancel;
  }
  return Status::Other;
}

Session::Session(Environment env)
    : store(env.store),
      rng(env.rng),
      timers(env.timers),
      presence(env.presence),
      profile(std::move(env.profile)),
      own_verifier(env.user_verifier ? nullptr : std::make_unique<ControlledUserVerifier>(env.timers)),
      verifier(env.user_verifier ? *env.user_verifier : *own_verifier),
      auth_data_faults(env.auth_data_faults) {
  provision(store, rng, profile);
  power_up();
}

void Session::request_presence(PresenceRequest req, std::function<void(Status)> then) {
  waiting_for_user = true;
  presence.request(req, [this, then = std::move(then)](PresenceResult r) {
    waiting_for_user = false;
    if (closed) return;
    try {
      then(presence_status(r));
    } catch (const store::StoreError& e) {
      // The commit changed nothing; the request fails as a whole.
      if (fail_request) fail_request(store_failure_status(e));
    }
  });
}

size_t Session::min_pin_length() const {
  return std::max<size_t>(profile.min_pin_length, state().config.min_pin_length);
}

void Session::cancel_user_wait() {
  if (!waiting_for_user) return;
  if (waiting_for_uv) {
    verifier.cancel();
  } else {
    presence.cancel();
  }
}

void Session::before_signing(AuthData& ad) {
  if (auth_data_faults) auth_data_faults->apply(ad);
}

namespace {

// A credential whose ID the control API chose (docs/store.md "Provisioning"): the ID
// carries nothing, the store holds the key. Its flags are those a wrapped ID would have.
std::optional<CredentialSecret> stored_credential(const store::State& st, ByteView rp_id_hash, ByteView id) {
  const store::Credential* c = st.find_any_credential(id);
  if (!c || !crypto::equal_ct(crypto::sha256(to_bytes(c->rp_id)), rp_id_hash)) return std::nullopt;
  auto alg = crypto::algorithm_from_cose(c->algorithm);
  auto key = alg ? crypto::PrivateKey::from_bytes(*alg, c->private_key) : std::nullopt;
  if (!key) return std::nullopt;
  uint8_t flags = credential_flag::cred_protect(c->cred_protect);
  if (c->discoverable) flags |= credential_flag::kResident;
  if (c->third_party_payment) flags |= credential_flag::kThirdPartyPayment;
  return CredentialSecret{flags, std::move(*key)};
}

}  // namespace

std::optional<CredentialSecret> Session::credential(ByteView rp_id_hash, ByteView id) const {
  auto secret = unwrap_credential_id(state().master_secret, rp_id_hash, id);
  if (!secret) return stored_credential(state(), rp_id_hash, id);
  if ((secret->flags & credential_flag::kResident) && !state().find_credential(id)) return std::nullopt;
  return secret;
}

std::optional<CredentialSecret> Session::ctap2_credential(ByteView rp_id_hash, ByteView id) const {
  auto secret = credential(rp_id_hash, id);
  if (secret && quirk_hides_credential(profile.quirks, *secret)) return std::nullopt;
  return secret;
}

uint8_t Session::cred_protect(const CredentialSecret& secret, ByteView id) const {
  if (secret.flags & credential_flag::kResident) {
    if (const store::Credential* c = state().find_credential(id)) return c->cred_protect;
  }
  return secret.cred_protect();
}

uint32_t Session::next_sign_count() {
  const uint32_t next = state().sign_count + 1;
  store.commit(store::Mutation{store::change::SetSignCount{next}});
  return next;
}

void Session::power_up() {
  powered_up = timers.now();
  pin.consecutive_failures = 0;
  pending_assertions.reset();
  enrollment.reset();
  u2f_presence_until.reset();
  enumeration.reset();
  large_blob_write = {};
  regenerate_key_agreement();
  revoke_pin_uv_auth_token(*this);
}

void Session::regenerate_key_agreement() {
  pin.key_agreement = crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng);
}

}  // namespace vauth::ctap
