#include "vauth/crypto/openssl_util.h"

#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <stdexcept>
#include <string>

namespace vauth::crypto::detail {

void throw_openssl(const char* what) {
  std::string message = std::string("OpenSSL: ") + what;
  if (unsigned long code = ERR_peek_last_error(); code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    message += ": ";
    message += reason;
  }
  // Leave no stale entries behind to confuse the next caller on this thread.
  ERR_clear_error();
  throw std::runtime_error(message);
}

const unsigned char* data_or_empty(ByteView v) {
  static const unsigned char kEmpty[1] = {0};
  return v.empty() ? kEmpty : v.data();
}

EcGroupPtr p256_group() {
  EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  if (!group) throw_openssl("EC_GROUP_new_by_curve_name(P-256)");
  return group;
}

EcGroupPtr curve_group(const Curve& curve) {
  EcGroupPtr group(EC_GROUP_new_by_curve_name(curve.nid));
  if (!group) throw_openssl("EC_GROUP_new_by_curve_name");
  return group;
}

const EC_GROUP* shared_group(const Curve& curve) {
  static const EC_GROUP* p256 = curve_group(kP256).release();
  static const EC_GROUP* p384 = curve_group(kP384).release();
  if (curve.nid == kP256.nid) return p256;
  if (curve.nid == kP384.nid) return p384;
  throw std::logic_error("shared_group: unsupported curve");
}

}  // namespace vauth::crypto::detail
