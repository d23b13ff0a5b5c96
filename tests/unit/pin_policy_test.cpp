// The one PIN policy shared by clientPIN, vauthd --pin and the control API.
#include <doctest/doctest.h>

#include <string>

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/pin_policy.h"

using namespace vauth;

TEST_CASE("PIN policy: code points, not bytes; at most 63 bytes; no NUL") {
  ctap::Profile p;
  CHECK(ctap::pin_meets_policy(std::string_view("1234"), p));
  CHECK_FALSE(ctap::pin_meets_policy(std::string_view("123"), p));
  // Three characters of two bytes each are 6 bytes but only 3 code points.
  CHECK_FALSE(ctap::pin_meets_policy(std::string_view("\xc3\xa4\xc3\xb6\xc3\xbc"), p));
  CHECK(ctap::pin_meets_policy(std::string_view("\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f"), p));
  CHECK(ctap::pin_meets_policy(std::string(63, '7'), p));
  CHECK_FALSE(ctap::pin_meets_policy(std::string(64, '7'), p));
  CHECK_FALSE(ctap::pin_meets_policy(std::string("12\0" "34", 5), p));
  p.min_pin_length = 6;
  CHECK_FALSE(ctap::pin_meets_policy(std::string_view("12345"), p));
  CHECK(ctap::pin_meets_policy(std::string_view("123456"), p));
}

TEST_CASE("PIN hash: LEFT(SHA-256(PIN), 16)") {
  const Bytes full = crypto::sha256(to_bytes("1234"));
  CHECK(ctap::pin_hash(std::string_view("1234")) == Bytes(full.begin(), full.begin() + 16));
}
