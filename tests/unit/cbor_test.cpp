// Unit tests for vauth::cbor: Value semantics, canonical key order, canonical
// encoding, strict decoding (one test per DecodeError) and diagnostic notation.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "vauth/cbor/codec.h"
#include "vauth/cbor/value.h"

namespace doctest {
// Readable failure messages: show Values in diagnostic notation.
template <>
struct StringMaker<vauth::cbor::Value> {
  static String convert(const vauth::cbor::Value& v) { return vauth::cbor::diagnostic(v).c_str(); }
};
}  // namespace doctest

namespace {

using vauth::Bytes;
using vauth::cbor::CanonicalLess;
using vauth::cbor::decode;
using vauth::cbor::DecodeError;
using vauth::cbor::diagnostic;
using vauth::cbor::encode;
using vauth::cbor::Limits;
using vauth::cbor::Value;

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();

Bytes hex(std::string_view h) {
  auto b = vauth::from_hex(h);
  REQUIRE_MESSAGE(b.has_value(), "bad hex in test: ", std::string(h));
  return *b;
}

std::string enc(const Value& v) { return vauth::to_hex(encode(v)); }

// "ok" or the decode error's text, so failures print both sides legibly.
std::string outcome(const Bytes& input, const Limits& limits = {}) {
  auto r = decode(input, limits);
  return r ? "ok" : vauth::cbor::to_string(r.error());
}
std::string outcome(std::string_view h, const Limits& limits = {}) { return outcome(hex(h), limits); }
std::string err(DecodeError e) { return vauth::cbor::to_string(e); }

Value decoded(std::string_view h) {
  auto r = decode(hex(h));
  REQUIRE_MESSAGE(r.has_value(), "decode failed for ", std::string(h), ": ", vauth::cbor::to_string(r.error()));
  return *r;
}

Bytes repeat(uint8_t byte, size_t n) { return Bytes(n, byte); }

}  // namespace

TEST_CASE("Value: type and accessors") {
  CHECK(Value().is_null());
  CHECK(Value(nullptr).type() == Value::Type::Simple);
  CHECK(Value(true).type() == Value::Type::Simple);
  CHECK(Value(true).as_bool());
  CHECK(Value(0).type() == Value::Type::Unsigned);
  CHECK(Value(-1).type() == Value::Type::Negative);
  CHECK(Value(-1).negative_raw() == 0);
  CHECK(Value(Bytes{1, 2}).type() == Value::Type::Bytes);
  CHECK(Value("x").type() == Value::Type::Text);
  CHECK(Value(Value::Array{}).type() == Value::Type::Array);
  CHECK(Value(Value::Map{}).type() == Value::Type::Map);

  // Integer constructors of any width agree.
  CHECK(Value(uint8_t{7}) == Value(7));
  CHECK(Value(int16_t{-7}) == Value(-7LL));
  CHECK(Value(7) != Value(-7));
  CHECK(Value(Bytes{}) != Value(""));
  CHECK(Value(false) != Value(nullptr));
  CHECK(Value(Value::Map{{1, "a"}}) == Value(Value::Map{{1, "a"}}));
  CHECK(Value(Value::Map{{1, "a"}}) != Value(Value::Map{{1, "b"}}));
}

TEST_CASE("Value: fits_int64 and as_int at the edges of int64") {
  CHECK(Value(0).fits_int64());
  CHECK(Value(kI64Max).fits_int64());
  CHECK(Value(kI64Max).as_int() == kI64Max);
  CHECK_FALSE(Value(uint64_t{1} << 63).fits_int64());
  CHECK_FALSE(Value(kU64Max).fits_int64());
  CHECK(Value(kU64Max).as_unsigned() == kU64Max);

  CHECK(Value(-1).as_int() == -1);
  CHECK(Value(kI64Min).fits_int64());
  CHECK(Value(kI64Min).as_int() == kI64Min);
  CHECK(Value(kI64Min).negative_raw() == (uint64_t{1} << 63) - 1);
  CHECK(Value::from_negative_raw(uint64_t{1} << 63).is_negative());
  CHECK_FALSE(Value::from_negative_raw(uint64_t{1} << 63).fits_int64());  // -2^63 - 1
  CHECK_FALSE(Value::from_negative_raw(kU64Max).fits_int64());            // -2^64
  CHECK(Value::from_negative_raw(0) == Value(-1));

  CHECK_FALSE(Value("1").fits_int64());
  CHECK_FALSE(Value(true).fits_int64());
}

TEST_CASE("CanonicalLess: CTAP2 order (major type, encoded length, bytes)") {
  // Strictly ascending in CTAP2 canonical order.
  const std::vector<Value> sorted = {
      0, 1, 3, 23, 24, 255, 256, 65535, 65536, uint64_t{1} << 32, kU64Max,  //
      -1, -2, -3, -24, -25, -256, -257, kI64Min, Value::from_negative_raw(kU64Max),
      Bytes{}, Bytes{0x00}, Bytes{0xff}, Bytes{0x00, 0x00}, repeat(0x00, 24),
      "", "a", "b", "z", "aa", "ab", "ba", std::string(24, 'a'),
      Value::Array{}, Value::Array{1}, Value::Array{2}, Value::Array{1, 1},
      Value::Map{}, Value::Map{{1, 1}},
      false, true, nullptr,
  };
  const CanonicalLess less;
  for (size_t i = 0; i < sorted.size(); ++i) {
    CAPTURE(diagnostic(sorted[i]));
    CHECK_FALSE(less(sorted[i], sorted[i]));
    for (size_t j = i + 1; j < sorted.size(); ++j) {
      CAPTURE(diagnostic(sorted[j]));
      CHECK(less(sorted[i], sorted[j]));
      CHECK_FALSE(less(sorted[j], sorted[i]));
    }
  }
  // Bytewise comparison treats bytes as unsigned (0x80 > 0x7f) in text too.
  CHECK(less(Value("\x7f"), Value("\x80")));
}

TEST_CASE("Value::Map keeps keys in canonical order") {
  Value::Map m{{"b", 1}, {"aa", 2}, {-1, 3}, {24, 4}, {1, 5}, {Bytes{0}, 6}};
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(diagnostic(k));
  CHECK(keys == std::vector<std::string>{"1", "24", "-1", "h'00'", "\"b\"", "\"aa\""});
}

TEST_CASE("encode: minimal integer heads") {
  CHECK(enc(0) == "00");
  CHECK(enc(23) == "17");
  CHECK(enc(24) == "1818");
  CHECK(enc(255) == "18ff");
  CHECK(enc(256) == "190100");
  CHECK(enc(65535) == "19ffff");
  CHECK(enc(65536) == "1a00010000");
  CHECK(enc(uint64_t{0xffffffff}) == "1affffffff");
  CHECK(enc(uint64_t{1} << 32) == "1b0000000100000000");
  CHECK(enc(kU64Max) == "1bffffffffffffffff");
  CHECK(enc(-1) == "20");
  CHECK(enc(-24) == "37");
  CHECK(enc(-25) == "3818");
  CHECK(enc(-256) == "38ff");
  CHECK(enc(-257) == "390100");
  CHECK(enc(-65537) == "3a00010000");
  CHECK(enc(kI64Min) == "3b7fffffffffffffff");
  CHECK(enc(Value::from_negative_raw(kU64Max)) == "3bffffffffffffffff");
}

TEST_CASE("encode: strings, containers and simple values") {
  CHECK(enc(Bytes{}) == "40");
  CHECK(enc(Bytes{1, 2}) == "420102");
  CHECK(enc(repeat(0xab, 23)).substr(0, 2) == "57");
  CHECK(enc(repeat(0xab, 24)).substr(0, 4) == "5818");
  CHECK(enc(repeat(0xab, 256)).substr(0, 6) == "590100");
  CHECK(enc(repeat(0xab, 65536)).substr(0, 10) == "5a00010000");
  CHECK(encode(repeat(0xab, 65536)).size() == 65536 + 5);
  CHECK(enc("") == "60");
  CHECK(enc("IETF") == "6449455446");
  CHECK(enc(std::string("a\0b", 3)) == "63610062");  // embedded NUL survives
  CHECK(enc(std::string(24, 'x')).substr(0, 4) == "7818");
  CHECK(enc(false) == "f4");
  CHECK(enc(true) == "f5");
  CHECK(enc(nullptr) == "f6");
  CHECK(enc(Value::Array{}) == "80");
  CHECK(enc(Value::Array{1, Value::Array{2, 3}}) == "8201820203");
  CHECK(enc(Value::Map{}) == "a0");
  // Keys come out in canonical order whatever order they were written in.
  CHECK(enc(Value::Map{{-1, 3}, {1, 2}}) == "a201022003");
  CHECK(enc(Value::Map{{"b", 1}, {"aa", 2}, {24, 3}, {1, 4}}) == "a4010418180361620162616102");
  Value::Array big(24, Value(0));
  CHECK(enc(big).substr(0, 4) == "9818");
}

TEST_CASE("round trip: every type survives encode then decode") {
  const std::vector<Value> values = {
      0, 23, 24, kU64Max, -1, -25, kI64Min, Value::from_negative_raw(kU64Max),
      Bytes{}, repeat(0x5a, 300), "", "héllo €😀", std::string("\0", 1),
      true, false, nullptr, Value::Array{}, Value::Map{},
      Value::Map{{1, Bytes{1, 2}}, {"id", "x"}, {-1, Value::Array{true, nullptr}}},
      Value::Map{{1, Value::Array{Value::Map{{"alg", -7}, {"type", "public-key"}}}}},  // depth 4
  };
  for (const Value& v : values) {
    CAPTURE(diagnostic(v));
    const Bytes bytes = encode(v);
    auto back = decode(bytes);
    REQUIRE(back.has_value());
    CHECK(*back == v);
    CHECK(encode(*back) == bytes);
  }
}

TEST_CASE("decode: canonical inputs") {
  CHECK(decoded("1903e8") == Value(1000));
  CHECK(decoded("3829") == Value(-42));
  CHECK(decoded("6449455446") == Value("IETF"));
  CHECK(decoded("a26161016162820203") == Value(Value::Map{{"a", 1}, {"b", Value::Array{2, 3}}}));
  CHECK(decoded("a201002000") == Value(Value::Map{{1, 0}, {-1, 0}}));
  CHECK(decoded("8480a06040") == Value(Value::Array{Value::Array{}, Value::Map{}, "", Bytes{}}));
  CHECK(decoded("64f09f9880") == Value("\xf0\x9f\x98\x80"));
  // Depth 4 (map > array > array > map) is exactly the CTAP2 limit.
  CHECK(decoded("a1018181a102f6") ==
        // Value(...) around the inner array: Array{Array{...}} would be a copy under clang.
        Value(Value::Map{{1, Value::Array{Value(Value::Array{Value::Map{{2, nullptr}}})}}}));
}

TEST_CASE("decode: full integer ranges") {
  Value v = decoded("1bffffffffffffffff");
  CHECK(v.as_unsigned() == kU64Max);
  CHECK_FALSE(v.fits_int64());
  v = decoded("1b8000000000000000");
  CHECK(v.as_unsigned() == uint64_t{1} << 63);
  CHECK_FALSE(v.fits_int64());
  v = decoded("1b7fffffffffffffff");
  CHECK(v.fits_int64());
  CHECK(v.as_int() == kI64Max);

  v = decoded("3b7fffffffffffffff");
  CHECK(v.fits_int64());
  CHECK(v.as_int() == kI64Min);
  v = decoded("3b8000000000000000");  // -2^63 - 1
  CHECK(v.is_negative());
  CHECK(v.negative_raw() == uint64_t{1} << 63);
  CHECK_FALSE(v.fits_int64());
  v = decoded("3bffffffffffffffff");  // -2^64, the most negative CBOR integer
  CHECK(v.negative_raw() == kU64Max);
  CHECK_FALSE(v.fits_int64());
  CHECK(diagnostic(v) == "-18446744073709551616");
}

TEST_CASE("decode: DuplicateKey") {
  CHECK(outcome("a2 01 01 01 02") == err(DecodeError::DuplicateKey));
  CHECK(outcome("a3 01 00 02 00 01 00") == err(DecodeError::DuplicateKey));  // not adjacent
  CHECK(outcome("a2 61 61 00 61 61 01") == err(DecodeError::DuplicateKey));
  CHECK(outcome("a1 01 a2 20 00 20 00") == err(DecodeError::DuplicateKey));  // nested map
}

TEST_CASE("decode: NonCanonical map key order") {
  CHECK(outcome("a2 03 00 01 00") == err(DecodeError::NonCanonical));
  CHECK(outcome("a2 20 00 01 00") == err(DecodeError::NonCanonical));           // -1 before 1
  CHECK(outcome("a2 21 00 20 00") == err(DecodeError::NonCanonical));           // -2 before -1
  CHECK(outcome("a2 18 18 00 17 00") == err(DecodeError::NonCanonical));        // 24 before 23
  CHECK(outcome("a2 62 61 61 00 61 62 00") == err(DecodeError::NonCanonical));  // "aa" before "b"
  CHECK(outcome("a2 61 62 00 61 61 00") == err(DecodeError::NonCanonical));     // "b" before "a"
  CHECK(outcome("a2 40 00 01 00") == err(DecodeError::NonCanonical));           // h'' before 1
  CHECK(outcome("a2 61 62 00 62 61 61 00") == "ok");
}

TEST_CASE("decode: NonCanonical non-minimal heads") {
  CHECK(outcome("19 00 05") == err(DecodeError::NonCanonical));
  CHECK(outcome("18 05") == err(DecodeError::NonCanonical));
  CHECK(outcome("18 17") == err(DecodeError::NonCanonical));
  CHECK(outcome("19 00 ff") == err(DecodeError::NonCanonical));
  CHECK(outcome("1a 00 00 ff ff") == err(DecodeError::NonCanonical));
  CHECK(outcome("1b 00 00 00 00 ff ff ff ff") == err(DecodeError::NonCanonical));
  CHECK(outcome("38 00") == err(DecodeError::NonCanonical));
  CHECK(outcome("58 01 aa") == err(DecodeError::NonCanonical));
  CHECK(outcome("78 00") == err(DecodeError::NonCanonical));
  CHECK(outcome("98 01 00") == err(DecodeError::NonCanonical));
  CHECK(outcome("b8 01 01 02") == err(DecodeError::NonCanonical));
  CHECK(outcome("a1 19 00 01 00") == err(DecodeError::NonCanonical));  // inside a map key
  // The smallest value of each width is fine.
  CHECK(outcome("18 18") == "ok");
  CHECK(outcome("19 01 00") == "ok");
  CHECK(outcome("1a 00 01 00 00") == "ok");
  CHECK(outcome("1b 00 00 00 01 00 00 00 00") == "ok");
}

TEST_CASE("decode: Unsupported types") {
  CHECK(outcome("9f ff") == err(DecodeError::Unsupported));        // indefinite array
  CHECK(outcome("9f 01 ff") == err(DecodeError::Unsupported));
  CHECK(outcome("bf ff") == err(DecodeError::Unsupported));        // indefinite map
  CHECK(outcome("5f 41 00 ff") == err(DecodeError::Unsupported));  // indefinite bytes
  CHECK(outcome("7f 61 61 ff") == err(DecodeError::Unsupported));  // indefinite text
  CHECK(outcome("c0 00") == err(DecodeError::Unsupported));        // tag 0
  CHECK(outcome("c6 00") == err(DecodeError::Unsupported));        // tag 6 (libcbor refuses it itself)
  CHECK(outcome("d8 20 00") == err(DecodeError::Unsupported));     // tag 32
  CHECK(outcome("f9 00 00") == err(DecodeError::Unsupported));     // half float
  CHECK(outcome("fa 7f c0 00 00") == err(DecodeError::Unsupported));
  CHECK(outcome("fb 3f f0 00 00 00 00 00 00") == err(DecodeError::Unsupported));
  CHECK(outcome("f7") == err(DecodeError::Unsupported));  // undefined
  CHECK(outcome("e0") == err(DecodeError::Unsupported));  // simple(0)
  CHECK(outcome("f3") == err(DecodeError::Unsupported));  // simple(19)
  CHECK(outcome("f8 20") == err(DecodeError::Unsupported));  // simple(32)
  CHECK(outcome("a1 01 f7") == err(DecodeError::Unsupported));  // nested
}

TEST_CASE("decode: Malformed") {
  CHECK(outcome(Bytes{}) == err(DecodeError::Malformed));
  CHECK(outcome("19 01") == err(DecodeError::Malformed));     // truncated integer
  CHECK(outcome("62 61") == err(DecodeError::Malformed));     // truncated text
  CHECK(outcome("82 01") == err(DecodeError::Malformed));     // missing array element
  CHECK(outcome("a1 01") == err(DecodeError::Malformed));     // missing map value
  CHECK(outcome("1c") == err(DecodeError::Malformed));        // reserved additional info
  CHECK(outcome("5c") == err(DecodeError::Malformed));
  CHECK(outcome("1f") == err(DecodeError::Malformed));        // indefinite integer
  CHECK(outcome("ff") == err(DecodeError::Malformed));        // break outside indefinite item
  CHECK(outcome("81 ff") == err(DecodeError::Malformed));
  CHECK(outcome("f8 18") == err(DecodeError::Malformed));     // two-byte simple value < 32
  CHECK(outcome("f8") == err(DecodeError::Malformed));
  CHECK(outcome("d8") == err(DecodeError::Malformed));        // truncated tag head
  // Declared lengths far beyond the input are refused before anything is allocated.
  CHECK(outcome("5b 00 00 00 01 00 00 00 00") == err(DecodeError::Malformed));  // 2^32-byte string
  CHECK(outcome("7b ff ff ff ff ff ff ff ff") == err(DecodeError::Malformed));
  CHECK(outcome("9b 00 00 00 01 00 00 00 00 00") == err(DecodeError::Malformed));  // 2^32 elements
  CHECK(outcome("9a ff ff ff ff 00") == err(DecodeError::Malformed));
  CHECK(outcome("bb ff ff ff ff ff ff ff ff 00 00") == err(DecodeError::Malformed));
  CHECK(outcome("83 81 82 00") == err(DecodeError::Malformed));  // nested promises exceed the input
}

TEST_CASE("decode: TrailingBytes") {
  CHECK(outcome("00 00") == err(DecodeError::TrailingBytes));
  CHECK(outcome("a0 00") == err(DecodeError::TrailingBytes));
  CHECK(outcome("82 01 02 ff") == err(DecodeError::TrailingBytes));
}

TEST_CASE("decode: TooDeep") {
  CHECK(outcome("81 81 81 81 00") == "ok");  // depth 4
  CHECK(outcome("81 81 81 81 81 00") == err(DecodeError::TooDeep));
  CHECK(outcome("81 81 81 81 80") == err(DecodeError::TooDeep));  // an empty container still opens a level
  CHECK(outcome("a1 01 a1 01 a1 01 a1 01 a1 01 00") == err(DecodeError::TooDeep));
  CHECK(outcome("82 81 81 81 00 81 81 81 81 00") == err(DecodeError::TooDeep));  // second branch
  CHECK(outcome("81 80", Limits{.max_depth = 1}) == err(DecodeError::TooDeep));
  CHECK(outcome("80", Limits{.max_depth = 1}) == "ok");
  CHECK(outcome("00", Limits{.max_depth = 0}) == "ok");
  CHECK(outcome("80", Limits{.max_depth = 0}) == err(DecodeError::TooDeep));
  // A deep but short input fails on depth, never on libcbor's recursion.
  CHECK(outcome(repeat(0x81, 100000)) == err(DecodeError::TooDeep));
}

TEST_CASE("decode: TooLarge") {
  const Limits three{.max_depth = 4, .max_items = 3};
  CHECK(outcome("82 01 02", three) == "ok");  // the array and its two elements
  CHECK(outcome("83 01 02 03", three) == err(DecodeError::TooLarge));
  CHECK(outcome("a1 01 02", three) == "ok");  // a map entry is two items
  CHECK(outcome("a1 01 82 02 03", three) == err(DecodeError::TooLarge));

  // Default limit: 4096 items in total.
  Bytes ok = hex("99 0f ff");  // array of 4095 zeros: 4096 items
  ok.resize(ok.size() + 4095, 0x00);
  CHECK(outcome(ok) == "ok");
  Bytes too_many = hex("99 10 00");  // array of 4096 zeros: 4097 items
  too_many.resize(too_many.size() + 4096, 0x00);
  CHECK(outcome(too_many) == err(DecodeError::TooLarge));
}

TEST_CASE("decode: InvalidUtf8") {
  CHECK(outcome("61 ff") == err(DecodeError::InvalidUtf8));
  CHECK(outcome("61 80") == err(DecodeError::InvalidUtf8));           // lone continuation byte
  CHECK(outcome("62 c3 28") == err(DecodeError::InvalidUtf8));        // bad continuation
  CHECK(outcome("61 c3") == err(DecodeError::InvalidUtf8));           // truncated sequence
  CHECK(outcome("62 c0 80") == err(DecodeError::InvalidUtf8));        // overlong NUL
  CHECK(outcome("63 e0 80 80") == err(DecodeError::InvalidUtf8));     // overlong
  CHECK(outcome("63 ed a0 80") == err(DecodeError::InvalidUtf8));     // surrogate U+D800
  CHECK(outcome("64 f4 90 80 80") == err(DecodeError::InvalidUtf8));  // above U+10FFFF
  CHECK(outcome("a1 61 ff 00") == err(DecodeError::InvalidUtf8));     // as a map key
  CHECK(outcome("41 ff") == "ok");                                    // byte strings are not text
  CHECK(outcome("63 ed 9f bf") == "ok");                              // U+D7FF
  CHECK(outcome("64 f4 8f bf bf") == "ok");                           // U+10FFFF
}

TEST_CASE("Value::find") {
  const Value m = decoded("a3 01 02 20 03 62 69 64 61 78");  // {1: 2, -1: 3, "id": "x"}
  REQUIRE(m.find(1) != nullptr);
  CHECK(*m.find(1) == Value(2));
  REQUIRE(m.find(-1) != nullptr);
  CHECK(*m.find(-1) == Value(3));
  REQUIRE(m.find("id") != nullptr);
  CHECK(m.find("id")->as_text() == "x");
  CHECK(m.find(2) == nullptr);
  CHECK(m.find("ID") == nullptr);
  CHECK(m.find(Bytes{'i', 'd'}) == nullptr);  // same content, different major type
  CHECK(Value(1).find(1) == nullptr);
  CHECK(Value(Value::Array{1}).find(0) == nullptr);
}

TEST_CASE("diagnostic notation") {
  const Value v = Value::Map{{1, Bytes{1, 2}}, {"id", "x"}, {-1, Value::Array{true, nullptr}}};
  CHECK(diagnostic(v) == "{1: h'0102', -1: [true, null], \"id\": \"x\"}");
  CHECK(diagnostic(Value::Array{Value::Array{}, Value::Map{}, false, -25, kU64Max}) ==
        "[[], {}, false, -25, 18446744073709551615]");
  CHECK(diagnostic(Value(Bytes{})) == "h''");
  CHECK(diagnostic(Value(std::string("q\"b\\s\n\t\x01 é", 12)  /* ends with NUL */)) == "\"q\\\"b\\\\s\\n\\t\\u0001 é\\u0000\"");
  CHECK(diagnostic(Value(kI64Min)) == "-9223372036854775808");
  CHECK(diagnostic(Value::from_negative_raw(uint64_t{1} << 63)) == "-9223372036854775809");
}

TEST_CASE("to_string(DecodeError) names every error distinctly") {
  const std::vector<DecodeError> all = {
      DecodeError::Malformed,    DecodeError::TrailingBytes, DecodeError::Unsupported,
      DecodeError::TooDeep,      DecodeError::TooLarge,      DecodeError::DuplicateKey,
      DecodeError::NonCanonical, DecodeError::InvalidUtf8,
  };
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(std::string(vauth::cbor::to_string(all[i])).size() > 0);
    for (size_t j = i + 1; j < all.size(); ++j) CHECK(err(all[i]) != err(all[j]));
  }
}

TEST_CASE("OpenSK CTAP2 seed corpus: no crash, expected outcome for each seed") {
  // The 30 seeds from google/OpenSK, stored as fuzz/corpus/cbor_decode_fuzzer/opensk-NN.
  const std::filesystem::path dir = std::filesystem::path(VAUTH_SOURCE_DIR) / "fuzz/corpus/cbor_decode_fuzzer";
  // The first 18 are generic CBOR values (many outside the CTAP2 subset), the
  // rest MakeCredential / GetAssertion / ClientPIN parameter maps.
  const std::vector<std::string> expected = {
      "ok",                             // 1903e8
      "ok",                             // 3829
      err(DecodeError::Unsupported),    // negative bignum tag
      err(DecodeError::Unsupported),    // half float
      err(DecodeError::Unsupported),    // half float
      err(DecodeError::Unsupported),    // single float NaN
      err(DecodeError::Malformed),      // f818: simple(24) in two-byte form
      err(DecodeError::Unsupported),    // tag 23
      "ok",                             // "IETF"
      "ok",                             // "\"\\"
      "ok",                             // h'a8'
      "ok",                             // ":A"
      err(DecodeError::Unsupported),    // array containing an indefinite array
      err(DecodeError::Unsupported),    // indefinite array
      err(DecodeError::Unsupported),    // indefinite byte string
      err(DecodeError::Unsupported),    // indefinite text string
      "ok",                             // {"a": 1, "b": [2, 3]}
      err(DecodeError::Unsupported),    // indefinite map
      // CTAP2 parameter maps: all canonical except #24, whose header still
      // announces 7 entries after key 5 was cut out.
      "ok", "ok", "ok", "ok", "ok", "ok", err(DecodeError::Malformed), "ok", "ok", "ok", "ok", "ok",
  };
  size_t accepted = 0;
  for (size_t i = 0; i < 30; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "opensk-%02zu", i);
    std::ifstream in(dir / name, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "missing seed ", name);
    const Bytes seed{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    CAPTURE(name);
    const std::string result = outcome(seed);
    CHECK(result == expected.at(i));
    if (auto v = decode(seed)) {
      ++accepted;
      CHECK(encode(*v) == seed);  // anything accepted is canonical
    }
  }
  CHECK(accepted == 18);
}
