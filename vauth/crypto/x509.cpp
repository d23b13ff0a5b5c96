#include "vauth/crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <stdexcept>

#include "vauth/crypto/openssl_util.h"

namespace vauth::crypto {

namespace {

using detail::throw_openssl;
using detail::X509Ptr;

using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, detail::Deleter<ASN1_OBJECT_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, detail::Deleter<ASN1_OCTET_STRING_free>>;
using Asn1BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, detail::Deleter<ASN1_BIT_STRING_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, detail::Deleter<X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, detail::Deleter<BIO_free>>;

// FIDO Alliance arcs (FIDO Metadata/U2F attestation certificate extensions).
constexpr const char* kOidFidoAaguid = "1.3.6.1.4.1.45724.1.1.4";      // id-fido-gen-ce-aaguid
constexpr const char* kOidFidoTransports = "1.3.6.1.4.1.45724.2.1.1";  // id-fido-u2f-ce-transports
constexpr int kTransportBitUsb = 2;

X509Ptr parse_certificate(ByteView der) {
  const unsigned char* p = detail::data_or_empty(der);
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    ERR_clear_error();
    return nullptr;
  }
  return cert;
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  // Empty RDN values are not valid DirectoryStrings; such fields are left out.
  if (value.empty()) return;
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1)
    throw_openssl("X509_NAME_add_entry_by_txt");
}

void set_subject(X509* cert, const CertificateSpec& spec) {
  X509_NAME* name = X509_get_subject_name(cert);
  add_name_entry(name, "C", spec.country);
  add_name_entry(name, "O", spec.organization);
  add_name_entry(name, "OU", spec.organizational_unit);
  add_name_entry(name, "CN", spec.common_name);
}

// The SubjectPublicKeyInfo of an EC or Ed25519 key is an algorithm identifier
// and the key's public bytes, so they are set as such. X509_set_pubkey would
// encode the key with OpenSSL 3's encoder and decode it back (a provider
// search each way): that was 40% of a first-run start-up, which issues two
// certificates. RSA keys, rare here, still take that road.
void set_subject_public_key(X509* cert, const PublicKey& key) {
  int key_type = NID_X9_62_id_ecPublicKey;
  int curve = NID_undef;
  Bytes bits;
  switch (key.algorithm()) {
    case Algorithm::ES256:
    case Algorithm::ES384:
      curve = key.algorithm() == Algorithm::ES256 ? NID_X9_62_prime256v1 : NID_secp384r1;
      bits = concat(Bytes{0x04}, key.x(), key.y());  // SEC 1 uncompressed point (RFC 5480 §2.2)
      break;
    case Algorithm::EdDSA:
      key_type = NID_ED25519;  // RFC 8410 §3: parameters absent
      bits = key.x();
      break;
    default: {
      auto pkey = detail::to_evp(key);
      if (X509_set_pubkey(cert, pkey.get()) != 1) throw_openssl("X509_set_pubkey");
      return;
    }
  }
  auto* owned = static_cast<unsigned char*>(OPENSSL_memdup(bits.data(), bits.size()));
  if (!owned) throw_openssl("OPENSSL_memdup");
  // The algorithm OIDs come from OpenSSL's static table; set0 takes `owned`.
  if (X509_PUBKEY_set0_param(
          X509_get_X509_PUBKEY(cert), OBJ_nid2obj(key_type), curve == NID_undef ? V_ASN1_UNDEF : V_ASN1_OBJECT,
          curve == NID_undef ? nullptr : OBJ_nid2obj(curve), owned, static_cast<int>(bits.size())) != 1) {
    OPENSSL_free(owned);
    throw_openssl("X509_PUBKEY_set0_param");
  }
}

void set_basic_fields(X509* cert, const CertificateSpec& spec, const PublicKey& subject_key) {
  if (X509_set_version(cert, X509_VERSION_3) != 1) throw_openssl("X509_set_version");
  if (ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), spec.serial) != 1)
    throw_openssl("ASN1_INTEGER_set_uint64");
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after, as RFC 5280 requires.
  if (!ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(spec.not_before_unix)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(spec.not_after_unix)))
    throw_openssl("ASN1_TIME_set");
  set_subject_public_key(cert, subject_key);
  set_subject(cert, spec);
}

// Adds an extension from its OpenSSL config-string form (e.g. "critical,CA:TRUE").
void add_conf_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) throw_openssl(OBJ_nid2sn(nid));
}

// Adds a non-critical extension whose extnValue is the given DER.
void add_raw_extension(X509* cert, const char* oid, ByteView der) {
  Asn1ObjectPtr obj(OBJ_txt2obj(oid, 1));
  Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
  if (!obj || !value || ASN1_OCTET_STRING_set(value.get(), der.data(), static_cast<int>(der.size())) != 1)
    throw_openssl("extension value");
  X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, value.get()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) throw_openssl(oid);
}

template <typename T, typename Encoder>
Bytes der_encode(T* object, Encoder encode) {
  int len = encode(object, nullptr);
  if (len <= 0) throw_openssl("DER encode");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (encode(object, &p) != len) throw_openssl("DER encode");
  return out;
}

void add_aaguid_extension(X509* cert, const std::array<uint8_t, 16>& aaguid) {
  // extnValue = DER(OCTET STRING aaguid): 04 10 <16 bytes>.
  Asn1OctetStringPtr inner(ASN1_OCTET_STRING_new());
  if (!inner || ASN1_OCTET_STRING_set(inner.get(), aaguid.data(), static_cast<int>(aaguid.size())) != 1)
    throw_openssl("AAGUID octet string");
  add_raw_extension(cert, kOidFidoAaguid, der_encode(inner.get(), i2d_ASN1_OCTET_STRING));
}

void add_usb_transport_extension(X509* cert) {
  // FIDO U2F transports: BIT STRING with bit 2 (usb); OpenSSL trims trailing
  // zero bits, giving the canonical 03 02 05 20.
  Asn1BitStringPtr bits(ASN1_BIT_STRING_new());
  if (!bits || ASN1_BIT_STRING_set_bit(bits.get(), kTransportBitUsb, 1) != 1)
    throw_openssl("transports bit string");
  add_raw_extension(cert, kOidFidoTransports, der_encode(bits.get(), i2d_ASN1_BIT_STRING));
}

void add_extensions(X509* cert, X509* issuer, const CertificateSpec& spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  add_conf_extension(cert, &ctx, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_conf_extension(cert, &ctx, NID_key_usage,
                     spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add_conf_extension(cert, &ctx, NID_subject_key_identifier, "hash");
  // Lets verifiers pick the right CA key; only possible when the issuer has an SKI.
  if (issuer != cert && X509_get0_subject_key_id(issuer) != nullptr)
    add_conf_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
  if (spec.aaguid) add_aaguid_extension(cert, *spec.aaguid);
  if (spec.usb_transport) add_usb_transport_extension(cert);
}

void sign_certificate(X509* cert, const PrivateKey& issuer_key) {
  // Ed25519 signs the message itself, so X509_sign takes no digest for it.
  const EVP_MD* md = issuer_key.algorithm() == Algorithm::ES256 ? EVP_sha256() : nullptr;
  if (X509_sign(cert, static_cast<EVP_PKEY*>(issuer_key.native()), md) <= 0) throw_openssl("X509_sign");
}

}  // namespace

namespace {

// Builds and signs a certificate. `issuer` is the issuer's certificate, or
// null for a self-signed one.
X509Ptr build_certificate(const CertificateSpec& spec, const PublicKey& subject_key, const PrivateKey& issuer_key,
                          X509* issuer) {
  X509Ptr cert(X509_new());
  if (!cert) throw_openssl("X509_new");
  set_basic_fields(cert.get(), spec, subject_key);
  if (!issuer) issuer = cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1) throw_openssl("X509_set_issuer_name");
  add_extensions(cert.get(), issuer, spec);
  sign_certificate(cert.get(), issuer_key);
  return cert;
}

}  // namespace

Bytes issue_certificate(const CertificateSpec& spec, const PublicKey& subject_key, const PrivateKey& issuer_key,
                        const std::optional<Bytes>& issuer_cert_der) {
  X509Ptr issuer_cert;
  if (issuer_cert_der) {
    issuer_cert = parse_certificate(*issuer_cert_der);
    if (!issuer_cert) throw std::runtime_error("issue_certificate: issuer certificate does not parse");
    // A mismatched pair would yield certificates that never verify.
    if (X509_check_private_key(issuer_cert.get(), static_cast<EVP_PKEY*>(issuer_key.native())) != 1) {
      ERR_clear_error();
      throw std::runtime_error("issue_certificate: issuer key does not match issuer certificate");
    }
  }
  return der_encode(build_certificate(spec, subject_key, issuer_key, issuer_cert.get()).get(), i2d_X509);
}

CertificateChain issue_certificate_chain(const CertificateSpec& ca_spec, const PrivateKey& ca_key,
                                         const CertificateSpec& leaf_spec, const PublicKey& leaf_key) {
  // The CA signs the leaf as built: parsing its DER back would decode its key
  // once more, and the key is known to match, being the one that signed it.
  X509Ptr ca = build_certificate(ca_spec, ca_key.public_key(), ca_key, nullptr);
  X509Ptr leaf = build_certificate(leaf_spec, leaf_key, ca_key, ca.get());
  return {der_encode(ca.get(), i2d_X509), der_encode(leaf.get(), i2d_X509)};
}

std::optional<PublicKey> certificate_public_key(ByteView cert_der) {
  X509Ptr cert = parse_certificate(cert_der);
  if (!cert) return std::nullopt;
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (!pkey) {
    ERR_clear_error();
    return std::nullopt;
  }
  return detail::public_from_evp(pkey);
}

std::string certificate_to_pem(ByteView cert_der) {
  // PEM is base64 of the DER under a label; no parse is needed to produce it.
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio(bio.get(), "CERTIFICATE", "", detail::data_or_empty(cert_der),
                            static_cast<long>(cert_der.size())) <= 0)
    throw_openssl("PEM_write_bio");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace vauth::crypto
