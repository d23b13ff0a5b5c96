// SecretBytes (vauth/crypto/secret_bytes.h): every block it frees is zero when
// freed, and the store model that keeps its secrets in it still round-trips.
// The wipe observer sees each block inside deallocate(), after the wipe and
// before the free, so the test reads live memory only.
#include "vauth/crypto/secret_bytes.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "store/codec.h"
#include "store/journal_records.h"
#include "store/state.h"

using namespace vauth;
using crypto::SecretBytes;

namespace {

struct Freed {
  const uint8_t* block;
  size_t size;
  bool all_zero;
};
std::vector<Freed>* g_freed = nullptr;

void observe(const uint8_t* block, size_t size) {
  if (!g_freed) return;
  g_freed->push_back({block, size, std::all_of(block, block + size, [](uint8_t b) { return b == 0; })});
}

// Records the blocks freed while it lives.
struct WipeLog {
  std::vector<Freed> freed;
  WipeLog() {
    g_freed = &freed;
    crypto::set_wipe_observer(observe);
  }
  ~WipeLog() {
    crypto::set_wipe_observer(nullptr);
    g_freed = nullptr;
  }
  // The block at `p` was freed (at least `size` bytes) and was zero by then.
  bool wiped(const uint8_t* p, size_t size) const {
    return std::any_of(freed.begin(), freed.end(),
                       [&](const Freed& f) { return f.block == p && f.size >= size && f.all_zero; });
  }
  bool seen(const uint8_t* p) const {
    return std::any_of(freed.begin(), freed.end(), [&](const Freed& f) { return f.block == p; });
  }
};

}  // namespace

TEST_CASE("SecretBytes wipes its block on destruction") {
  WipeLog log;
  const uint8_t* p = nullptr;
  {
    SecretBytes s(32, 0xa5);
    p = s.data();
  }
  CHECK(log.wiped(p, 32));
}

TEST_CASE("SecretBytes wipes the old block when it grows, shrinks to fit or is reassigned") {
  WipeLog log;
  SecretBytes s(4, 0x11);
  s.shrink_to_fit();
  const uint8_t* small = s.data();
  s.resize(4096, 0x22);  // must reallocate
  REQUIRE(s.data() != small);
  CHECK(log.wiped(small, 4));

  const uint8_t* big = s.data();
  s.resize(8);
  s.shrink_to_fit();
  CHECK(log.wiped(big, 4096));  // also the 4088 bytes the resize dropped

  const uint8_t* before = s.data();
  s = SecretBytes(64, 0x33);  // move assignment: the old block goes
  CHECK(log.wiped(before, 8));
  CHECK(s == Bytes(64, 0x33));
}

TEST_CASE("a moved-from SecretBytes holds nothing; the block is wiped once, by its new owner") {
  WipeLog log;
  SecretBytes a(32, 0x44);
  const uint8_t* p = a.data();
  SecretBytes b(std::move(a));
  CHECK(a.capacity() == 0);  // NOLINT(bugprone-use-after-move): checking what the move left
  CHECK(b.data() == p);
  CHECK_FALSE(log.seen(p));
  { SecretBytes gone = std::move(b); }
  CHECK(log.wiped(p, 32));
}

TEST_CASE("a plain Bytes handed over as a temporary is wiped, including bytes a shrink left behind") {
  WipeLog log;
  Bytes plain(32, 0x66);
  plain.resize(16);  // as pin_hash() does: the dropped half is still in the block
  const uint8_t* p = plain.data();
  SecretBytes s = std::move(plain);
  CHECK(log.wiped(p, 32));
  CHECK(plain.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(s == Bytes(16, 0x66));
  // A copy from an lvalue leaves the source alone: its owner decides.
  const Bytes kept(8, 0x77);
  SecretBytes copy = kept;
  CHECK(kept == Bytes(8, 0x77));
  CHECK(copy == kept);
}

namespace {

store::Credential secret_credential() {
  store::Credential c;
  c.id = Bytes(16, 0x01);
  c.rp_id = "example.com";
  c.user_id = Bytes{1, 2, 3};
  c.algorithm = -7;
  c.private_key = Bytes(32, 0x02);
  c.cred_random_uv = Bytes(32, 0x03);
  c.cred_random_no_uv = Bytes(32, 0x04);
  c.large_blob_key = Bytes(32, 0x05);
  c.created = 1;
  return c;
}

store::State secret_state() {
  store::State s;
  s.master_secret = Bytes(32, 0x10);
  s.attestation = store::Attestation{Bytes(32, 0x11), Bytes{0x30}, Bytes(32, 0x12), Bytes{0x30}, Bytes(16, 0x13)};
  s.pin_hash = Bytes(16, 0x14);
  s.persistent_token = Bytes(32, 0x15);
  store::apply(s, store::Mutation{store::change::PutCredential{secret_credential()}});
  return s;
}

}  // namespace

TEST_CASE("store::State and copies of its credentials wipe every secret when freed") {
  WipeLog log;
  std::vector<const uint8_t*> secrets;
  {
    store::State s = secret_state();
    const store::Credential& c = s.credentials.begin()->second;
    secrets = {s.master_secret.data(),
               s.attestation->ca_private_key.data(),
               s.attestation->batch_private_key.data(),
               s.pin_hash->data(),
               s.persistent_token.data(),
               c.private_key.data(),
               c.cred_random_uv.data(),
               c.cred_random_no_uv.data(),
               c.large_blob_key.data()};
    // A copy, as getAssertion makes of the record it signs with.
    const uint8_t* copied_key = nullptr;
    {
      const store::Credential copy = c;
      copied_key = copy.private_key.data();
      REQUIRE(copied_key != c.private_key.data());
    }
    CHECK(log.wiped(copied_key, 32));
  }
  for (const uint8_t* p : secrets) CHECK(log.wiped(p, 16));
}

TEST_CASE("a State with every secret round-trips through the codec and a journal snapshot unchanged") {
  const store::State s = secret_state();
  store::State scalars;
  store::codec::decode_scalars(store::codec::encode_scalars(s), scalars);
  CHECK(scalars.master_secret == s.master_secret);
  CHECK(scalars.attestation == s.attestation);
  CHECK(scalars.pin_hash == s.pin_hash);
  CHECK(scalars.persistent_token == s.persistent_token);
  const store::Credential& c = s.credentials.begin()->second;
  CHECK(store::codec::decode_credential(store::codec::encode(c)) == c);

  // The snapshot reader's fast path decodes the same fields itself.
  const auto parts = store::journal::encode_snapshot(s, 7, std::nullopt);
  REQUIRE(parts.size() == 1);
  auto record = store::journal::decode_record(parts[0]);
  auto* snap = std::get_if<store::journal::SnapshotRecord>(&record);
  REQUIRE(snap);
  REQUIRE(snap->scalars);
  store::State back = *snap->scalars;
  for (auto& cred : snap->credentials) store::load_credential(back, std::move(cred));
  CHECK(back == s);

  // And every mutation that carries a secret.
  const std::vector<store::Mutation> mutations = {{store::change::SetMasterSecret{Bytes(32, 0x20)}},
                                                  {store::change::SetPin{Bytes(16, 0x21), 8}},
                                                  {store::change::Reset{Bytes(32, 0x22)}},
                                                  {store::change::SetPersistentToken{Bytes(32, 0x23)}},
                                                  {store::change::PutCredential{c}}};
  for (const auto& m : mutations) {
    store::State via_codec, direct;
    store::apply(direct, m);
    store::apply(via_codec, store::codec::decode_mutation(store::codec::encode(m)));
    CHECK(via_codec == direct);
  }
}
