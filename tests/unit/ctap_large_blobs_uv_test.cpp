// authenticatorLargeBlobs (CTAP 2.1 §6.10.2) on a key whose user verification is
// not (only) a PIN: a write needs a pinUvAuthParam whenever the key is "protected
// by some form of user verification" (a PIN or an enrolled finger) or alwaysUv is
// on, and a token from built-in UV with the lbw permission authorises it. The
// lbw permission exists only while the key offers large blobs.
#include <doctest/doctest.h>

#include "tests/unit/ctap_platform2.h"

using namespace vauth;
using namespace vauth::ctaptest;

namespace {

constexpr uint8_t kLargeBlobs = 0x0c;
constexpr int kToggleAlwaysUv = 0x02;

// A serialized large-blob array: `n` bytes and the truncated SHA-256 of them.
Bytes array_of(size_t n) {
  Bytes body(n, 0x42);
  body[0] = 0x81;
  Bytes h = crypto::sha256(body);
  append(body, ByteView(h).first(16));
  return body;
}

// One set fragment at offset 0 carrying the whole array, authorised by `token` if given
// (protocol 2: HMAC over 32×0xff || 0x0c 0x00 || uint32LE(0) || SHA-256(fragment)).
Response write_whole(Harness& h, const Bytes& array, const std::optional<Bytes>& token) {
  Map m{{2, array}, {3, 0}, {4, array.size()}};
  if (token) {
    Bytes msg(32, 0xff);
    append(msg, Bytes{0x0c, 0x00, 0, 0, 0, 0});
    append(msg, crypto::sha256(array));
    m[5] = Platform2::auth(*token, msg);
    m[6] = 2;
  }
  return h.call(kLargeBlobs, m);
}

}  // namespace

TEST_CASE("largeBlobs: a finger-protected key without a PIN needs a token; one from built-in UV with lbw works") {
  Harness h;
  Platform2 p(h);
  // A finger as `vauthd --fingerprints 1` leaves it: enrolled, no PIN.
  h.store.commit(std::vector<store::Mutation>{{store::change::PutEnrollment{{Bytes{1, 2, 3, 4}, ""}}}});
  REQUIRE_FALSE(h.state().pin_hash);

  const Bytes a = array_of(64);
  CHECK(write_whole(h, a, std::nullopt).status == Status::PuatRequired);
  CHECK(h.state().large_blob_array.empty());

  auto ga_only = p.uv_token(kPermGa, "example.com");
  REQUIRE(ga_only);
  CHECK(write_whole(h, a, ga_only).status == Status::PinAuthInvalid);

  auto lbw = p.uv_token(kPermLbw);
  REQUIRE(lbw);
  REQUIRE(write_whole(h, a, lbw).ok());
  CHECK(h.state().large_blob_array == a);
}

TEST_CASE("largeBlobs: alwaysUv alone also asks for a token (PUAT_REQUIRED)") {
  Harness h;
  // An unprotected key may toggle alwaysUv without authorisation.
  REQUIRE(h.call(kConfig, Map{{1, kToggleAlwaysUv}}).ok());
  REQUIRE(h.state().config.always_uv);
  CHECK(write_whole(h, array_of(64), std::nullopt).status == Status::PuatRequired);
  CHECK(h.state().large_blob_array.empty());
}

TEST_CASE("largeBlobs: the lbw permission is UNAUTHORIZED_PERMISSION on a key without large blobs") {
  ctap::Profile off;
  off.max_serialized_large_blob_array = 0;
  Harness h(off);
  Platform2 p(h);
  REQUIRE(p.set_pin("1234").ok());
  CHECK_FALSE(p.pin_token("1234", kPermLbw));
  CHECK(p.status() == Status::UnauthorizedPermission);
  CHECK(p.pin_token("1234", kPermGa | kPermMc, "example.com"));

  Harness on;
  Platform2 q(on);
  REQUIRE(q.set_pin("1234").ok());
  CHECK(q.pin_token("1234", kPermLbw));
}
