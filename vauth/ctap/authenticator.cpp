#include "vauth/ctap/authenticator.h"

#include "vauth/cbor/codec.h"
#include "vauth/ctap/commands.h"

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
         cmd == command::kCredentialManagement || cmd == command::kCredentialManagementPreview;
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
}

void Authenticator::handle_cbor(ByteView request, Reply reply) {
  Session& s = *session_;
  auto done = [reply = std::move(reply)](Response r) { reply(encode_response(r)); };
  if (request.empty()) return done(error(Status::InvalidLength));
  const uint8_t cmd = request[0];
  ByteView body = request.subspan(1);
  // A persona that does not serve a command answers as a key without it would.
  if (!s.profile.command_enabled(cmd)) return done(error(Status::InvalidCommand));

  // getNextAssertion continues only a getAssertion that came just before it.
  if (cmd != command::kGetNextAssertion) s.pending_assertions.reset();
  // Likewise an RP/credential enumeration continues only through credential management.
  if (!is_credential_management(cmd)) s.enumeration.reset();

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
    case command::kClientPin: return done(client_pin(s, params));
    case command::kReset: return reset(s, done);
    case command::kSelection: return selection(s, done);
    case command::kCredentialManagement:
    case command::kCredentialManagementPreview: return done(credential_management(s, params));
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
  reply(u2f(*session_, apdu));
}

void Authenticator::cancel() {
  if (session_->waiting_for_user) session_->presence.cancel();
}

bool Authenticator::waiting_for_user() const { return session_->waiting_for_user; }

void Authenticator::wink() { ++session_->winks; }

bool Authenticator::supports_msg() const { return session_->profile.u2f; }

// A U2F-only persona: CTAPHID INIT leaves out CAP_CBOR and CBOR gets ERR_INVALID_CMD.
bool Authenticator::supports_cbor() const { return session_->profile.ctap2; }

void Authenticator::power_cycle() { session_->power_up(); }

const Profile& Authenticator::profile() const { return session_->profile; }

Bytes Authenticator::attestation_ca_certificate() const {
  return session_->state().attestation->ca_certificate;
}

size_t Authenticator::wink_count() const { return session_->winks; }

}  // namespace vauth::ctap
