// A CBOR data item as CTAP2 uses it: integers, byte and text strings, arrays,
// maps, booleans and null. Maps keep their keys in CTAP2 canonical order
// (major type, then encoded length, then bytewise), so encoding a Value is
// canonical by construction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "vauth/base/bytes.h"

namespace vauth::cbor {

class Value;

// CTAP2 canonical key order; usable for any two Values.
struct CanonicalLess {
  bool operator()(const Value& a, const Value& b) const;
};

class Value {
 public:
  // Major-type order: the numeric values matter for canonical sorting.
  enum class Type : uint8_t {
    Unsigned = 0,
    Negative = 1,
    Bytes = 2,
    Text = 3,
    Array = 4,
    Map = 5,
    Simple = 7,  // false, true, null (undefined and floats are never accepted)
  };
  using Array = std::vector<Value>;
  using Map = std::map<Value, Value, CanonicalLess>;

  Value() : v_(Null{}) {}  // null
  Value(std::nullptr_t) : v_(Null{}) {}  // NOLINT(google-explicit-constructor)
  Value(bool b) : v_(b) {}                // NOLINT
  template <typename I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Value(I i) : v_(from_integer(i)) {}  // NOLINT
  Value(Bytes b) : v_(std::move(b)) {}              // NOLINT
  Value(ByteView b) : v_(Bytes(b.begin(), b.end())) {}  // NOLINT
  Value(std::string s) : v_(std::move(s)) {}        // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}      // NOLINT
  Value(Array a) : v_(std::move(a)) {}              // NOLINT
  Value(Map m) : v_(std::move(m)) {}                // NOLINT
  // The CBOR negative integer -1 - n from its raw argument n. The integer
  // constructors stop at INT64_MIN; this reaches the rest of major type 1
  // (down to -2^64), which the decoder must be able to represent.
  static Value from_negative_raw(uint64_t n) {
    Value v;
    v.v_ = NegativeInt{n};
    return v;
  }

  Type type() const;
  bool is_unsigned() const { return std::holds_alternative<uint64_t>(v_); }
  bool is_negative() const { return std::holds_alternative<NegativeInt>(v_); }
  bool is_integer() const { return is_unsigned() || is_negative(); }
  bool is_bytes() const { return std::holds_alternative<Bytes>(v_); }
  bool is_text() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_map() const { return std::holds_alternative<Map>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_null() const { return std::holds_alternative<Null>(v_); }

  // Accessors assert the type; check with is_*() first.
  uint64_t as_unsigned() const { return std::get<uint64_t>(v_); }
  // The CBOR negative integer -1 - n is stored as n (the full range of major type 1).
  uint64_t negative_raw() const { return std::get<NegativeInt>(v_).n; }
  // Integer value if it fits in int64_t.
  bool fits_int64() const;
  int64_t as_int() const;
  const Bytes& as_bytes() const { return std::get<Bytes>(v_); }
  Bytes& as_bytes() { return std::get<Bytes>(v_); }
  const std::string& as_text() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Map& as_map() const { return std::get<Map>(v_); }
  Map& as_map() { return std::get<Map>(v_); }
  bool as_bool() const { return std::get<bool>(v_); }

  // Map lookup; nullptr if this is not a map or the key is absent.
  const Value* find(const Value& key) const;

  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  struct Null {
    bool operator==(const Null&) const { return true; }
  };
  struct NegativeInt {
    uint64_t n;
    bool operator==(const NegativeInt& o) const { return n == o.n; }
  };
  using Storage = std::variant<uint64_t, NegativeInt, Bytes, std::string, Array, Map, bool, Null>;
  template <typename I>
  static Storage from_integer(I i) {
    if constexpr (std::is_signed_v<I>) {
      if (i < 0) return NegativeInt{static_cast<uint64_t>(-(static_cast<int64_t>(i) + 1))};
    }
    return static_cast<uint64_t>(i);
  }
  Storage v_;
};

}  // namespace vauth::cbor
