// The journal store: round trips, atomicity, torn tails at every offset,
// damage in the middle, headers, locking, modes, compaction, batched counters, sealing.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/codec.h"
#include "store/journal_format.h"
#include "store/journal_store.h"
#include "vauth/cbor/codec.h"
#include "tests/unit/temp_dir.h"

using namespace vauth;
using namespace vauth::store;
namespace fs = std::filesystem;

namespace {

struct TempDir : vauth::test::TempDir {
  TempDir() : vauth::test::TempDir("vauth-store") {}
  fs::path store() const { return path / "store"; }
};

struct Warnings {
  std::vector<std::string> seen;
  JournalOptions options() {
    JournalOptions o;
    o.warn = [this](std::string_view w) { seen.emplace_back(w); };
    return o;
  }
  bool any_contains(const std::string& needle) const {
    for (const auto& w : seen) {
      if (w.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}
void write_file(const fs::path& p, ByteView b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Credential cred(int i, const std::string& rp = "example.com") {
  Credential c;
  c.id = Bytes{0xc0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
  c.rp_id = rp;
  c.rp_name = "Example";
  c.user_id = Bytes{0x55, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
  c.user_name = "user" + std::to_string(i);
  c.user_display_name = "User \xc3\xa9 " + std::to_string(i);
  c.algorithm = i % 2 ? -7 : -8;
  c.private_key = Bytes(32, static_cast<uint8_t>(i));
  c.created = static_cast<uint64_t>(i) + 1;
  return c;
}

Mutation put(int i, const std::string& rp = "example.com") { return {change::PutCredential{cred(i, rp)}}; }

// A credential with every extension field set (hmac-secret, credBlob, largeBlobKey, thirdPartyPayment).
Mutation put_with_extensions(int i) {
  Credential c = cred(i, "ext.example");
  c.cred_protect = 3;
  c.cred_random_uv = Bytes(32, 0x01);
  c.cred_random_no_uv = Bytes(32, 0x02);
  c.cred_blob = Bytes{0xb1, 0x0b};
  c.large_blob_key = Bytes(32, 0x03);
  c.third_party_payment = true;
  return {change::PutCredential{c}};
}

std::vector<Mutation> every_kind() {
  Attestation att{Bytes(32, 1), Bytes{0x30, 0x01}, Bytes(32, 2), Bytes{0x30, 0x02}, Bytes(16, 3)};
  return {
      {change::SetMasterSecret{Bytes(32, 0xaa)}},
      {change::SetAttestation{att}},
      put(1),
      put(2),
      put(3, "other.org"),
      {change::DeleteCredential{cred(2).id}},
      {change::SetPin{Bytes(16, 0x77), 8}},
      {change::SetPinRetries{5}},
      {change::SetSignCount{4242}},
      put_with_extensions(4),
      {change::SetLargeBlobArray{Bytes{0x81, 0x01, 0xaa, 0xbb}}},
  };
}

// Offsets of the records (their length fields) in a journal file.
std::vector<uint64_t> record_offsets(ByteView file) {
  auto [h, end] = journal::decode_header(file);
  std::vector<uint64_t> out;
  for (const auto& r : journal::scan_records(file, end).records) out.push_back(r.offset);
  return out;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("every mutation kind survives close and reopen") {
  TempDir tmp;
  State expected;
  {
    JournalStore s(tmp.store());
    for (const Mutation& m : every_kind()) s.commit(m);
    expected = s.state();
  }
  CHECK(expected.credentials.size() == 3);
  CHECK(expected.sign_count == 4242);
  CHECK(expected.large_blob_array == Bytes{0x81, 0x01, 0xaa, 0xbb});
  REQUIRE(expected.find_credential(cred(4).id));
  CHECK(expected.find_credential(cred(4).id)->large_blob_key == Bytes(32, 0x03));
  {
    JournalStore s(tmp.store());
    CHECK(s.state() == expected);
    CHECK(s.state().credentials_for_rp("example.com").size() == 1);
    s.commit(Mutation{change::Reset{Bytes(32, 0xbb)}});
    expected = s.state();
    CHECK(expected.credentials.empty());
    CHECK(!expected.pin_hash);
    CHECK(expected.large_blob_array.empty());  // reset forgets the large blobs too
  }
  JournalStore s(tmp.store());
  CHECK(s.state() == expected);
}

TEST_CASE("a batch is applied whole or not at all") {
  TempDir tmp;
  Warnings w;
  State before;
  uint64_t size_before = 0;
  {
    JournalStore s(tmp.store(), w.options());
    s.commit(put(1));
    before = s.state();
    size_before = s.stats().journal_bytes;
    std::vector<Mutation> batch{put(2), put(3), {change::SetSignCount{7}}};
    s.commit(batch);
    CHECK(s.state().credentials.size() == 3);
  }
  const fs::path j = tmp.store() / "journal";
  Bytes full = read_file(j);
  // Cut the batch's record a few bytes short of its end.
  write_file(j, ByteView(full).first(full.size() - 5));
  JournalStore s(tmp.store(), w.options());
  CHECK(s.state() == before);
  CHECK(s.stats().journal_bytes == size_before);
  CHECK(fs::file_size(j) == size_before);
}

TEST_CASE("a torn last record is dropped at every byte offset, with a warning naming it") {
  TempDir tmp;
  const fs::path j = tmp.store() / "journal";
  State before, after;
  Bytes full;
  uint64_t good = 0;
  {
    JournalStore s(tmp.store());
    for (const Mutation& m : every_kind()) s.commit(m);
    before = s.state();
    good = s.stats().journal_bytes;
    s.commit(std::vector<Mutation>{put(10), {change::SetSignCount{9999}}});
    after = s.state();
  }
  full = read_file(j);
  REQUIRE(full.size() > good + 8);
  for (uint64_t len = good; len <= full.size(); ++len) {
    CAPTURE(len);
    write_file(j, ByteView(full).first(len));
    Warnings w;
    JournalStore s(tmp.store(), w.options());
    if (len == full.size()) {
      CHECK(s.state() == after);
      CHECK(w.seen.empty());
    } else {
      CHECK(s.state() == before);
      CHECK(fs::file_size(j) == good);
      if (len > good) {
        CHECK(w.any_contains("offset " + std::to_string(good)));
      } else {
        CHECK(w.seen.empty());
      }
    }
  }
  // After a dropped tail, new appends follow the last good record.
  write_file(j, ByteView(full).first(full.size() - 1));
  {
    Warnings w;
    JournalStore s(tmp.store(), w.options());
    s.commit(put(11));
  }
  Warnings w;
  JournalStore s(tmp.store(), w.options());
  CHECK(w.seen.empty());
  CHECK(s.state().find_credential(cred(11).id) != nullptr);
  CHECK(s.state().find_credential(cred(10).id) == nullptr);
}

TEST_CASE("a zero-filled tail (a crash after the size was extended) is dropped") {
  TempDir tmp;
  State before;
  {
    JournalStore s(tmp.store());
    s.commit(put(1));
    before = s.state();
  }
  const fs::path j = tmp.store() / "journal";
  Bytes f = read_file(j);
  f.resize(f.size() + 4096, 0);
  write_file(j, f);
  Warnings w;
  JournalStore s(tmp.store(), w.options());
  CHECK(s.state() == before);
  CHECK(w.any_contains("offset"));
}

TEST_CASE("a flipped byte in the middle is a hard error with the offset; the file is untouched") {
  TempDir tmp;
  {
    JournalStore s(tmp.store());
    for (const Mutation& m : every_kind()) s.commit(m);
  }
  const fs::path j = tmp.store() / "journal";
  const Bytes original = read_file(j);
  const auto offsets = record_offsets(original);
  REQUIRE(offsets.size() == every_kind().size());
  // Every byte of the third record: its length, its CRC and its payload.
  for (uint64_t pos = offsets[2]; pos < offsets[3]; ++pos) {
    CAPTURE(pos);
    Bytes damaged = original;
    damaged[pos] ^= 0x10;
    write_file(j, damaged);
    try {
      JournalStore s(tmp.store());
      FAIL("opened a damaged journal");
    } catch (const StoreError& e) {
      REQUIRE(e.offset());
      CHECK(*e.offset() == offsets[2]);
      CHECK(std::string(e.what()).find("offset " + std::to_string(offsets[2])) != std::string::npos);
    }
    CHECK(read_file(j) == damaged);
  }
}

TEST_CASE("a flipped byte in the last record drops it as torn") {
  TempDir tmp;
  State before;
  {
    JournalStore s(tmp.store());
    s.commit(put(1));
    before = s.state();
    s.commit(put(2));
  }
  const fs::path j = tmp.store() / "journal";
  Bytes f = read_file(j);
  const auto offsets = record_offsets(f);
  f[offsets.back() + 12] ^= 0x01;
  write_file(j, f);
  Warnings w;
  JournalStore s(tmp.store(), w.options());
  CHECK(s.state() == before);
  CHECK(w.any_contains("offset " + std::to_string(offsets.back())));
}

TEST_CASE("wrong magic, newer version, unknown flags and a damaged header are clear errors") {
  TempDir tmp;
  { JournalStore s(tmp.store()); }
  const fs::path j = tmp.store() / "journal";
  const Bytes original = read_file(j);
  auto open_error = [&](Bytes content) -> std::string {
    write_file(j, content);
    try {
      JournalStore s(tmp.store());
    } catch (const StoreError& e) {
      CHECK(read_file(j) == content);  // refused, not repaired
      return e.what();
    }
    return "";
  };
  Bytes magic = original;
  magic[0] = 'X';
  CHECK(open_error(magic).find("magic") != std::string::npos);
  Bytes newer = original;
  newer[6] = 2;  // version 2, little-endian
  CHECK(open_error(newer).find("newer") != std::string::npos);
  Bytes flags = original;
  flags[9] = 0x80;
  CHECK(open_error(flags).find("") != std::string::npos);
  CHECK(!open_error(flags).empty());
  CHECK(open_error(Bytes(original.begin(), original.begin() + 10)).find("truncated") != std::string::npos);
  CHECK(!open_error(Bytes{}).empty());
}

TEST_CASE("a second open of the same store is refused, naming the holder") {
  TempDir tmp;
  JournalStore first(tmp.store());
  try {
    JournalStore second(tmp.store());
    FAIL("two opens of one store");
  } catch (const StoreError& e) {
    const std::string what = e.what();
    CHECK(what.find("in use") != std::string::npos);
    CHECK(what.find("pid " + std::to_string(::getpid())) != std::string::npos);
  }
}

TEST_CASE("the directory is 0700 and the files 0600, whatever the umask") {
  TempDir tmp;
  const mode_t old = ::umask(0);
  { JournalStore s(tmp.store() / "nested"); }
  ::umask(old);
  CHECK(mode_of(tmp.store() / "nested") == 0700);
  CHECK(mode_of(tmp.store() / "nested" / "journal") == 0600);
  CHECK(mode_of(tmp.store() / "nested" / "lock") == 0600);
  // An existing directory open to others is used, with a warning.
  fs::permissions(tmp.store() / "nested", fs::perms(0755));
  Warnings w;
  JournalStore s(tmp.store() / "nested", w.options());
  CHECK(w.any_contains("0755"));
}

TEST_CASE("compaction keeps the state identical and shrinks the file") {
  TempDir tmp;
  State expected;
  uint64_t before = 0, after = 0;
  JournalOptions fast;
  fast.durability = Durability::batched;  // fewer fdatasyncs; the bytes are the same
  {
    JournalStore s(tmp.store(), fast);
    for (int i = 0; i < 300; ++i) s.commit(put(i));
    for (int i = 0; i < 300; i += 2) s.commit(Mutation{change::DeleteCredential{cred(i).id}});
    for (uint32_t c = 1; c <= 500; ++c) s.commit(Mutation{change::SetSignCount{c}});
    expected = s.state();
    before = s.stats().journal_bytes;
    s.compact();
    after = s.stats().journal_bytes;
    CHECK(s.state() == expected);
    s.commit(put(1000));
    expected = s.state();
  }
  CHECK(after < before / 3);
  CHECK(!fs::exists(tmp.store() / "journal.compact"));
  JournalStore s(tmp.store());
  CHECK(s.state() == expected);
  CHECK(s.state().credentials.size() == 151);
}

TEST_CASE("automatic compaction with a snapshot of several parts") {
  TempDir tmp;
  JournalOptions o;
  o.compact_min_bytes = 256 << 10;
  o.durability = Durability::batched;
  State expected;
  uint64_t compactions = 0;
  {
    JournalStore s(tmp.store(), o);
    for (int i = 0; i < 3000; ++i) {
      s.commit(std::vector<Mutation>{put(i, "rp" + std::to_string(i % 7) + ".example"),
                                     {change::SetSignCount{static_cast<uint32_t>(i)}}});
    }
    expected = s.state();
    compactions = s.stats().compactions;
  }
  CHECK(compactions >= 1);
  CHECK(fs::file_size(tmp.store() / "journal") < (1u << 20));
  JournalStore s(tmp.store(), o);
  CHECK(s.state() == expected);
  CHECK(s.state().credentials.size() == 3000);
}

TEST_CASE("batched mode: a lost tail never sends the counter backwards") {
  TempDir tmp;
  TempDir copy;
  JournalOptions o;
  o.durability = Durability::batched;
  o.batch_commits = 1000;
  o.batch_interval = std::chrono::hours(1);
  o.counter_reserve = 100;
  {
    JournalStore s(tmp.store(), o);
    s.commit(put(1));
    s.commit(Mutation{change::SetSignCount{1}});  // reserves up to 101, synced
    const uint64_t synced = s.stats().journal_bytes;
    for (uint32_t c = 2; c <= 50; ++c) s.commit(Mutation{change::SetSignCount{c}});  // not synced
    CHECK(s.state().sign_count == 50);
    // A power cut loses what was not synced: copy the store as the disk would hold it.
    fs::create_directories(copy.store());
    fs::permissions(copy.store(), fs::perms(0700));
    Bytes f = read_file(s.journal_path());
    write_file(copy.store() / "journal", ByteView(f).first(synced));
    fs::permissions(copy.store() / "journal", fs::perms(0600));
  }
  {
    Warnings w;
    JournalOptions o2 = o;
    o2.warn = w.options().warn;
    JournalStore s(copy.store(), o2);
    CHECK(s.state().sign_count == 101);  // above every value that may have been used
    CHECK(w.any_contains("sign counter raised"));
  }
  {
    // The raise itself is durable.
    JournalStore s(copy.store(), o);
    CHECK(s.state().sign_count == 101);
  }
  // A clean close gives the reservation back: no jump.
  JournalStore s(tmp.store(), o);
  CHECK(s.state().sign_count == 50);
}

TEST_CASE("batched mode syncs PIN changes at once and the rest on schedule") {
  TempDir tmp;
  JournalOptions o;
  o.durability = Durability::batched;
  o.batch_commits = 10;
  o.batch_interval = std::chrono::hours(1);
  JournalStore s(tmp.store(), o);
  const uint64_t syncs0 = s.stats().syncs;
  for (int i = 0; i < 9; ++i) s.commit(put(i));
  CHECK(s.stats().syncs == syncs0);
  CHECK(s.sync_due() == false);
  s.commit(put(9));
  CHECK(s.stats().syncs == syncs0 + 1);
  s.commit(Mutation{change::SetPinRetries{7}});
  CHECK(s.stats().syncs == syncs0 + 2);
}

TEST_CASE("a sealed store: readable only with its passphrase, opaque on disk") {
  TempDir tmp;
  JournalOptions o;
  o.passphrase = "correct horse";
  o.scrypt.log2_n = 10;  // fast for tests
  State expected;
  {
    JournalStore s(tmp.store(), o);
    CHECK(s.stats().sealed);
    s.commit(put(1, "secret-rp.example"));
    s.compact();
    s.commit(put(2, "secret-rp.example"));
    expected = s.state();
  }
  const Bytes file = read_file(tmp.store() / "journal");
  const std::string text(file.begin(), file.end());
  CHECK(text.find("secret-rp") == std::string::npos);
  {
    JournalStore s(tmp.store(), o);
    CHECK(s.state() == expected);
  }
  JournalOptions wrong = o;
  wrong.passphrase = "wrong horse";
  CHECK_THROWS_WITH_AS(JournalStore(tmp.store(), wrong), doctest::Contains("wrong passphrase"), StoreError);
  CHECK_THROWS_WITH_AS(JournalStore(tmp.store()), doctest::Contains("passphrase is required"), StoreError);
  // An altered sealed record (CRC recomputed, as an attacker would) fails authentication.
  Bytes altered = file;
  const auto offsets = record_offsets(file);
  REQUIRE(offsets.size() == 2);
  altered.resize(offsets[1]);  // keep the snapshot only
  altered[altered.size() - 3] ^= 1;
  Bytes payload(altered.begin() + static_cast<long>(offsets[0]) + 8, altered.end());
  altered.resize(offsets[0]);
  vauth::append(altered, journal::frame_record(payload));
  write_file(tmp.store() / "journal", altered);
  CHECK_THROWS_WITH_AS(JournalStore(tmp.store(), o), doctest::Contains("authentication"), StoreError);
}

TEST_CASE("the CBOR encoding ignores unknown keys and refuses unknown mutations") {
  cbor::Value v = codec::encode(cred(5));
  v.as_map()[cbor::Value(99)] = cbor::Value("a field from the future");
  CHECK(codec::decode_credential(v) == cred(5));
  cbor::Value::Map m;
  m[cbor::Value(1)] = cbor::Value(77);
  CHECK_THROWS_WITH_AS(codec::decode_mutation(cbor::Value(m)), doctest::Contains("unknown mutation type 77"),
                       StoreError);
  // Absent fields take their defaults.
  cbor::Value::Map minimal;
  minimal[cbor::Value(1)] = cbor::Value(Bytes{1, 2});
  Credential c = codec::decode_credential(cbor::Value(minimal));
  CHECK(c.id == Bytes{1, 2});
  CHECK(c.rp_id.empty());
  CHECK(c.algorithm == 0);
}

TEST_CASE("a credential replaces the one of the same RP and user, indexed") {
  TempDir tmp;
  JournalStore s(tmp.store());
  Credential a = cred(1), b = cred(2);
  b.user_id = a.user_id;
  s.commit(Mutation{change::PutCredential{a}});
  s.commit(Mutation{change::PutCredential{b}});
  CHECK(s.state().credentials.size() == 1);
  CHECK(s.state().find_credential(b.id) != nullptr);
  s.commit(Mutation{change::DeleteCredential{b.id}});
  s.commit(Mutation{change::PutCredential{a}});
  CHECK(s.state().credentials.size() == 1);
}

#include "store/journal_records.h"
#include "store/snapshot_reader.h"

TEST_CASE("the fast snapshot reader agrees with the general decoder, and defers to it on surprises") {
  State st;
  apply(st, Mutation{change::SetMasterSecret{Bytes(32, 1)}});
  apply(st, Mutation{change::SetPin{Bytes(16, 2), 7}});
  for (int i = 0; i < 2500; ++i) {
    Credential c = cred(i, "rp" + std::to_string(i % 5));
    if (i % 3 == 0) c.user_display_name.clear();
    if (i % 7 == 0) c.algorithm = -257;
    apply(st, Mutation{change::PutCredential{c}});
  }
  const auto parts = journal::encode_snapshot(st, 42, 99u);
  REQUIRE(parts.size() == 3);
  State loaded;
  for (const Bytes& p : parts) {
    auto fast = journal::fast_decode_snapshot(p);
    REQUIRE(fast);
    auto general = cbor::decode(p, cbor::Limits{8, 1 << 20});
    REQUIRE(general);
    const auto& list = general->find(cbor::Value(6))->as_array();
    REQUIRE(list.size() == fast->credentials.size());
    for (size_t k = 0; k < list.size(); ++k) CHECK(codec::decode_credential(list[k]) == fast->credentials[k]);
    CHECK(fast->seq == 42);
    if (fast->index == 0) {
      CHECK(fast->counter_floor == 99u);
      loaded = *fast->scalars;
    }
    for (Credential& c : fast->credentials) load_credential(loaded, std::move(c));
  }
  CHECK(loaded == st);

  // A text-string field (valid, but not what we write): the general path decides.
  cbor::Value::Map c;
  c[cbor::Value(1)] = cbor::Value(Bytes{9});
  c[cbor::Value(2)] = cbor::Value("text.example");
  cbor::Value::Map m;
  m[cbor::Value(1)] = cbor::Value(2);
  m[cbor::Value(2)] = cbor::Value(1);
  m[cbor::Value(3)] = cbor::Value(1);
  m[cbor::Value(4)] = cbor::Value(2);
  m[cbor::Value(6)] = cbor::Value(cbor::Value::Array{cbor::Value(c)});
  const Bytes odd = cbor::encode(cbor::Value(m));
  CHECK(!journal::fast_decode_snapshot(odd));
  auto rec = journal::decode_record(odd);
  REQUIRE(std::holds_alternative<journal::SnapshotRecord>(rec));
  CHECK(std::get<journal::SnapshotRecord>(rec).credentials.at(0).rp_id == "text.example");
}

TEST_CASE("credProtect is stored under key 10, absent means 1, and survives journal and snapshot") {
  Credential c = cred(7);
  c.cred_protect = 3;
  const cbor::Value v = codec::encode(c);
  REQUIRE(v.find(cbor::Value(10)) != nullptr);
  CHECK(v.find(cbor::Value(10))->as_unsigned() == 3);
  CHECK(codec::decode_credential(v) == c);
  CHECK(codec::encode(cred(8)).find(cbor::Value(10)) == nullptr);  // the default is omitted...
  CHECK(codec::decode_credential(codec::encode(cred(8))).cred_protect == 1);  // ...and read back as 1
  cbor::Value bad = codec::encode(c);
  bad.as_map()[cbor::Value(10)] = cbor::Value(4);
  CHECK_THROWS_AS(codec::decode_credential(bad), StoreError);

  TempDir tmp;
  Credential d = cred(9);
  d.cred_protect = 2;
  {
    JournalStore s(tmp.store());
    s.commit(Mutation{change::PutCredential{c}});
    s.commit(Mutation{change::PutCredential{d}});
  }
  {
    JournalStore s(tmp.store());  // replayed from batches
    CHECK(s.state().find_credential(c.id)->cred_protect == 3);
    CHECK(s.state().find_credential(d.id)->cred_protect == 2);
    s.compact();
  }
  JournalStore s(tmp.store());  // replayed from a snapshot (the fast reader)
  CHECK(s.state().find_credential(c.id)->cred_protect == 3);
  CHECK(s.state().find_credential(d.id)->cred_protect == 2);
}
