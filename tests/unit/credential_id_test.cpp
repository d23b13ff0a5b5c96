// Credential IDs (vauth/ctap/credential_id.h): they round-trip under their own
// master secret and RP only, also when more master secrets are in use than
// the wrapping-key cache holds (a daemon with many devices, or resets).
#include "vauth/ctap/credential_id.h"

#include <doctest/doctest.h>

#include <vector>

#include "vauth/crypto/rng.h"

using namespace vauth;
using namespace vauth::ctap;

TEST_CASE("credential IDs round-trip per master secret, across more secrets than the key cache holds") {
  crypto::SeededRng rng(7);
  const Bytes rp_a(32, 0xaa), rp_b(32, 0xbb);
  std::vector<Bytes> secrets;
  std::vector<Bytes> ids;
  std::vector<Bytes> keys;
  for (int i = 0; i < 20; ++i) {  // more than the cache's 8 entries
    secrets.push_back(rng.bytes(32));
    CredentialSecret secret{credential_flag::kResident, crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng)};
    keys.push_back(secret.key.private_bytes());
    ids.push_back(wrap_credential_id(secrets.back(), rp_a, secret, rng));
  }
  // Interleaved and repeated, so entries are evicted and derived again.
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < ids.size(); ++i) {
      CAPTURE(i);
      const auto mine = unwrap_credential_id(secrets[i], rp_a, ids[i]);
      REQUIRE(mine);
      CHECK(mine->key.private_bytes() == keys[i]);
      CHECK(mine->flags == credential_flag::kResident);
      CHECK_FALSE(unwrap_credential_id(secrets[(i + 1) % secrets.size()], rp_a, ids[i]));  // another device
      CHECK_FALSE(unwrap_credential_id(secrets[i], rp_b, ids[i]));                         // another RP
    }
  }
}
