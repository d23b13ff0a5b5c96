// The CTAP fault layer's reach into signing: authData faults (wrong rpIdHash,
// UP/UV flags flipped, a counter that freezes or runs backwards, an unsolicited
// extension output) must be in the bytes the credential key signs, or the
// client would only ever see a bad signature. The FaultHandler arms this
// object with the actions that fired for the current request; makeCredential
// and getAssertion pass their AuthData through apply() just before signing.
#pragma once

#include <optional>
#include <vector>

#include "vauth/ctap/auth_data.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::ctap {

class AuthDataFaults {
 public:
  // The actions for the request about to run (replaces the previous request's).
  void arm(std::vector<faults::Action> actions) { armed_ = std::move(actions); }
  void disarm() { armed_.clear(); }

  // Changes `ad` as the armed actions say; remembers the counter a client last saw.
  void apply(AuthData& ad);

 private:
  std::vector<faults::Action> armed_;
  std::optional<uint32_t> last_reported_count_;
};

}  // namespace vauth::ctap
