// The store's provisioning changes: ClearPin, non-discoverable credentials with a
// caller-chosen ID, and every credential field surviving the snapshot fast path
// (it used to skip keys 11..13, losing CredRandom, largeBlobKey and credBlob on reopen).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/codec.h"
#include "store/journal_records.h"
#include "store/journal_store.h"
#include "store/snapshot_reader.h"
#include "vauth/cbor/codec.h"
#include "tests/unit/temp_dir.h"

using namespace vauth;
using namespace vauth::store;
namespace fs = std::filesystem;

namespace {

struct TempDir : vauth::test::TempDir {
  TempDir() : vauth::test::TempDir("vauth-prov") {}
};

Credential full_credential(uint8_t tag, bool discoverable) {
  Credential c;
  c.id = Bytes(16, tag);
  c.rp_id = "rp.example";
  c.rp_name = "RP";
  c.user_id = Bytes{tag, 1};
  c.user_name = "alice";
  c.user_display_name = "Alice";
  c.algorithm = -7;
  c.private_key = Bytes(32, 0x11);
  c.created = tag;
  c.cred_protect = 2;
  c.cred_random_uv = Bytes(32, 0xa1);
  c.cred_random_no_uv = Bytes(32, 0xa2);
  c.cred_blob = Bytes{1, 2, 3};
  c.large_blob_key = Bytes(32, 0xb0);
  c.third_party_payment = true;
  c.discoverable = discoverable;
  return c;
}

}  // namespace

TEST_CASE("ClearPin survives encode/decode and forgets the PIN, its length and a forced change") {
  State s;
  apply(s, Mutation{change::SetPin{Bytes(16, 5), 3}});
  apply(s, Mutation{change::SetPinCodePoints{6}});
  AuthenticatorConfig config;
  config.force_pin_change = true;
  config.min_pin_length = 8;
  apply(s, Mutation{change::SetConfig{config}});
  apply(s, Mutation{change::PutCredential{full_credential(1, true)}});

  const Mutation m = codec::decode_mutation(codec::encode(Mutation{change::ClearPin{}}));
  REQUIRE(std::holds_alternative<change::ClearPin>(m.change));
  apply(s, m);
  CHECK(!s.pin_hash);
  CHECK(s.pin_retries == 8);
  CHECK(s.pin_code_points == 0);
  CHECK(!s.config.force_pin_change);
  CHECK(s.config.min_pin_length == 8);  // the policy stays
  CHECK(s.credentials.size() == 1);     // unlike Reset
}

TEST_CASE("a non-discoverable credential is found by ID only, and deleted or reset like the others") {
  State s;
  apply(s, Mutation{change::PutCredential{full_credential(1, true)}});
  apply(s, Mutation{change::PutCredential{full_credential(2, false)}});
  CHECK(s.credentials.size() == 1);
  CHECK(s.non_discoverable.size() == 1);
  CHECK(s.credentials_for_rp("rp.example").size() == 1);  // enumeration never sees it
  CHECK(s.find_credential(Bytes(16, 2)) == nullptr);
  REQUIRE(s.find_any_credential(Bytes(16, 2)) != nullptr);
  CHECK(!s.find_any_credential(Bytes(16, 2))->discoverable);
  CHECK(s.next_credential_seq == 3);

  // The same ID as a discoverable one moves it (one ID, one credential).
  apply(s, Mutation{change::PutCredential{full_credential(2, true)}});
  CHECK(s.non_discoverable.empty());
  CHECK(s.credentials.size() == 2);
  apply(s, Mutation{change::PutCredential{full_credential(2, false)}});
  CHECK(s.credentials.size() == 1);
  CHECK(s.credentials_for_rp("rp.example").size() == 1);

  apply(s, Mutation{change::DeleteCredential{Bytes(16, 2)}});
  CHECK(s.non_discoverable.empty());
  apply(s, Mutation{change::PutCredential{full_credential(3, false)}});
  apply(s, Mutation{change::Reset{Bytes(32, 9)}});
  CHECK(s.non_discoverable.empty());
  CHECK(s.credentials.empty());
}

TEST_CASE("key 15 marks a non-discoverable credential; absent (older records) means discoverable") {
  const cbor::Value enc = codec::encode(full_credential(4, false));
  REQUIRE(enc.find(cbor::Value(15)) != nullptr);
  CHECK(codec::decode_credential(enc) == full_credential(4, false));
  CHECK(codec::encode(full_credential(4, true)).find(cbor::Value(15)) == nullptr);
  cbor::Value::Map bad{{1, Bytes{1}}, {15, 7}};
  CHECK_THROWS(codec::decode_credential(cbor::Value(bad)));
}

TEST_CASE("the snapshot fast path keeps every credential field, of both kinds") {
  State st;
  apply(st, Mutation{change::SetMasterSecret{Bytes(32, 1)}});
  apply(st, Mutation{change::PutCredential{full_credential(1, true)}});
  apply(st, Mutation{change::PutCredential{full_credential(2, false)}});
  const auto parts = journal::encode_snapshot(st, 7, std::nullopt);
  REQUIRE(parts.size() == 1);
  auto fast = journal::fast_decode_snapshot(parts[0]);
  REQUIRE(fast);  // what we write stays on the fast path
  REQUIRE(fast->credentials.size() == 2);
  CHECK(fast->credentials[0] == full_credential(1, true));
  CHECK(fast->credentials[1] == full_credential(2, false));
  State loaded = *fast->scalars;
  for (Credential& c : fast->credentials) load_credential(loaded, std::move(c));
  CHECK(loaded == st);
}

TEST_CASE("provisioned state survives reopen and compaction of the journal") {
  TempDir dir;
  State expected;
  {
    JournalStore j(dir.path / "store");
    std::vector<Mutation> batch{{change::SetPin{Bytes(16, 5), 4}},
                                {change::PutCredential{full_credential(1, true)}},
                                {change::PutCredential{full_credential(2, false)}},
                                {change::ClearPin{}}};
    j.commit(batch);
    expected = j.state();
  }
  CHECK(!expected.pin_hash);
  CHECK(expected.non_discoverable.size() == 1);
  {
    JournalStore j(dir.path / "store");  // replays the batch record
    CHECK(j.state() == expected);
    j.compact();
  }
  JournalStore j(dir.path / "store");  // reads the snapshot
  CHECK(j.state() == expected);
}
