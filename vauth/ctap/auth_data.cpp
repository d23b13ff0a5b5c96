#include "vauth/ctap/auth_data.h"

#include "vauth/cbor/codec.h"
#include "vauth/ctap/cose_key.h"

namespace vauth::ctap {

Bytes AuthData::serialize() const {
  Bytes out = rp_id_hash;
  uint8_t flags = 0;
  if (user_present) flags |= flag::kUserPresent;
  if (user_verified) flags |= flag::kUserVerified;
  if (attested) flags |= flag::kAttestedCredentialData;
  if (extensions) flags |= flag::kExtensionData;
  out.push_back(flags);
  put_u32_be(out, sign_count);
  if (attested) {
    append(out, attested->aaguid);
    put_u16_be(out, static_cast<uint16_t>(attested->credential_id.size()));
    append(out, attested->credential_id);
    append(out, cbor::encode(cose_public_key(attested->public_key)));
  }
  if (extensions) append(out, cbor::encode(*extensions));
  return out;
}

}  // namespace vauth::ctap
