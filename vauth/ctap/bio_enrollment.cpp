// authenticatorBioEnrollment (CTAP 2.1 §6.7; also the FIDO_2_1_PRE command 0x40
// with the same parameters) for the simulated fingerprint sensor:
// getFingerprintSensorInfo, enrollBegin, enrollCaptureNextSample,
// cancelCurrentEnrollment, enumerateEnrollments, setFriendlyName,
// removeEnrollment, and getModality. Each sample is one reading of the sensor
// (UserVerifier): a match is a good sample, no match a poor-quality one.
#include <algorithm>

#include "store/state.h"
#include "vauth/cbor/codec.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/pin_token.h"

namespace vauth::ctap {
namespace {

// Request keys.
constexpr int kModality = 1, kSubCommand = 2, kSubCommandParams = 3, kPinUvAuthProtocol = 4, kPinUvAuthParam = 5,
              kGetModality = 6;
// subCommandParams keys.
constexpr int kParamTemplateId = 1, kParamFriendlyName = 2, kParamTimeout = 3;
// Response keys.
constexpr int kRespModality = 1, kRespFingerprintKind = 2, kRespMaxSamples = 3, kRespTemplateId = 4,
              kRespLastSampleStatus = 5, kRespRemainingSamples = 6, kRespTemplateInfos = 7,
              kRespMaxFriendlyName = 8;
constexpr int kInfoTemplateId = 1, kInfoFriendlyName = 2;

constexpr int64_t kModalityFingerprint = 1;
constexpr int kFingerprintKindTouch = 1;
// lastEnrollSampleStatus values (CTAP 2.1 §6.7.4).
constexpr int kSampleGood = 0x00, kSamplePoorQuality = 0x07;

namespace sub {
constexpr int64_t kEnrollBegin = 1, kEnrollCaptureNextSample = 2, kCancelCurrentEnrollment = 3,
                  kEnumerateEnrollments = 4, kSetFriendlyName = 5, kRemoveEnrollment = 6,
                  kGetFingerprintSensorInfo = 7;
}

constexpr size_t kTemplateIdLength = 2;

struct Request {
  int64_t sub_command = 0;
  const cbor::Value::Map* params = nullptr;
  const Bytes* pin_uv_auth_param = nullptr;
  std::optional<int64_t> pin_uv_auth_protocol;
};

// pinUvAuthParam = authenticate(token, modality || subCommand || subCommandParams)
// with the be permission. The decoder accepts only canonical CBOR, so encoding
// the parameters again reproduces the bytes the platform authenticated.
Status authorise(Session& s, const Request& r) {
  if (!r.pin_uv_auth_param) return Status::PuatRequired;
  if (!r.pin_uv_auth_protocol) return Status::MissingParameter;
  Bytes message{static_cast<uint8_t>(kModalityFingerprint), static_cast<uint8_t>(r.sub_command)};
  if (r.params) append(message, cbor::encode(cbor::Value(*r.params)));
  if (Status st = verify_pin_uv_auth_param(s, *r.pin_uv_auth_protocol, *r.pin_uv_auth_param, message);
      st != Status::Ok) {
    return st;
  }
  return require_permission(s, permission::kBioEnrollment, nullptr);
}

const store::Enrollment* find_enrollment(const Session& s, const Bytes& id) {
  for (const auto& e : s.state().enrollments) {
    if (e.template_id == id) return &e;
  }
  return nullptr;
}

Response sensor_info(const Session& s) {
  return Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespModality, kModalityFingerprint},
                                                          {kRespFingerprintKind, kFingerprintKindTouch},
                                                          {kRespMaxSamples, s.profile.bio_samples_required},
                                                          {kRespMaxFriendlyName, s.profile.max_template_friendly_name}})};
}

// A template ID no enrolled finger has.
Bytes new_template_id(Session& s) {
  for (;;) {
    Bytes id = s.rng.bytes(kTemplateIdLength);
    if (!find_enrollment(s, id)) return id;
  }
}

// Reads one sample for the enrollment in progress and answers with its status.
// The finger is committed once the last sample is good.
void capture_sample(Session& s, bool first, Done done) {
  UvRequest reading{"enrollSample", ""};
  s.read_sensor(std::move(reading), [&s, first, done](UvResult result) {
    if (!s.enrollment) return done(error(Status::KeepaliveCancel));  // cancelled meanwhile
    if (result == UvResult::TimedOut || result == UvResult::Cancelled) {
      s.enrollment.reset();
      return done(error(result == UvResult::TimedOut ? Status::UserActionTimeout : Status::KeepaliveCancel));
    }
    int status = kSamplePoorQuality;
    if (result == UvResult::Match) {
      status = kSampleGood;
      --s.enrollment->remaining;
    }
    cbor::Value::Map out{{kRespLastSampleStatus, status}, {kRespRemainingSamples, s.enrollment->remaining}};
    if (first) out[kRespTemplateId] = s.enrollment->template_id;
    if (s.enrollment->remaining == 0) {
      s.store.commit(store::Mutation{store::change::PutEnrollment{{s.enrollment->template_id, ""}}});
      s.enrollment.reset();
    }
    done(Response{Status::Ok, cbor::Value(std::move(out))});
  });
}

void enroll_begin(Session& s, Done done) {
  if (s.state().enrollments.size() >= s.profile.max_fingerprints) return done(error(Status::FpDatabaseFull));
  s.enrollment = PendingEnrollment{new_template_id(s), s.profile.bio_samples_required};
  capture_sample(s, true, std::move(done));
}

void enroll_next(Session& s, const Request& r, Done done) {
  if (!r.params) return done(error(Status::MissingParameter));
  Fields f(*r.params);
  const Bytes* id = f.bytes(kParamTemplateId, true);
  f.integer(kParamTimeout, false);
  if (!f.ok()) return done(error(f.error()));
  if (!s.enrollment || s.enrollment->template_id != *id) return done(error(Status::InvalidParameter));
  capture_sample(s, false, std::move(done));
}

Response enumerate(const Session& s) {
  if (s.state().enrollments.empty()) return error(Status::InvalidOption);
  cbor::Value::Array infos;
  for (const auto& e : s.state().enrollments) {
    // The name even when empty: python-fido2 0.9.1 reads it unconditionally.
    infos.emplace_back(cbor::Value::Map{{kInfoTemplateId, e.template_id}, {kInfoFriendlyName, e.friendly_name}});
  }
  return Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespTemplateInfos, std::move(infos)}})};
}

Response set_friendly_name(Session& s, const Request& r) {
  if (!r.params) return error(Status::MissingParameter);
  Fields f(*r.params);
  const Bytes* id = f.bytes(kParamTemplateId, true);
  const std::string* name = f.text(kParamFriendlyName, true);
  if (!f.ok()) return error(f.error());
  if (!find_enrollment(s, *id)) return error(Status::InvalidOption);
  if (name->size() > s.profile.max_template_friendly_name) return error(Status::InvalidLength);
  s.store.commit(store::Mutation{store::change::PutEnrollment{{*id, *name}}});
  return Response{};
}

Response remove_enrollment(Session& s, const Request& r) {
  if (!r.params) return error(Status::MissingParameter);
  Fields f(*r.params);
  const Bytes* id = f.bytes(kParamTemplateId, true);
  if (!f.ok()) return error(f.error());
  if (!find_enrollment(s, *id)) return error(Status::InvalidOption);
  s.store.commit(store::Mutation{store::change::DeleteEnrollment{*id}});
  return Response{};
}

}  // namespace

void bio_enrollment(Session& s, const cbor::Value::Map& params, Done done) {
  Fields f(params);
  auto modality = f.integer(kModality, false);
  auto sub_command = f.integer(kSubCommand, false);
  const cbor::Value::Map* sub_params = f.map(kSubCommandParams, false);
  auto protocol = f.integer(kPinUvAuthProtocol, false);
  const Bytes* pin_auth = f.bytes(kPinUvAuthParam, false);
  auto get_modality = f.boolean(kGetModality, false);
  if (!f.ok()) return done(error(f.error()));
  if (get_modality.value_or(false)) {
    return done(Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespModality, kModalityFingerprint}})});
  }
  if (!modality || !sub_command) return done(error(Status::MissingParameter));
  if (*modality != kModalityFingerprint) return done(error(Status::InvalidParameter));
  const Request r{*sub_command, sub_params, pin_auth, protocol};

  switch (*sub_command) {
    case sub::kGetFingerprintSensorInfo: return done(sensor_info(s));
    case sub::kCancelCurrentEnrollment:
      // Needs no token: it only throws away what enrollBegin started.
      s.enrollment.reset();
      return done(Response{});
    case sub::kEnrollBegin:
    case sub::kEnrollCaptureNextSample:
    case sub::kEnumerateEnrollments:
    case sub::kSetFriendlyName:
    case sub::kRemoveEnrollment: break;
    default: return done(error(Status::InvalidSubcommand));
  }
  if (Status st = authorise(s, r); st != Status::Ok) return done(error(st));
  switch (*sub_command) {
    case sub::kEnrollBegin: return enroll_begin(s, std::move(done));
    case sub::kEnrollCaptureNextSample: return enroll_next(s, r, std::move(done));
    case sub::kEnumerateEnrollments: return done(enumerate(s));
    case sub::kSetFriendlyName: return done(set_friendly_name(s, r));
    case sub::kRemoveEnrollment: return done(remove_enrollment(s, r));
  }
}

}  // namespace vauth::ctap
