#include "vauth/cbor/value.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "vauth/cbor/codec.h"

namespace vauth::cbor {

namespace {

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Orders two byte sequences the way CTAP2 §8 orders keys of one major type:
// the shorter one first, then bytewise (as unsigned octets). For strings the
// encoded length grows with the content length, so comparing content lengths is
// the same as comparing encoded lengths.
template <typename Seq>
bool shorter_then_bytewise(const Seq& a, const Seq& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](auto x, auto y) {
    return static_cast<uint8_t>(x) < static_cast<uint8_t>(y);
  });
}

}  // namespace

Value::Type Value::type() const {
  if (is_unsigned()) return Type::Unsigned;
  if (is_negative()) return Type::Negative;
  if (is_bytes()) return Type::Bytes;
  if (is_text()) return Type::Text;
  if (is_array()) return Type::Array;
  if (is_map()) return Type::Map;
  return Type::Simple;  // bool or null
}

bool Value::fits_int64() const {
  if (is_unsigned()) return as_unsigned() <= kInt64Max;
  // -1 - n >= INT64_MIN  <=>  n <= INT64_MAX.
  if (is_negative()) return negative_raw() <= kInt64Max;
  return false;
}

int64_t Value::as_int() const {
  assert(fits_int64());
  if (is_unsigned()) return static_cast<int64_t>(as_unsigned());
  // n <= INT64_MAX, so -1 - n cannot overflow.
  return -1 - static_cast<int64_t>(negative_raw());
}

const Value* Value::find(const Value& key) const {
  if (!is_map()) return nullptr;
  const Map& m = as_map();
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

bool Value::operator==(const Value& o) const { return v_ == o.v_; }

bool CanonicalLess::operator()(const Value& a, const Value& b) const {
  if (a.type() != b.type()) return a.type() < b.type();
  switch (a.type()) {
    // Within one integer major type a larger argument never has a shorter
    // head, and heads of equal width compare bytewise like the numbers.
    case Value::Type::Unsigned:
      return a.as_unsigned() < b.as_unsigned();
    case Value::Type::Negative:
      return a.negative_raw() < b.negative_raw();
    case Value::Type::Bytes:
      return shorter_then_bytewise(a.as_bytes(), b.as_bytes());
    case Value::Type::Text:
      return shorter_then_bytewise(a.as_text(), b.as_text());
    case Value::Type::Array:
    case Value::Type::Map:
    case Value::Type::Simple:
      break;
  }
  // Rare as keys (CTAP2 never uses them): apply the rule literally to the
  // canonical encodings. Encoding is injective, so this stays a strict weak
  // ordering consistent with operator==.
  return shorter_then_bytewise(encode(a), encode(b));
}

}  // namespace vauth::cbor
