#include "vauth/ctap/cose_key.h"

#include "vauth/ctap/fields.h"

namespace vauth::ctap {
namespace {
constexpr int kKty = 1, kAlg = 3, kCrv = -1, kX = -2, kY = -3;
constexpr int kKtyOkp = 1, kKtyEc2 = 2, kKtyRsa = 3, kCrvP256 = 1, kCrvP384 = 2, kCrvEd25519 = 6;
constexpr int kRsaN = -1, kRsaE = -2;  // RFC 8230 §4
constexpr int kAlgEcdhEsHkdf256 = -25;
}  // namespace

cbor::Value cose_public_key(const crypto::PublicKey& key) {
  cbor::Value::Map m;
  m[kAlg] = static_cast<int32_t>(key.algorithm());
  switch (key.algorithm()) {
    case crypto::Algorithm::ES256:
      m[kKty] = kKtyEc2;
      m[kCrv] = kCrvP256;
      m[kX] = key.x();
      m[kY] = key.y();
      break;
    case crypto::Algorithm::ES384:
      m[kKty] = kKtyEc2;
      m[kCrv] = kCrvP384;
      m[kX] = key.x();
      m[kY] = key.y();
      break;
    case crypto::Algorithm::EdDSA:
      m[kKty] = kKtyOkp;
      m[kCrv] = kCrvEd25519;
      m[kX] = key.x();
      break;
    case crypto::Algorithm::RS256:
      m[kKty] = kKtyRsa;
      m[kRsaN] = key.n();
      m[kRsaE] = key.e();
      break;
  }
  return m;
}

cbor::Value cose_key_agreement(const crypto::PublicKey& key) {
  cbor::Value::Map m;
  m[kKty] = kKtyEc2;
  m[kAlg] = kAlgEcdhEsHkdf256;
  m[kCrv] = kCrvP256;
  m[kX] = key.x();
  m[kY] = key.y();
  return m;
}

Status parse_key_agreement(const cbor::Value& value, std::optional<crypto::PublicKey>& out) {
  if (!value.is_map()) return Status::CborUnexpectedType;
  Fields f(value.as_map());
  auto kty = f.integer(kKty, true);
  f.integer(kAlg, false);  // clients send -25; its value does not change the math
  auto crv = f.integer(kCrv, true);
  const Bytes* x = f.bytes(kX, true);
  const Bytes* y = f.bytes(kY, true);
  if (!f.ok()) return f.error();
  if (*kty != kKtyEc2 || *crv != kCrvP256) return Status::InvalidParameter;
  out = crypto::PublicKey::p256(*x, *y);
  return out ? Status::Ok : Status::InvalidParameter;
}

}  // namespace vauth::ctap
