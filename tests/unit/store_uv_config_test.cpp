// The store's new state for built-in UV, bio enrollment and authenticatorConfig:
// each mutation round-trips through the codec, snapshots carry it, an older
// record without it reads as the defaults, and Reset clears it.
#include <doctest/doctest.h>

#include "store/codec.h"
#include "store/state.h"

using namespace vauth;
using namespace vauth::store;

namespace {

Mutation round_trip(const Mutation& m) { return codec::decode_mutation(codec::encode(m)); }

AuthenticatorConfig sample_config() {
  AuthenticatorConfig c;
  c.min_pin_length = 9;
  c.min_pin_length_rp_ids = {"a.example", "b.example"};
  c.force_pin_change = true;
  c.always_uv = true;
  c.enterprise_attestation = true;
  return c;
}

}  // namespace

TEST_CASE("new mutations survive encode/decode and apply as documented") {
  State s;
  for (const Mutation& m : {Mutation{change::SetPinCodePoints{6}}, Mutation{change::SetUvRetries{3}},
                            Mutation{change::SetConfig{sample_config()}},
                            Mutation{change::PutEnrollment{{Bytes{1, 2}, "thumb"}}},
                            Mutation{change::PutEnrollment{{Bytes{3, 4}, ""}}},
                            Mutation{change::PutEnrollment{{Bytes{1, 2}, "left thumb"}}},
                            Mutation{change::DeleteEnrollment{Bytes{3, 4}}}}) {
    apply(s, round_trip(m));
  }
  CHECK(s.pin_code_points == 6);
  CHECK(s.uv_retries == 3);
  CHECK(s.config == sample_config());
  REQUIRE(s.enrollments.size() == 1);
  CHECK(s.enrollments[0] == Enrollment{Bytes{1, 2}, "left thumb"});

  // Snapshots carry it too.
  State t;
  codec::decode_scalars(codec::encode_scalars(s), t);
  CHECK(t.pin_code_points == 6);
  CHECK(t.uv_retries == 3);
  CHECK(t.config == s.config);
  CHECK(t.enrollments == s.enrollments);

  apply(s, Mutation{change::Reset{Bytes(32, 7)}});
  CHECK(s.uv_retries == 8);
  CHECK(s.pin_code_points == 0);
  CHECK(s.config == AuthenticatorConfig{});
  CHECK(s.enrollments.empty());
}

TEST_CASE("a snapshot written before these fields existed reads as the defaults") {
  cbor::Value::Map old{{1, Bytes(32, 1)}, {4, 8}, {5, 17}, {6, 3}};
  State s;
  codec::decode_scalars(cbor::Value(old), s);
  CHECK(s.sign_count == 17);
  CHECK(s.uv_retries == 8);
  CHECK(s.config == AuthenticatorConfig{});
  CHECK(s.enrollments.empty());
}

TEST_CASE("malformed new records are refused, not guessed") {
  CHECK_THROWS(codec::decode_mutation(cbor::Value(cbor::Value::Map{{1, 17}, {2, 300}})));
  CHECK_THROWS(codec::decode_mutation(cbor::Value(cbor::Value::Map{{1, 18}, {2, cbor::Value::Map{{4, 1}}}})));
  CHECK_THROWS(codec::decode_mutation(cbor::Value(cbor::Value::Map{{1, 19}, {2, cbor::Value::Map{{2, "x"}}}})));
  CHECK_THROWS(codec::decode_mutation(cbor::Value(cbor::Value::Map{{1, 18}})));
}
