// Device provisioning (master secret, attestation CA and batch certificate) and
// attestation statements ("packed" batch or self, "none").
#pragma once

#include <string>

#include "store/store.h"
#include "vauth/cbor/value.h"
#include "vauth/crypto/keys.h"
#include "vauth/ctap/profile.h"

namespace vauth::ctap {

// Generates whatever the store lacks: the master secret, the attestation CA and
// a batch certificate carrying the profile's AAGUID (re-issued if the AAGUID changed).
void provision(store::Store& store, crypto::Rng& rng, const Profile& profile);

crypto::PrivateKey batch_attestation_key(const store::State& state);

struct AttestationStatement {
  std::string format;  // "packed" or "none"
  cbor::Value statement;
};

// Signs authData || clientDataHash as the profile's attestation mode says.
AttestationStatement attest(const store::State& state, AttestationMode mode, ByteView auth_data,
                            ByteView client_data_hash, const crypto::PrivateKey& credential_key);

}  // namespace vauth::ctap
