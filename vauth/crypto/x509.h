// X.509 attestation certificates (FIDO "packed" attestation, §8.2.1 of WebAuthn):
// a self-signed CA and batch certificates signed by it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "vauth/base/bytes.h"
#include "vauth/crypto/keys.h"

namespace vauth::crypto {

struct CertificateSpec {
  std::string country = "US";            // C
  std::string organization = "vauth";    // O
  std::string organizational_unit;       // OU; packed attestation wants "Authenticator Attestation"
  std::string common_name;               // CN
  bool is_ca = false;                    // basicConstraints CA:TRUE/FALSE (critical)
  // id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4), non-critical, when set.
  std::optional<std::array<uint8_t, 16>> aaguid;
  // id-fido-u2f-ce-transports (1.3.6.1.4.1.45724.2.1.1): bit 2 = USB, when true.
  bool usb_transport = true;
  uint64_t serial = 1;
  int64_t not_before_unix = 1'700'000'000;   // fixed times keep seeded runs reproducible
  int64_t not_after_unix = 4'102'444'800;    // 2100-01-01
};

// Issues a certificate for `subject_key` signed by `issuer_key`. With no
// `issuer_cert_der` the certificate is self-signed (issuer = subject).
// Returns DER. Throws std::runtime_error only on OpenSSL failure.
Bytes issue_certificate(const CertificateSpec& spec, const PublicKey& subject_key,
                        const PrivateKey& issuer_key, const std::optional<Bytes>& issuer_cert_der);

// A self-signed CA certificate for `ca_key` and a leaf certificate for
// `leaf_key` signed by it, both DER: what issue_certificate gives in two calls,
// without parsing the CA back. Throws std::runtime_error on OpenSSL failure.
struct CertificateChain {
  Bytes ca;
  Bytes leaf;
};
CertificateChain issue_certificate_chain(const CertificateSpec& ca_spec, const PrivateKey& ca_key,
                                         const CertificateSpec& leaf_spec, const PublicKey& leaf_key);

// The DER certificate's public key, or nullopt if it does not parse.
std::optional<PublicKey> certificate_public_key(ByteView cert_der);
// "-----BEGIN CERTIFICATE-----" PEM text.
std::string certificate_to_pem(ByteView cert_der);

}  // namespace vauth::crypto
