// The W3C largeBlob in provisioning (vauth/daemon/large_blob_entry.h,
// provisioning_json.h): a blob put into the serialized large-blob array under
// a largeBlobKey reads back only under that key, replaces that key's old entry
// and leaves other keys' entries alone, and the JSON refusals name the field;
// removing credentials drops only the entries no credential that stays can read.
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "ctap_test_support.h"
#include "vauth/cbor/codec.h"
#include "vauth/crypto/keys.h"
#include "vauth/crypto/pkcs8.h"
#include "vauth/crypto/primitives.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/large_blobs.h"
#include "vauth/daemon/base64url.h"
#include "vauth/daemon/large_blob_entry.h"
#include "vauth/daemon/large_blob_orphans.h"
#include "vauth/daemon/provisioning_json.h"

namespace vauth::ctaptest {
namespace {

using daemon::base64url_encode;
using nlohmann::json;

cbor::Value::Array entries_of(const Bytes& array) {
  REQUIRE(ctap::large_blob_array_intact(array));
  auto v = cbor::decode(ctap::large_blob_array_body(array));
  REQUIRE(v);
  REQUIRE(v->is_array());
  return v->as_array();
}

// The spec's format, checked here with zlib directly: raw DEFLATE (no RFC 1950 header).
Bytes inflate_raw(const Bytes& compressed, size_t size) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, -15) == Z_OK);
  Bytes out(size);
  z.next_in = const_cast<Bytef*>(compressed.data());
  z.avail_in = static_cast<uInt>(compressed.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  inflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);
  return out;
}

json resident_with_blob(const Bytes& blob) {
  crypto::SeededRng rng(9);
  auto key = crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng);
  return {{"credentialId", base64url_encode(Bytes(16, 7))},
          {"isResidentCredential", true},
          {"rpId", "example.com"},
          {"privateKey", base64url_encode(crypto::private_key_to_pkcs8(key))},
          {"userHandle", base64url_encode(Bytes{1})},
          {"largeBlob", base64url_encode(blob)}};
}

// An array with one entry per key, each holding the key's first byte as its blob.
Bytes array_for(const std::vector<Bytes>& keys, crypto::Rng& rng) {
  Bytes array = ctap::initial_large_blob_array();
  for (const Bytes& k : keys) {
    auto next = daemon::large_blob_array_with(array, k, Bytes{k[0]}, rng);
    REQUIRE(next);
    array = std::move(*next);
  }
  return array;
}

store::Credential resident(uint8_t tag, Bytes large_blob_key) {
  store::Credential c;
  c.id = Bytes(16, tag);
  c.rp_id = "example.com";
  c.user_id = Bytes{tag};
  c.algorithm = -7;
  c.large_blob_key = std::move(large_blob_key);
  return c;
}

store::State with_credentials(const std::vector<store::Credential>& list, Bytes array) {
  store::State st;
  for (const auto& c : list) store::apply(st, {store::change::PutCredential{c}});
  store::apply(st, {store::change::SetLargeBlobArray{std::move(array)}});
  return st;
}

}  // namespace

TEST_CASE("a blob written under a largeBlobKey reads back only under that key") {
  crypto::SeededRng rng(1);
  const Bytes key(32, 0x11), other(32, 0x22);
  const Bytes blob = to_bytes("a blob that compresses: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  auto array = daemon::large_blob_array_with({}, key, blob, rng);
  REQUIRE(array);
  const auto list = entries_of(*array);
  REQUIRE(list.size() == 1);
  // CTAP 2.1 §6.10.3: {1: ciphertext, 2: nonce (12 bytes), 3: origSize}.
  REQUIRE(list[0].is_map());
  CHECK(list[0].find(2)->as_bytes().size() == 12);
  CHECK(list[0].find(3)->as_unsigned() == blob.size());
  // Compressed, then a 16-byte GCM tag: shorter than the repetitive blob itself.
  CHECK(list[0].find(1)->as_bytes().size() < blob.size());
  Bytes aad = to_bytes("blob");
  for (int i = 0; i < 8; ++i) aad.push_back(static_cast<uint8_t>(static_cast<uint64_t>(blob.size()) >> (8 * i)));
  auto compressed = crypto::aes256_gcm_open(key, list[0].find(2)->as_bytes(), aad, list[0].find(1)->as_bytes());
  REQUIRE(compressed);
  CHECK(inflate_raw(*compressed, blob.size()) == blob);
  CHECK(daemon::large_blob_in(*array, key) == blob);
  CHECK_FALSE(daemon::large_blob_in(*array, other));
  CHECK_FALSE(daemon::large_blob_in(*array, {}));
  CHECK_FALSE(daemon::large_blob_in({}, key));

  // An empty blob is a blob too.
  auto empty = daemon::large_blob_array_with({}, key, {}, rng);
  REQUIRE(empty);
  CHECK(daemon::large_blob_in(*empty, key) == Bytes{});
}

TEST_CASE("a second blob under the same key replaces the first; other keys' entries stay") {
  crypto::SeededRng rng(2);
  const Bytes key(32, 0x11), other(32, 0x22);
  auto a = daemon::large_blob_array_with(ctap::initial_large_blob_array(), other, to_bytes("theirs"), rng);
  REQUIRE(a);
  auto b = daemon::large_blob_array_with(*a, key, to_bytes("first"), rng);
  REQUIRE(b);
  auto c = daemon::large_blob_array_with(*b, key, to_bytes("second"), rng);
  REQUIRE(c);
  CHECK(entries_of(*c).size() == 2);
  CHECK(daemon::large_blob_in(*c, key) == to_bytes("second"));
  CHECK(daemon::large_blob_in(*c, other) == to_bytes("theirs"));
}

TEST_CASE("an entry with the zlib wrapper (python-fido2 0.9's put_blob) reads back too") {
  const Bytes key(32, 0x55), blob = to_bytes("written by an older client");
  Bytes zlib_stream(compressBound(blob.size()));
  uLongf length = zlib_stream.size();
  REQUIRE(compress(zlib_stream.data(), &length, blob.data(), blob.size()) == Z_OK);  // RFC 1950, not raw
  zlib_stream.resize(length);
  const Bytes nonce(12, 0x01);
  Bytes aad = to_bytes("blob");
  for (int i = 0; i < 8; ++i) aad.push_back(static_cast<uint8_t>(static_cast<uint64_t>(blob.size()) >> (8 * i)));
  auto sealed = crypto::aes256_gcm_seal(key, nonce, aad, zlib_stream);
  REQUIRE(sealed);
  const cbor::Value::Array list{cbor::Value::Map{{1, *sealed}, {2, nonce}, {3, blob.size()}}};
  const Bytes array = ctap::serialized_large_blob_array(cbor::encode(cbor::Value(list)));
  CHECK(daemon::large_blob_in(array, key) == blob);
  // origSize is bound into the associated data: a changed one does not open.
  const cbor::Value::Array lying{cbor::Value::Map{{1, *sealed}, {2, nonce}, {3, blob.size() + 1}}};
  CHECK_FALSE(daemon::large_blob_in(ctap::serialized_large_blob_array(cbor::encode(cbor::Value(lying))), key));
}

TEST_CASE("an array that is not a CBOR array is not edited") {
  crypto::SeededRng rng(3);
  const Bytes not_an_array = ctap::serialized_large_blob_array(Bytes{0xa0});  // an empty map, hash intact
  auto r = daemon::large_blob_array_with(not_an_array, Bytes(32, 1), to_bytes("x"), rng);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("not a CBOR array") != std::string::npos);
  Bytes broken = ctap::initial_large_blob_array();
  broken.back() ^= 1;  // the hash no longer matches
  CHECK_FALSE(daemon::large_blob_array_with(broken, Bytes(32, 1), to_bytes("x"), rng));
}

TEST_CASE("largeBlob in Credential Parameters: parsed for resident credentials, refused otherwise") {
  const Bytes blob = to_bytes("hello");
  auto ok = daemon::credential_from_json(resident_with_blob(blob), {});
  REQUIRE(ok);
  REQUIRE(ok->large_blob);
  CHECK(*ok->large_blob == blob);
  CHECK(ok->credential.large_blob_key.empty());  // the route generates one

  json non_resident = resident_with_blob(blob);
  non_resident["isResidentCredential"] = false;
  auto r = daemon::credential_from_json(non_resident, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("largeBlob needs a resident credential") != std::string::npos);

  json bad = resident_with_blob(blob);
  bad["largeBlob"] = "not base64url!";
  r = daemon::credential_from_json(bad, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("largeBlob is not valid base64url") != std::string::npos);

  json huge = resident_with_blob(Bytes(daemon::kMaxLargeBlobSize + 1, 0));
  r = daemon::credential_from_json(huge, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("largeBlob must decode") != std::string::npos);

  ctap::Profile no_blobs;
  no_blobs.max_serialized_large_blob_array = 0;
  r = daemon::credential_from_json(resident_with_blob(blob), no_blobs);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("no large-blob storage") != std::string::npos);
}

TEST_CASE("export shows the blob the array holds under the credential's key, and only then") {
  crypto::SeededRng rng(4);
  auto parsed = daemon::credential_from_json(resident_with_blob(to_bytes("hello")), {});
  REQUIRE(parsed);
  store::Credential c = parsed->credential;
  c.large_blob_key = Bytes(32, 0x33);
  auto array = daemon::large_blob_array_with({}, c.large_blob_key, *parsed->large_blob, rng);
  REQUIRE(array);
  const json out = daemon::credential_to_json(c, 0, true, *array);
  CHECK(out["largeBlob"] == base64url_encode(to_bytes("hello")));
  // Re-adding the export gives the same blob back.
  auto again = daemon::credential_from_json(out, {});
  REQUIRE(again);
  CHECK(again->large_blob == to_bytes("hello"));
  CHECK(again->credential.large_blob_key == c.large_blob_key);
  // No private-key export, another key's array, or no array: no largeBlob.
  CHECK_FALSE(daemon::credential_to_json(c, 0, false, *array).contains("largeBlob"));
  CHECK_FALSE(daemon::credential_to_json(c, 0, true).contains("largeBlob"));
  c.large_blob_key = Bytes(32, 0x44);
  CHECK_FALSE(daemon::credential_to_json(c, 0, true, *array).contains("largeBlob"));
}

TEST_CASE("a device document's credentials carry no largeBlob: the document has largeBlobArray") {
  json doc = {{"format", "vauth-device"},
              {"version", 1},
              {"masterSecret", base64url_encode(Bytes(32, 9))},
              {"credentials", json::array({resident_with_blob(to_bytes("x"))})}};
  auto r = daemon::device_import_mutations(doc, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("largeBlobArray") != std::string::npos);
}

TEST_CASE("large_blob_array_without drops the entries of the given keys and keeps every other entry") {
  crypto::SeededRng rng(5);
  const Bytes a(32, 0xa1), b(32, 0xb2), c(32, 0xc3), stranger(32, 0xd4);
  const Bytes array = array_for({a, b, c}, rng);
  auto without = daemon::large_blob_array_without(array, {a, c});
  REQUIRE(without);
  CHECK(entries_of(*without).size() == 1);
  CHECK(daemon::large_blob_in(*without, b) == Bytes{0xb2});
  CHECK_FALSE(daemon::large_blob_in(*without, a));
  CHECK_FALSE(daemon::large_blob_in(*without, c));
  // Nothing to drop: no change, so no store write.
  CHECK_FALSE(daemon::large_blob_array_without(array, {stranger}));
  CHECK_FALSE(daemon::large_blob_array_without(array, {}));
  CHECK_FALSE(daemon::large_blob_array_without({}, {a}));
  // An array vauth cannot read is left as it is.
  CHECK_FALSE(daemon::large_blob_array_without(ctap::serialized_large_blob_array(Bytes{0xa0}), {a}));
  // Dropping the last entry leaves the initial array (empty CBOR array, its hash).
  auto only = daemon::large_blob_array_without(array_for({a}, rng), {a});
  REQUIRE(only);
  CHECK(*only == ctap::initial_large_blob_array());
}

TEST_CASE("an entry sealed under a removed key goes even if its content does not inflate") {
  const Bytes key(32, 0x66), nonce(12, 0x02);
  Bytes aad = to_bytes("blob");
  for (int i = 0; i < 8; ++i) aad.push_back(i == 0 ? 3 : 0);  // origSize 3
  auto sealed = crypto::aes256_gcm_seal(key, nonce, aad, to_bytes("not deflate"));
  REQUIRE(sealed);
  const cbor::Value::Array list{cbor::Value::Map{{1, *sealed}, {2, nonce}, {3, uint64_t{3}}},
                                cbor::Value("an opaque entry some client wrote")};
  const Bytes array = ctap::serialized_large_blob_array(cbor::encode(cbor::Value(list)));
  CHECK_FALSE(daemon::large_blob_in(array, key));  // not readable as a blob...
  auto without = daemon::large_blob_array_without(array, {key});
  REQUIRE(without);  // ...but the key's all the same
  const auto left = entries_of(*without);
  REQUIRE(left.size() == 1);
  CHECK(left[0].is_text());
}

TEST_CASE("removing credentials orphans only the keys no credential that stays holds") {
  crypto::SeededRng rng(6);
  const Bytes ka(32, 0x0a), kb(32, 0x0b), kc(32, 0x0c);
  // 1 and 4 share a key (an export added twice under two IDs); 3 has none.
  const auto c1 = resident(1, ka), c2 = resident(2, kb), c3 = resident(3, {}), c4 = resident(4, ka);
  const store::State st = with_credentials({c1, c2, c3, c4}, array_for({ka, kb, kc}, rng));

  auto without2 = daemon::large_blob_array_without_removed(st, {c2.id});
  REQUIRE(without2);
  CHECK_FALSE(daemon::large_blob_in(*without2, kb));
  CHECK(daemon::large_blob_in(*without2, ka) == Bytes{0x0a});
  CHECK(daemon::large_blob_in(*without2, kc) == Bytes{0x0c});  // nobody's key, but not ours to judge

  CHECK_FALSE(daemon::large_blob_array_without_removed(st, {c3.id}));         // no largeBlobKey
  CHECK_FALSE(daemon::large_blob_array_without_removed(st, {c1.id}));         // 4 still reads it
  CHECK_FALSE(daemon::large_blob_array_without_removed(st, {Bytes(16, 9)}));  // not on the device
  auto both = daemon::large_blob_array_without_removed(st, {c1.id, c4.id});
  REQUIRE(both);
  CHECK_FALSE(daemon::large_blob_in(*both, ka));
  CHECK(daemon::large_blob_in(*both, kb) == Bytes{0x0b});

  // A replacing add whose new credential brings the old one's key keeps the entry.
  store::Credential successor = resident(5, kb);
  CHECK_FALSE(daemon::large_blob_array_without_removed(st, {c2.id}, &successor));
  successor.large_blob_key = Bytes(32, 0x0e);
  CHECK(daemon::large_blob_array_without_removed(st, {c2.id}, &successor));

  // All of them: every entry a credential could read goes; the stranger's stays.
  auto all = daemon::large_blob_array_without_removed(st, {c1.id, c2.id, c3.id, c4.id});
  REQUIRE(all);
  REQUIRE(entries_of(*all).size() == 1);
  CHECK(daemon::large_blob_in(*all, kc) == Bytes{0x0c});
}

}  // namespace vauth::ctaptest
