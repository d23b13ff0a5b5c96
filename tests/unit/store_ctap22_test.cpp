// The store's CTAP 2.2 state: the persistentPinUvAuthToken, uvCountSinceLastPinEntry
// and the PIN complexity policy flag. Each mutation round-trips through the codec,
// snapshots carry the state, a journal replays it after close/reopen, an older
// record without it reads as the defaults, and Reset clears it.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/codec.h"
#include "store/journal_store.h"
#include "store/state.h"
#include "store/store_error.h"
#include "vauth/cbor/value.h"
#include "tests/unit/temp_dir.h"

using namespace vauth;
using namespace vauth::store;
namespace fs = std::filesystem;

namespace {

Mutation round_trip(const Mutation& m) {
  return codec::decode_mutation(codec::encode(m));
}

struct TempDir : vauth::test::TempDir {
  TempDir() : vauth::test::TempDir("vauth-ctap22") {}
};

AuthenticatorConfig strict_config() {
  AuthenticatorConfig c;
  c.min_pin_length = 6;
  c.pin_complexity_policy = true;
  return c;
}

}  // namespace

TEST_CASE("CTAP 2.2 mutations survive encode/decode and apply as documented") {
  State s;
  for (const Mutation& m :
       {Mutation{change::SetPersistentToken{Bytes(32, 0x5a)}}, Mutation{change::SetUvCountSincePinEntry{70000}},
        Mutation{change::SetConfig{strict_config()}}}) {
    apply(s, round_trip(m));
  }
  CHECK(s.persistent_token == Bytes(32, 0x5a));
  CHECK(s.uv_count_since_pin_entry == 70000);
  CHECK(s.config.pin_complexity_policy);

  State t;  // snapshots carry it too
  codec::decode_scalars(codec::encode_scalars(s), t);
  CHECK(t.persistent_token == s.persistent_token);
  CHECK(t.uv_count_since_pin_entry == 70000);
  CHECK(t.config == s.config);

  apply(s, round_trip(Mutation{change::SetPersistentToken{}}));  // revoked
  CHECK(s.persistent_token.empty());
}

TEST_CASE("CTAP 2.2 state: an older snapshot reads as the defaults, and Reset clears it") {
  State old;
  old.master_secret = Bytes(32, 1);
  State t;
  codec::decode_scalars(codec::encode_scalars(old), t);
  CHECK(t.persistent_token.empty());
  CHECK(t.uv_count_since_pin_entry == 0);
  CHECK_FALSE(t.config.pin_complexity_policy);

  apply(t, Mutation{change::SetPersistentToken{Bytes(32, 2)}});
  apply(t, Mutation{change::SetUvCountSincePinEntry{3}});
  apply(t, Mutation{change::SetConfig{strict_config()}});
  apply(t, Mutation{change::Reset{Bytes(32, 9)}});
  CHECK(t.persistent_token.empty());
  CHECK(t.uv_count_since_pin_entry == 0);
  CHECK_FALSE(t.config.pin_complexity_policy);
}

TEST_CASE("CTAP 2.2 state survives compaction and a journal close and reopen") {
  TempDir tmp;
  State expected;
  {
    JournalStore s(tmp.path / "store");
    s.commit(Mutation{change::SetMasterSecret{Bytes(32, 7)}});
    s.commit(Mutation{change::SetPersistentToken{Bytes(32, 0x33)}});
    s.compact();  // the token now lives in the snapshot, the count in the journal after it
    s.commit(Mutation{change::SetUvCountSincePinEntry{5}});
    s.commit(Mutation{change::SetConfig{strict_config()}});
    expected = s.state();
  }
  JournalStore s(tmp.path / "store");
  CHECK(s.state() == expected);
  CHECK(s.state().persistent_token == Bytes(32, 0x33));
  CHECK(s.state().uv_count_since_pin_entry == 5);
}

TEST_CASE("a malformed CTAP 2.2 record is refused, not guessed") {
  cbor::Value::Map m{{cbor::Value(1), cbor::Value(uint64_t{41})}, {cbor::Value(2), cbor::Value("many")}};
  CHECK_THROWS_AS(codec::decode_mutation(cbor::Value(m)), StoreError);
}

TEST_CASE("credential_generation counts credential changes, is kept by snapshots and journals, and reset zeroes it") {
  State s;
  Credential c;
  c.id = Bytes{1};
  c.rp_id = "example.com";
  c.user_id = Bytes{9};
  apply(s, Mutation{change::PutCredential{c}});
  c.user_name = "renamed";
  apply(s, Mutation{change::PutCredential{c}});  // updateUserInformation
  apply(s, Mutation{change::SetSignCount{5}});   // not a credential change
  CHECK(s.credential_generation == 2);
  apply(s, Mutation{change::DeleteCredential{Bytes{1}}});
  CHECK(s.credential_generation == 3);

  State t;  // a snapshot's scalars, then its credentials loaded out of order
  codec::decode_scalars(codec::encode_scalars(s), t);
  CHECK(t.credential_generation == 3);
  Credential b = c, a = c;
  b.id = Bytes{2};
  b.user_id = Bytes{2};
  a.id = Bytes{1};
  a.user_id = Bytes{1};
  load_credential(t, std::move(b));
  load_credential(t, std::move(a));  // out of order: the general path, still not a change
  CHECK(t.credential_generation == 3);

  TempDir tmp;
  State expected;
  {
    JournalStore j(tmp.path / "store");
    j.commit(Mutation{change::SetMasterSecret{Bytes(32, 7)}});
    j.commit(Mutation{change::PutCredential{c}});
    j.compact();
    j.commit(Mutation{change::DeleteCredential{c.id}});
    expected = j.state();
  }
  JournalStore j(tmp.path / "store");
  CHECK(j.state().credential_generation == 2);
  CHECK(j.state() == expected);
  j.commit(Mutation{change::Reset{Bytes(32, 8)}});
  CHECK(j.state().credential_generation == 0);
}
