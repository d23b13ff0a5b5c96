#include "vauth/ctap/auth_data_faults.h"

#include <algorithm>

namespace vauth::ctap {

void AuthDataFaults::apply(AuthData& ad) {
  // What the client saw last time: the counter the store handed out before this one.
  const uint32_t last = last_reported_count_.value_or(ad.sign_count > 0 ? ad.sign_count - 1 : 0);
  for (faults::Action a : armed_) {
    switch (a) {
      case faults::Action::BadRpIdHash:
        if (!ad.rp_id_hash.empty()) ad.rp_id_hash[0] ^= 0x01;
        break;
      case faults::Action::FlipUp: ad.user_present = !ad.user_present; break;
      case faults::Action::FlipUv: ad.user_verified = !ad.user_verified; break;
      case faults::Action::CounterFreeze: ad.sign_count = last; break;
      case faults::Action::CounterBack: ad.sign_count = last > 0 ? last - 1 : 0; break;
      case faults::Action::ExtraExtension: {
        // An output for an extension nobody asked for, of the type a client would
        // expect if it had: hmac-secret (bool) on registration, credProtect on assertion.
        cbor::Value::Map ext = ad.extensions && ad.extensions->is_map() ? ad.extensions->as_map() : cbor::Value::Map{};
        if (ad.attested) ext[cbor::Value("hmac-secret")] = cbor::Value(true);
        else ext[cbor::Value("credProtect")] = cbor::Value(uint64_t{1});
        ad.extensions = cbor::Value(std::move(ext));
        break;
      }
      default: break;
    }
  }
  last_reported_count_ = ad.sign_count;
}

}  // namespace vauth::ctap
