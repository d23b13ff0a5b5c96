// authenticatorCredentialManagement (CTAP 2.1 §6.8): metadata, RP and
// credential enumeration, deletion, and updateUserInformation.
#pragma once

#include <string>
#include <vector>

#include "vauth/base/clock.h"
#include "vauth/base/bytes.h"
#include "vauth/cbor/value.h"

namespace vauth::ctap {

class Session;
struct Response;

// What enumerateRPsGetNextRP / enumerateCredentialsGetNextCredential continue.
// Any other command ends an enumeration (the dispatcher calls reset()).
struct CredentialEnumeration {
  std::vector<std::string> rp_ids;  // still to return
  std::vector<Bytes> credential_ids;  // still to return
  void reset() {
    rp_ids.clear();
    credential_ids.clear();
  }
};

Response credential_management(Session& s, const cbor::Value::Map& params);

}  // namespace vauth::ctap
