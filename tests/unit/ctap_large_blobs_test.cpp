// authenticatorLargeBlobs (CTAP 2.1 §6.10): reading and writing the serialized
// large-blob array in fragments, its truncated-hash check, the lbw permission,
// every error the spec names, persistence, reset and power cycle.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "store/journal_store.h"
#include "tests/unit/ctap_ext_support.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

// 0x80 || LEFT(SHA-256(0x80), 16), computed here from the definition.
Bytes initial_array() {
  Bytes a{0x80};
  Bytes h = crypto::sha256(a);
  append(a, ByteView(h).first(16));
  return a;
}

// A serialized large-blob array holding `n` bytes of CBOR-ish payload (the
// authenticator only checks the trailing hash, not the CBOR).
Bytes array_of(size_t n, uint8_t fill = 0x42) {
  Bytes body(n, fill);
  body[0] = 0x81;
  Bytes h = crypto::sha256(body);
  append(body, ByteView(h).first(16));
  return body;
}

Response get(Harness& h, uint64_t count, uint64_t offset) { return h.call(kLargeBlobs, Map{{1, count}, {3, offset}}); }

Response set(Harness& h, const Bytes& fragment, uint64_t offset, std::optional<uint64_t> length = {},
             std::optional<Bytes> pin_auth = {}, std::optional<int> protocol = {}) {
  Map m{{2, fragment}, {3, offset}};
  if (length) m[4] = *length;
  if (pin_auth) m[5] = *pin_auth;
  if (protocol) m[6] = *protocol;
  return h.call(kLargeBlobs, m);
}

// Reads the whole array in fragments of `chunk` bytes.
Bytes read_all(Harness& h, size_t chunk = 1000) {
  Bytes out;
  for (;;) {
    Response r = get(h, chunk, out.size());
    REQUIRE(r.ok());
    const cbor::Value* c = r.get(1);
    REQUIRE(c);
    REQUIRE(c->is_bytes());
    append(out, c->as_bytes());
    if (c->as_bytes().size() < chunk) return out;
  }
}

// pinUvAuthParam for a fragment: authenticate(token, 32×0xff || 0x0c 0x00 || uint32LE(offset) || SHA-256(fragment)).
Bytes fragment_auth(const Platform& p, const Bytes& token, uint32_t offset, const Bytes& fragment) {
  Bytes msg(32, 0xff);
  msg.push_back(0x0c);
  msg.push_back(0x00);
  for (int i = 0; i < 4; ++i) msg.push_back(static_cast<uint8_t>(offset >> (8 * i)));
  append(msg, crypto::sha256(fragment));
  return p.authenticate(token, msg);
}

}  // namespace

TEST_CASE("largeBlobs: the initial array is 0x80 and its truncated hash") {
  Harness h;
  CHECK(to_hex(initial_array()) == "8076be8b528d0075f7aae98d6fa57a6d3c");
  CHECK(read_all(h) == initial_array());
  Response r = get(h, 5, 3);
  REQUIRE(r.ok());
  const Bytes initial = initial_array();
  CHECK(r.get(1)->as_bytes() == Bytes(initial.begin() + 3, initial.begin() + 8));
  // Reading at the very end gives an empty fragment; beyond it is an error.
  CHECK(get(h, 10, 17).get(1)->as_bytes().empty());
  CHECK(get(h, 10, 18).status == Status::InvalidParameter);
}

TEST_CASE("largeBlobs: getInfo advertises the command and its maximum") {
  Harness h;
  Response info = h.call(kGetInfo);
  REQUIRE(info.ok());
  CHECK(*info.get(4)->find("largeBlobs") == cbor::Value(true));
  CHECK(*info.get(0x0b) == cbor::Value(4096));
  CHECK(*info.get(0x0f) == cbor::Value(32));

  ctap::Profile off;
  off.max_serialized_large_blob_array = 0;
  Harness h2(off);
  Response info2 = h2.call(kGetInfo);
  CHECK_FALSE(info2.get(4)->find("largeBlobs"));
  CHECK_FALSE(info2.get(0x0b));
  CHECK(get(h2, 10, 0).status == Status::InvalidCommand);
}

TEST_CASE("largeBlobs: a write in one fragment and in several, without a PIN") {
  Harness h;
  SUBCASE("one fragment") {
    const Bytes a = array_of(100);
    REQUIRE(set(h, a, 0, a.size()).ok());
    CHECK(read_all(h) == a);
    CHECK(h.state().large_blob_array == a);
  }
  SUBCASE("three fragments, read back in odd chunks") {
    const Bytes a = array_of(3000);
    REQUIRE(set(h, Bytes(a.begin(), a.begin() + 1000), 0, a.size()).ok());
    CHECK(read_all(h) == initial_array());  // nothing changes until the last fragment
    REQUIRE(set(h, Bytes(a.begin() + 1000, a.begin() + 2000), 1000).ok());
    REQUIRE(set(h, Bytes(a.begin() + 2000, a.end()), 2000).ok());
    CHECK(read_all(h, 777) == a);
  }
  SUBCASE("a new offset-0 fragment restarts the write") {
    const Bytes a = array_of(200), b = array_of(50, 0x77);
    REQUIRE(set(h, Bytes(a.begin(), a.begin() + 100), 0, a.size()).ok());
    REQUIRE(set(h, b, 0, b.size()).ok());
    CHECK(read_all(h) == b);
  }
}

TEST_CASE("largeBlobs: the truncated hash must match (CTAP2_ERR_INTEGRITY_FAILURE)") {
  Harness h;
  const Bytes good = array_of(64);
  REQUIRE(set(h, good, 0, good.size()).ok());
  Bytes bad = array_of(80);
  bad[10] ^= 1;
  CHECK(set(h, bad, 0, bad.size()).status == Status::IntegrityFailure);
  CHECK(read_all(h) == good);  // unchanged
  // The failed write is over: its continuation is out of sequence.
  CHECK(set(h, Bytes(5, 0), bad.size()).status == Status::InvalidSeq);
}

TEST_CASE("largeBlobs: sequencing and length errors") {
  Harness h;
  const Bytes a = array_of(300);
  const size_t max_fragment = h.auth->profile().max_message_size - 64;
  SUBCASE("a continuation without a start") { CHECK(set(h, Bytes(10, 0), 10).status == Status::InvalidSeq); }
  SUBCASE("a fragment at the wrong offset") {
    REQUIRE(set(h, Bytes(a.begin(), a.begin() + 100), 0, a.size()).ok());
    CHECK(set(h, Bytes(a.begin() + 100, a.begin() + 200), 99).status == Status::InvalidSeq);
    CHECK(set(h, Bytes(a.begin() + 100, a.begin() + 200), 101).status == Status::InvalidSeq);
    REQUIRE(set(h, Bytes(a.begin() + 100, a.end()), 100).ok());  // the right one still works
    CHECK(read_all(h) == a);
  }
  SUBCASE("more bytes than announced") {
    REQUIRE(set(h, Bytes(a.begin(), a.begin() + 100), 0, a.size()).ok());
    CHECK(set(h, Bytes(a.size() - 100 + 1, 0), 100).status == Status::InvalidParameter);
    CHECK(set(h, Bytes(a.size() + 1, 0), 0, a.size()).status == Status::InvalidParameter);
  }
  SUBCASE("length: required at offset 0, refused elsewhere, at least 17, at most the maximum") {
    CHECK(set(h, a, 0).status == Status::InvalidParameter);
    REQUIRE(set(h, Bytes(a.begin(), a.begin() + 100), 0, a.size()).ok());
    CHECK(set(h, Bytes(a.begin() + 100, a.end()), 100, a.size()).status == Status::InvalidParameter);
    CHECK(set(h, Bytes(16, 0), 0, 16).status == Status::InvalidParameter);
    CHECK(set(h, Bytes(10, 0), 0, 4097).status == Status::LargeBlobStorageFull);
    const Bytes full = array_of(4096 - 16);
    REQUIRE(set(h, Bytes(full.begin(), full.begin() + 4000), 0, full.size()).ok());
    REQUIRE(set(h, Bytes(full.begin() + 4000, full.end()), 4000).ok());
    CHECK(read_all(h) == full);
  }
  SUBCASE("fragments and reads longer than maxFragmentLength") {
    CHECK(set(h, Bytes(max_fragment + 1, 0), 0, 4000).status == Status::InvalidLength);
    CHECK(get(h, max_fragment + 1, 0).status == Status::InvalidLength);
    CHECK(get(h, max_fragment, 0).ok());
  }
  SUBCASE("get and set together, or neither, or no offset") {
    CHECK(h.call(kLargeBlobs, Map{{1, 10}, {2, Bytes(17, 0)}, {3, 0}, {4, 17}}).status == Status::InvalidParameter);
    CHECK(h.call(kLargeBlobs, Map{{3, 0}}).status == Status::InvalidParameter);
    CHECK(h.call(kLargeBlobs, Map{{1, 10}}).status == Status::InvalidParameter);
    CHECK(h.call(kLargeBlobs, Map{{1, 10}, {3, 0}, {4, 17}}).status == Status::InvalidParameter);
  }
  SUBCASE("wrong types") {
    CHECK(h.call(kLargeBlobs, Map{{1, "ten"}, {3, 0}}).status == Status::CborUnexpectedType);
    CHECK(h.call(kLargeBlobs, Map{{2, "text"}, {3, 0}, {4, 17}}).status == Status::CborUnexpectedType);
    CHECK(h.call(kLargeBlobs, Map{{1, 10}, {3, Bytes{0}}}).status == Status::CborUnexpectedType);
    CHECK(h.call(kLargeBlobs, Map{{1, -1}, {3, 0}}).status == Status::CborUnexpectedType);
    CHECK(h.call(kLargeBlobs, Map{{1, 10}, {3, -1}}).status == Status::InvalidParameter);
    CHECK(h.call_raw(Bytes{kLargeBlobs}).status == Status::MissingParameter);
    CHECK(h.call_raw(Bytes{kLargeBlobs, 0xa1}).status == Status::InvalidCbor);
  }
}

TEST_CASE("largeBlobs: with a PIN every fragment needs an lbw token") {
  for (int protocol : {1, 2}) {
    CAPTURE(protocol);
    Harness h;
    Platform p(h, protocol);
    REQUIRE(p.set_pin("1234").ok());
    const Bytes a = array_of(1500);
    const Bytes first(a.begin(), a.begin() + 1000), rest(a.begin() + 1000, a.end());
    auto token = p.token("1234", kPermLbw);
    REQUIRE(token);

    CHECK(set(h, first, 0, a.size()).status == Status::PuatRequired);
    CHECK(set(h, first, 0, a.size(), fragment_auth(p, *token, 0, first)).status == Status::MissingParameter);
    CHECK(set(h, first, 0, a.size(), fragment_auth(p, *token, 0, first), 3).status == Status::InvalidParameter);
    CHECK(set(h, first, 0, a.size(), fragment_auth(p, *token, 1, first), protocol).status == Status::PinAuthInvalid);
    CHECK(set(h, first, 0, a.size(), fragment_auth(p, *token, 0, rest), protocol).status == Status::PinAuthInvalid);

    REQUIRE(set(h, first, 0, a.size(), fragment_auth(p, *token, 0, first), protocol).ok());
    REQUIRE(set(h, rest, 1000, std::nullopt, fragment_auth(p, *token, 1000, rest), protocol).ok());
    CHECK(read_all(h) == a);  // reading needs no token

    // A token without lbw cannot write, even when its MAC is right.
    auto ga_token = p.token("1234", kPermGa | kPermMc);
    REQUIRE(ga_token);
    const Bytes b = array_of(40);
    CHECK(set(h, b, 0, b.size(), fragment_auth(p, *ga_token, 0, b), protocol).status == Status::PinAuthInvalid);
    // lbw survives a getAssertion that used the same token (the usage rules keep it).
    auto both = p.token("1234", kPermGa | kPermLbw);
    REQUIRE(both);
    Credential c = make_credential(h);
    GetAssertionRequest ga;
    ga.allow(c.id);
    ga.pin_auth = p.authenticate(*both, ga.client_data_hash);
    ga.pin_protocol = protocol;
    REQUIRE(h.call(kGetAssertion, ga.build()).ok());
    CHECK(set(h, b, 0, b.size(), fragment_auth(p, *both, 0, b), protocol).ok());
    CHECK(read_all(h) == b);
  }
}

TEST_CASE("largeBlobs: reset forgets the array; a power cycle abandons a write in progress") {
  Harness h;
  const Bytes a = array_of(100);
  REQUIRE(set(h, a, 0, a.size()).ok());
  const Bytes b = array_of(200);
  REQUIRE(set(h, Bytes(b.begin(), b.begin() + 50), 0, b.size()).ok());
  h.auth->power_cycle();
  CHECK(set(h, Bytes(b.begin() + 50, b.end()), 50).status == Status::InvalidSeq);
  CHECK(read_all(h) == a);
  REQUIRE(h.call(kReset).ok());
  CHECK(read_all(h) == initial_array());
  CHECK(h.state().large_blob_array.empty());
}

TEST_CASE("largeBlobs: the array survives a restart of a journal store") {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "vauth-lb-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = fs::path(tmpl) / "store";
  const Bytes a = array_of(500);
  {
    store::JournalStore js(dir);
    crypto::SeededRng rng(7);
    ManualClock clock;
    TimerQueue timers{clock};
    ctap::ControlledPresence presence(timers, ctap::ControlledPresence::Mode::Approve);
    ctap::Authenticator auth(ctap::Environment{js, rng, timers, presence, ctap::Profile{}});
    Pending p;
    Bytes req{kLargeBlobs};
    append(req, cbor::encode(cbor::Value(Map{{2, a}, {3, 0}, {4, a.size()}})));
    auth.handle_cbor(req, p.reply());
    REQUIRE(p.get().ok());
  }
  {
    store::JournalStore js(dir);
    CHECK(js.state().large_blob_array == a);
  }
  std::error_code ec;
  fs::remove_all(tmpl, ec);
}
