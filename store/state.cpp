#include "store/state.h"

#include <algorithm>

namespace vauth::store {

std::vector<const Credential*> State::credentials_for_rp(const std::string& rp_id) const {
  std::vector<const Credential*> out;
  auto it = by_rp_.find(rp_id);
  if (it == by_rp_.end()) return out;
  out.reserve(it->second.size());
  for (const Bytes& id : it->second) out.push_back(&credentials.at(id));
  std::sort(out.begin(), out.end(), [](const Credential* a, const Credential* b) { return a->created > b->created; });
  return out;
}

const Credential* State::find_credential(ByteView id) const {
  auto it = credentials.find(Bytes(id.begin(), id.end()));
  return it == credentials.end() ? nullptr : &it->second;
}

const Credential* State::find_any_credential(ByteView id) const {
  if (const Credential* c = find_credential(id)) return c;
  auto it = non_discoverable.find(Bytes(id.begin(), id.end()));
  return it == non_discoverable.end() ? nullptr : &it->second;
}

namespace {

using RpIndex = std::map<std::string, std::set<Bytes>>;
using UserIndex = std::map<std::pair<std::string, Bytes>, Bytes>;

void erase_credential(State& s, RpIndex& by_rp, UserIndex& by_user, const Bytes& id) {
  auto it = s.credentials.find(id);
  if (it == s.credentials.end()) return;
  auto rp = by_rp.find(it->second.rp_id);
  if (rp != by_rp.end()) {
    rp->second.erase(id);
    if (rp->second.empty()) by_rp.erase(rp);
  }
  auto user = by_user.find({it->second.rp_id, it->second.user_id});
  if (user != by_user.end() && user->second == id) by_user.erase(user);
  s.credentials.erase(it);
}

// A credential ID names one credential of either kind.
void erase_any(State& s, RpIndex& by_rp, UserIndex& by_user, const Bytes& id) {
  erase_credential(s, by_rp, by_user, id);
  s.non_discoverable.erase(id);
}

}  // namespace

void apply(State& s, const Mutation& m) {
  std::visit(
      [&s](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, change::SetMasterSecret>) {
          s.master_secret = c.secret;
        } else if constexpr (std::is_same_v<T, change::SetAttestation>) {
          s.attestation = c.attestation;
        } else if constexpr (std::is_same_v<T, change::PutCredential>) {
          ++s.credential_generation;
          const Credential& cred = c.credential;
          if (!cred.discoverable) {
            erase_any(s, s.by_rp_, s.by_user_, cred.id);
            s.non_discoverable[cred.id] = cred;
            s.next_credential_seq = std::max(s.next_credential_seq, cred.created + 1);
            return;
          }
          // One credential per (RP, user ID): the newer one wins. An index lookup,
          // not a scan of the RP's credentials, so a commit's cost does not grow with them.
          auto old = s.by_user_.find({cred.rp_id, cred.user_id});
          if (old != s.by_user_.end()) erase_credential(s, s.by_rp_, s.by_user_, Bytes(old->second));
          erase_any(s, s.by_rp_, s.by_user_, cred.id);
          s.credentials[cred.id] = cred;
          s.by_rp_[cred.rp_id].insert(cred.id);
          s.by_user_[{cred.rp_id, cred.user_id}] = cred.id;
          s.next_credential_seq = std::max(s.next_credential_seq, cred.created + 1);
        } else if constexpr (std::is_same_v<T, change::DeleteCredential>) {
          ++s.credential_generation;
          erase_any(s, s.by_rp_, s.by_user_, c.id);
        } else if constexpr (std::is_same_v<T, change::SetPin>) {
          s.pin_hash = c.pin_hash;
          s.pin_retries = c.retries;
        } else if constexpr (std::is_same_v<T, change::ClearPin>) {
          s.pin_hash.reset();
          s.pin_retries = State{}.pin_retries;
          s.pin_code_points = 0;
          s.config.force_pin_change = false;  // there is no PIN left to change
          s.persistent_token.clear();         // a pcmr token was granted on the old PIN's word
        } else if constexpr (std::is_same_v<T, change::SetPinRetries>) {
          s.pin_retries = c.retries;
        } else if constexpr (std::is_same_v<T, change::SetSignCount>) {
          s.sign_count = c.count;
        } else if constexpr (std::is_same_v<T, change::SetLargeBlobArray>) {
          s.large_blob_array = c.array;
        } else if constexpr (std::is_same_v<T, change::SetPinCodePoints>) {
          s.pin_code_points = c.code_points;
        } else if constexpr (std::is_same_v<T, change::SetUvRetries>) {
          s.uv_retries = c.retries;
        } else if constexpr (std::is_same_v<T, change::SetConfig>) {
          s.config = c.config;
        } else if constexpr (std::is_same_v<T, change::PutEnrollment>) {
          auto same = [&c](const Enrollment& e) { return e.template_id == c.enrollment.template_id; };
          auto it = std::find_if(s.enrollments.begin(), s.enrollments.end(), same);
          if (it != s.enrollments.end()) {
            *it = c.enrollment;
          } else {
            s.enrollments.push_back(c.enrollment);
          }
        } else if constexpr (std::is_same_v<T, change::DeleteEnrollment>) {
          std::erase_if(s.enrollments, [&c](const Enrollment& e) { return e.template_id == c.template_id; });
        } else if constexpr (std::is_same_v<T, change::SetPersistentToken>) {
          s.persistent_token = c.token;
        } else if constexpr (std::is_same_v<T, change::SetUvCountSincePinEntry>) {
          s.uv_count_since_pin_entry = c.count;
        } else if constexpr (std::is_same_v<T, change::Reset>) {
          s.master_secret = c.new_master_secret;
          s.pin_hash.reset();
          s.pin_retries = 8;
          s.pin_code_points = 0;
          s.uv_retries = 8;
          s.config = AuthenticatorConfig{};
          s.enrollments.clear();
          s.persistent_token.clear();
          s.uv_count_since_pin_entry = 0;
          s.credential_generation = 0;
          s.credentials.clear();
          s.non_discoverable.clear();
          s.large_blob_array.clear();
          s.by_rp_.clear();
          s.by_user_.clear();
        }
      },
      m.change);
}

void load_credential(State& s, Credential&& c) {
  if (!c.discoverable) {
    // Few of them: no fast path needed. Loading is not a change of the
    // credentials (the snapshot's generation already counts it).
    const uint64_t generation = s.credential_generation;
    apply(s, Mutation{change::PutCredential{std::move(c)}});
    s.credential_generation = generation;
    return;
  }
  const bool fresh = s.credentials.empty() || s.credentials.rbegin()->first < c.id;
  if (!fresh || !s.by_user_.try_emplace(std::pair<std::string, Bytes>(c.rp_id, c.user_id), c.id).second) {
    // Out of order or replacing: the general path, which must not count as a
    // change of the credentials (the snapshot's generation already does).
    const uint64_t generation = s.credential_generation;
    apply(s, Mutation{change::PutCredential{std::move(c)}});
    s.credential_generation = generation;
    return;
  }
  s.next_credential_seq = std::max(s.next_credential_seq, c.created + 1);
  // Ascending IDs: each insert lands at the end of its tree, so the hints make it O(1).
  std::set<Bytes>& rp = s.by_rp_[c.rp_id];
  rp.emplace_hint(rp.end(), c.id);
  Bytes id = c.id;
  s.credentials.emplace_hint(s.credentials.end(), std::move(id), std::move(c));
}

}  // namespace vauth::store
