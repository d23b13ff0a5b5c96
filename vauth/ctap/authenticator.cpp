#include "vauth/ctap/authenticator.h"

#include "vauth/cbor/codec.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/store_failure.h"

namespace vauth::ctap {
namespace {

Bytes encode_response(const Response& r) {
  Bytes out{static_cast<uint8_t>(r.status)};
  if (r.status == Status::Ok && r.body) append(out, cbor::encode(*r.body));
  return out;
}

// Commands whose parameters are a CBOR map (the others take none).
bool takes_parameters(uint8_t cmd) {
  return cmd == command::kMakeCredential || cmd == command::kGetAssertion || cmd == command::kClientPin ||
         cmd == command::kCredentialManagement || cmd == command::kCredentialManagementPreview ||
         cmd == command::kBioEnrollment || cmd == command::kBioEnrollmentPreview || cmd == command::kConfig ||
         cmd == command::kLargeBlobs;
}

// Commands a profile may leave out: unknown to such a key, whatever they carry.
bool offered(const Profile& p, uint8_t cmd) {
  if (cmd == command::kBioEnrollment || cmd == command::kBioEnrollmentPreview) return p.built_in_uv;
  if (cmd == command::kConfig) return p.authenticator_config;
  if (cmd == command::kLargeBlobs) return p.max_serialized_large_blob_array > 0;
  return true;
}

bool is_credential_management(uint8_t cmd) {
  return cmd == command::kCredentialManagement || cmd == command::kCredentialManagementPreview;
}

}  // namespace

Authenticator::Authenticator(Environment env) : session_(std::make_unique<Session>(std::move(env))) {}

Authenticator::~Authenticator() {
  // Whoever waits for our replies may already be gone: answer nobody from here on.
  session_->closed = true;
  session_->presence.cancel();
  session_->verifier.cancel();
}

void Authenticator::handle_cbor(ByteView request, Reply reply) {
  Session& s = *session_;
  // Exactly one answer per request, even when a failed store commit cuts it short.
  auto answered = std::make_shared<bool>(false);
  auto done = [reply = std::move(reply), answered](Response r) {
    if (*answered) return;
    *answered = true;
    reply(encode_response(r));
  };
  s.fail_request = [done](Status st) { done(error(st)); };
  try {
    dispatch(s, request, done);
  } catch (const store::StoreError& e) {
    done(error(store_failure_status(e)));
  }
}

void Authenticator::dispatch(Session& s, ByteView request, const Done& done) {
  if (request.empty()) return done(error(Status::InvalidLength));
  const uint8_t cmd = request[0];
  ByteView body = request.subspan(1);
  // A persona that does not serve a command answers as a key without it would.
  if (!s.profile.command_enabled(cmd)) return done(error(Status::InvalidCommand));

  // getNextAssertion continues only a getAssertion that came just before it.
  if (cmd != command::kGetNextAssertion) s.pending_assertions.reset();
  // Likewise an RP/credential enumeration continues only through credential management.
  if (!is_credential_management(cmd)) s.enumeration.reset();

  if (!offered(s.profile, cmd)) return done(error(Status::InvalidCommand));
  cbor::Value::Map params;
  if (takes_parameters(cmd)) {
    if (body.empty()) return done(error(Status::MissingParameter));
    auto decoded = cbor::decode(body);
    if (!decoded) return done(error(Status::InvalidCbor));
    if (!decoded->is_map()) return done(error(Status::CborUnexpectedType));
    params = std::move(decoded->as_map());
  }

  switch (cmd) {
    case command::kMakeCredential: return make_credential(s, params, done);
    case command::kGetAssertion: return get_assertion(s, params, done);
    case command::kGetNextAssertion: return get_next_assertion(s, done);
    case command::kGetInfo: return done(get_info(s));
    case command::kClientPin: return client_pin(s, params, done);
    case command::kReset: return reset(s, done);
    case command::kSelection: return selection(s, done);
    case command::kCredentialManagement:
    case command::kCredentialManagementPreview: return done(credential_management(s, params));
    case command::kBioEnrollment:
    case command::kBioEnrollmentPreview: return bio_enrollment(s, params, done);
    case command::kConfig: return done(authenticator_config(s, params));
    case command::kLargeBlobs: return done(large_blobs(s, params));
    default: return done(error(Status::InvalidCommand));
  }
}

void Authenticator::handle_msg(ByteView apdu, Reply reply) {
  if (!session_->profile.u2f) {
    // A CTAP2-only key has no CTAP1 applet; CTAPHID advertises NMSG so clients do not ask.
    Bytes sw;
    put_u16_be(sw, 0x6d00);
    return reply(sw);
  }
  Bytes response;
  try {
    response = u2f(*session_, apdu);
  } catch (const store::StoreError& e) {
    put_u16_be(response, store_failure_sw(e));
  }
  reply(std::move(response));
}

void Authenticator::cancel() { session_->cancel_user_wait(); }

bool Authenticator::waiting_for_user() const { return session_->waiting_for_user; }

void Authenticator::wink() { ++session_->winks; }

bool Authenticator::supports_msg() const { return session_->profile.u2f; }

// A U2F-only persona: CTAPHID INIT leaves out CAP_CBOR and CBOR gets ERR_INVALID_CMD.
bool Authenticator::supports_cbor() const { return session_->profile.ctap2; }

void Authenticator::power_cycle() { session_->power_up(); }

const Profile& Authenticator::profile() const { return session_->profile; }

cbor::Value Authenticator::info() const { return *get_info(*session_).body; }

Bytes Authenticator::attestation_ca_certificate() const {
  return session_->state().attestation->ca_certificate;
}

size_t Authenticator::wink_count() const { return session_->winks; }

}  // namespace vauth::ctap
