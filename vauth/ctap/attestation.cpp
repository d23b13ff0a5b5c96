#include "vauth/ctap/attestation.h"

#include <algorithm>
#include <stdexcept>

#include "vauth/crypto/x509.h"

namespace vauth::ctap {
namespace {

crypto::CertificateSpec batch_spec(const Profile& profile, uint64_t serial) {
  crypto::CertificateSpec spec;
  spec.organizational_unit = "Authenticator Attestation";  // required by WebAuthn §8.2.1
  spec.common_name = "vauth Batch Certificate";
  spec.aaguid = profile.aaguid;
  spec.serial = serial;
  return spec;
}

uint64_t random_serial(crypto::Rng& rng) {
  Bytes b = rng.bytes(8);
  b[0] &= 0x7f;  // positive and non-zero
  b[0] |= 0x01;
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

store::Attestation new_attestation(crypto::Rng& rng, const Profile& profile) {
  auto ca_key = crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng);
  crypto::CertificateSpec ca_spec;
  ca_spec.common_name = "vauth Attestation CA";
  ca_spec.is_ca = true;
  ca_spec.usb_transport = false;
  ca_spec.serial = random_serial(rng);
  auto batch_key = crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng);
  auto chain =
      crypto::issue_certificate_chain(ca_spec, ca_key, batch_spec(profile, random_serial(rng)), batch_key.public_key());
  return store::Attestation{ca_key.private_bytes(), std::move(chain.ca), batch_key.private_bytes(),
                            std::move(chain.leaf), Bytes(profile.aaguid.begin(), profile.aaguid.end())};
}

crypto::PrivateKey load_p256(ByteView raw) {
  auto key = crypto::PrivateKey::from_bytes(crypto::Algorithm::ES256, raw);
  if (!key) throw std::runtime_error("stored attestation key is invalid");
  return *key;
}

}  // namespace

void provision(store::Store& store, crypto::Rng& rng, const Profile& profile) {
  std::vector<store::Mutation> changes;
  if (store.state().master_secret.size() != 32) {
    changes.push_back({store::change::SetMasterSecret{rng.bytes(32)}});
  }
  const auto& att = store.state().attestation;
  const Bytes aaguid(profile.aaguid.begin(), profile.aaguid.end());
  if (!att) {
    changes.push_back({store::change::SetAttestation{new_attestation(rng, profile)}});
  } else if (att->aaguid != aaguid) {
    // Same CA, new batch certificate: the AAGUID in the certificate must match authData.
    store::Attestation updated = *att;
    auto ca_key = load_p256(att->ca_private_key);
    auto batch_key = load_p256(att->batch_private_key);
    updated.batch_certificate = crypto::issue_certificate(batch_spec(profile, random_serial(rng)),
                                                          batch_key.public_key(), ca_key, att->ca_certificate);
    updated.aaguid = aaguid;
    changes.push_back({store::change::SetAttestation{updated}});
  }
  if (!changes.empty()) store.commit(changes);
}

crypto::PrivateKey batch_attestation_key(const store::State& state) {
  return load_p256(state.attestation.value().batch_private_key);
}

AttestationStatement attest(const store::State& state, AttestationMode mode, ByteView auth_data,
                            ByteView client_data_hash, const crypto::PrivateKey& credential_key) {
  if (mode == AttestationMode::None) return {"none", cbor::Value::Map{}};
  const Bytes signed_data = concat(auth_data, client_data_hash);
  cbor::Value::Map stmt;
  if (mode == AttestationMode::Self) {
    stmt["alg"] = static_cast<int32_t>(credential_key.algorithm());
    stmt["sig"] = credential_key.sign(signed_data);
  } else {
    const auto key = batch_attestation_key(state);
    stmt["alg"] = static_cast<int32_t>(key.algorithm());
    stmt["sig"] = key.sign(signed_data);
    stmt["x5c"] = cbor::Value::Array{cbor::Value(state.attestation->batch_certificate)};
  }
  return {"packed", std::move(stmt)};
}

}  // namespace vauth::ctap
