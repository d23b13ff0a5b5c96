#include "bench/inproc_device.h"

#include <vector>

#include "vauth/ctap/pin_policy.h"

namespace vauth::bench {

InprocDevice::InprocDevice(uint64_t seed, const std::string& pin) : rng(seed) {
  ctap::Profile profile;
  // Store::commit(const Mutation&) is hidden by MemoryStore's override of the span overload.
  store::Store& s = store;
  if (!pin.empty()) s.commit(store::Mutation{store::change::SetPin{ctap::pin_hash(pin), profile.max_pin_retries}});
  authenticator = std::make_unique<ctap::Authenticator>(ctap::Environment{store, rng, timers, presence, profile});
  device = std::make_unique<transport::LoopbackDevice>(*authenticator, timers);
  pipe = std::make_unique<LoopbackPipe>(*device);
}

std::string InprocDevice::provision_resident(size_t count) {
  const size_t rps = std::max<size_t>(1, count / 10);
  std::vector<store::Mutation> batch;
  batch.reserve(1000);
  uint64_t seq = store.state().next_credential_seq;
  for (size_t i = 0; i < count; ++i) {
    store::Credential c;
    c.id = rng.bytes(64);
    c.rp_id = "rp" + std::to_string(i % rps) + ".bench.example";
    c.rp_name = "Bench";
    c.user_id = rng.bytes(16);
    c.user_name = "user" + std::to_string(i);
    c.user_display_name = "User " + std::to_string(i);
    c.algorithm = -7;
    // A uniformly random 32-byte string is a valid P-256 scalar except with
    // probability ~2^-32: no key generation needed for 100,000 of them.
    c.private_key = rng.bytes(32);
    c.created = seq++;
    batch.push_back({store::change::PutCredential{std::move(c)}});
    if (batch.size() == 1000 || i + 1 == count) {
      store.commit(batch);
      batch.clear();
    }
  }
  return "rp" + std::to_string((count - 1) % rps) + ".bench.example";
}

}  // namespace vauth::bench
