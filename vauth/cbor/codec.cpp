// Decoding runs in two passes over libcbor:
//
//  1. A validation pass drives libcbor's streaming decoder (cbor_stream_decode)
//     one data item head at a time, with an explicit stack instead of recursion.
//     It enforces every CTAP2 rule that can be judged from the byte stream:
//     definite lengths only, no tags/floats/undefined/other simple values,
//     minimal heads, depth and item limits, UTF-8 text, declared lengths that
//     fit the remaining input, and no trailing bytes.
//  2. Only then does cbor_load build the item tree, which is converted to Value.
//     Map key uniqueness and order are checked here, on decoded keys.
//
// Pass 1 is what makes pass 2 safe: cbor_load allocates containers for their
// declared element count up front, so a five-byte input announcing 2^32
// elements must never reach it.
#include "vauth/cbor/codec.h"

#include <cbor.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <vector>

namespace vauth::cbor {

namespace {

// ---------------------------------------------------------------------------
// Small helpers

bool is_valid_utf8(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t lead = p[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min;  // smallest code point that needs this many bytes (rejects overlong forms)
    if ((lead & 0xe0) == 0xc0) {
      len = 2, cp = lead & 0x1f, min = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      len = 3, cp = lead & 0x0f, min = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      len = 4, cp = lead & 0x07, min = 0x10000;
    } else {
      return false;  // stray continuation byte or 0xf8..0xff
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const uint8_t c = p[i + k];
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

// RFC 8949 §4.2.1 / CTAP2 §8: an argument must use the shortest head that holds it.
// `initial` is the item's first byte; its low five bits say how wide the argument was.
bool has_minimal_head(uint8_t initial, uint64_t argument) {
  switch (initial & 0x1f) {
    case 24: return argument >= 24;
    case 25: return argument > 0xff;
    case 26: return argument > 0xffff;
    case 27: return argument > 0xffffffff;
    default: return true;  // argument embedded in the initial byte
  }
}

struct ItemDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using ItemPtr = std::unique_ptr<cbor_item_t, ItemDeleter>;

// ---------------------------------------------------------------------------
// Pass 1: validation with the streaming decoder

// What libcbor reported for one item head. The callbacks only record; all
// rules live in Validator::step() so they read in one place.
struct Head {
  enum class Kind {
    None,         // no callback ran (should not happen for a successful decode)
    Scalar,       // integer, byte string, bool, null
    Text,         // definite text string
    Container,    // definite array or map
    Unsupported,  // tag, float, undefined, indefinite-length start
    Break,        // 0xff: only meaningful inside indefinite items, which we refuse
  };
  Kind kind = Kind::None;
  uint64_t argument = 0;  // integer value, string length or element count
  bool is_map = false;    // a map's count is in pairs: 2 data items per entry
  const uint8_t* text = nullptr;
};

Head& head_of(void* ctx) { return *static_cast<Head*>(ctx); }
void on_scalar(void* ctx, uint64_t argument) {
  head_of(ctx).kind = Head::Kind::Scalar;
  head_of(ctx).argument = argument;
}
void on_unsupported(void* ctx) { head_of(ctx).kind = Head::Kind::Unsupported; }

cbor_callbacks make_validation_callbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = [](void* ctx, uint8_t v) { on_scalar(ctx, v); };
  cb.uint16 = [](void* ctx, uint16_t v) { on_scalar(ctx, v); };
  cb.uint32 = [](void* ctx, uint32_t v) { on_scalar(ctx, v); };
  cb.uint64 = [](void* ctx, uint64_t v) { on_scalar(ctx, v); };
  cb.negint8 = [](void* ctx, uint8_t v) { on_scalar(ctx, v); };
  cb.negint16 = [](void* ctx, uint16_t v) { on_scalar(ctx, v); };
  cb.negint32 = [](void* ctx, uint32_t v) { on_scalar(ctx, v); };
  cb.negint64 = [](void* ctx, uint64_t v) { on_scalar(ctx, v); };
  // libcbor only calls these once the whole string is in the buffer.
  cb.byte_string = [](void* ctx, cbor_data, size_t len) { on_scalar(ctx, len); };
  cb.string = [](void* ctx, cbor_data data, size_t len) {
    head_of(ctx) = Head{Head::Kind::Text, len, false, data};
  };
  cb.array_start = [](void* ctx, size_t n) { head_of(ctx) = Head{Head::Kind::Container, n, false, nullptr}; };
  cb.map_start = [](void* ctx, size_t n) { head_of(ctx) = Head{Head::Kind::Container, n, true, nullptr}; };
  cb.boolean = [](void* ctx, bool) { on_scalar(ctx, 0); };
  cb.null = [](void* ctx) { on_scalar(ctx, 0); };
  cb.byte_string_start = on_unsupported;  // indefinite-length forms
  cb.string_start = on_unsupported;
  cb.indef_array_start = on_unsupported;
  cb.indef_map_start = on_unsupported;
  cb.tag = [](void* ctx, uint64_t) { on_unsupported(ctx); };
  cb.float2 = [](void* ctx, float) { on_unsupported(ctx); };
  cb.float4 = [](void* ctx, float) { on_unsupported(ctx); };
  cb.float8 = [](void* ctx, double) { on_unsupported(ctx); };
  cb.undefined = on_unsupported;
  cb.indef_break = [](void* ctx) { head_of(ctx).kind = Head::Kind::Break; };
  return cb;
}

const cbor_callbacks kValidationCallbacks = make_validation_callbacks();

class Validator {
 public:
  Validator(ByteView input, const Limits& limits) : in_(input), limits_(limits) {}

  std::optional<DecodeError> run() {
    do {
      if (auto err = step()) return err;
    } while (!open_.empty());
    if (pos_ != in_.size()) return DecodeError::TrailingBytes;
    return std::nullopt;
  }

 private:
  size_t remaining() const { return in_.size() - pos_; }

  // Decodes and checks the item head at pos_, then updates the container stack.
  std::optional<DecodeError> step() {
    Head head;
    const cbor_decoder_result res = cbor_stream_decode(in_.data() + pos_, remaining(), &kValidationCallbacks, &head);
    if (res.status == CBOR_DECODER_NEDATA) return DecodeError::Malformed;  // truncated or length past the end
    if (res.status == CBOR_DECODER_ERROR) return classify_refused_head();
    const uint8_t initial = in_[pos_];
    pos_ += res.read;

    switch (head.kind) {
      case Head::Kind::None:
      case Head::Kind::Break: return DecodeError::Malformed;
      case Head::Kind::Unsupported: return DecodeError::Unsupported;
      case Head::Kind::Text:
        if (!is_valid_utf8(head.text, head.argument)) return DecodeError::InvalidUtf8;
        break;
      case Head::Kind::Scalar:
      case Head::Kind::Container: break;
    }
    if (!has_minimal_head(initial, head.argument)) return DecodeError::NonCanonical;
    if (++items_ > limits_.max_items) return DecodeError::TooLarge;

    if (!open_.empty()) {  // this item fills one slot of the enclosing container
      --open_.back();
      --pending_;
    }
    if (head.kind == Head::Kind::Container) {
      if (auto err = open_container(head)) return err;
    }
    while (!open_.empty() && open_.back() == 0) open_.pop_back();
    // Every promised item needs at least one more byte.
    if (pending_ > remaining()) return DecodeError::Malformed;
    return std::nullopt;
  }

  std::optional<DecodeError> open_container(const Head& head) {
    // open_ holds exactly the containers enclosing this one (finished ones are
    // popped eagerly), so this container sits at depth open_.size() + 1.
    if (open_.size() + 1 > limits_.max_depth) return DecodeError::TooDeep;
    // Refuse counts the input cannot possibly hold before doubling (no
    // overflow) and before cbor_load would allocate for them.
    const uint64_t per_element = head.is_map ? 2 : 1;
    if (head.argument > remaining() / per_element) return DecodeError::Malformed;
    const uint64_t children = head.argument * per_element;
    if (children > 0) {
      open_.push_back(children);
      pending_ += children;
    }
    return std::nullopt;
  }

  // libcbor's streaming decoder refuses some heads outright: reserved
  // additional-information values (malformed), but also well-formed items it
  // does not model (unassigned tags 6..20, simple values 0..19 and f8 xx).
  DecodeError classify_refused_head() const {
    const uint8_t initial = in_[pos_];
    const uint8_t major = initial >> 5;
    const uint8_t info = initial & 0x1f;
    if (info >= 28) return DecodeError::Malformed;
    if (major == 6) return DecodeError::Unsupported;
    if (major == 7) {
      // RFC 8949 §3.3: the two-byte form f8 xx is well formed only for xx >= 32.
      if (info == 24) return remaining() >= 2 && in_[pos_ + 1] >= 32 ? DecodeError::Unsupported : DecodeError::Malformed;
      return DecodeError::Unsupported;
    }
    return DecodeError::Malformed;
  }

  ByteView in_;
  Limits limits_;
  size_t pos_ = 0;
  size_t items_ = 0;
  std::vector<uint64_t> open_;  // per open container: data items still expected
  uint64_t pending_ = 0;        // sum of open_
};

// ---------------------------------------------------------------------------
// Pass 2: libcbor item tree -> Value (depth already bounded by pass 1)

Expected<Value, DecodeError> to_value(const cbor_item_t* item);

Expected<Value, DecodeError> map_to_value(const cbor_item_t* item) {
  const cbor_pair* pairs = cbor_map_handle(item);
  const size_t n = cbor_map_size(item);
  Value::Map out;
  for (size_t i = 0; i < n; ++i) {
    auto key = to_value(pairs[i].key);
    if (!key) return key;
    if (out.contains(*key)) return unexpected(DecodeError::DuplicateKey);
    // Canonical order means strictly ascending, so the previous key is the largest so far.
    if (!out.empty() && !CanonicalLess{}(out.rbegin()->first, *key)) return unexpected(DecodeError::NonCanonical);
    auto value = to_value(pairs[i].value);
    if (!value) return value;
    out.emplace_hint(out.end(), std::move(*key), std::move(*value));
  }
  return Value(std::move(out));
}

Expected<Value, DecodeError> array_to_value(const cbor_item_t* item) {
  cbor_item_t** elements = cbor_array_handle(item);
  const size_t n = cbor_array_size(item);
  Value::Array out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto element = to_value(elements[i]);
    if (!element) return element;
    out.push_back(std::move(*element));
  }
  return Value(std::move(out));
}

Expected<Value, DecodeError> to_value(const cbor_item_t* item) {
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT:
      return Value(cbor_get_int(item));
    case CBOR_TYPE_NEGINT:
      return Value::from_negative_raw(cbor_get_int(item));
    case CBOR_TYPE_BYTESTRING: {
      if (!cbor_bytestring_is_definite(item)) break;
      const size_t n = cbor_bytestring_length(item);
      // Empty strings may have no buffer at all.
      if (n == 0) return Value(Bytes{});
      const uint8_t* data = cbor_bytestring_handle(item);
      return Value(Bytes(data, data + n));
    }
    case CBOR_TYPE_STRING: {
      if (!cbor_string_is_definite(item)) break;
      const size_t n = cbor_string_length(item);
      if (n == 0) return Value(std::string());
      return Value(std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), n));
    }
    case CBOR_TYPE_ARRAY:
      if (!cbor_array_is_definite(item)) break;
      return array_to_value(item);
    case CBOR_TYPE_MAP:
      if (!cbor_map_is_definite(item)) break;
      return map_to_value(item);
    case CBOR_TYPE_FLOAT_CTRL:
      if (cbor_is_bool(item)) return Value(cbor_get_bool(item));
      if (cbor_is_null(item)) return Value(nullptr);
      break;
    case CBOR_TYPE_TAG:
      break;
  }
  // Pass 1 already refused everything else; kept as a guard.
  return unexpected(DecodeError::Unsupported);
}

// ---------------------------------------------------------------------------
// Encoding: build a libcbor tree with minimal integer widths and serialize it.
// libcbor chooses minimal heads for string lengths and container sizes itself.

ItemPtr checked(cbor_item_t* item) {
  if (item == nullptr) throw std::bad_alloc();
  return ItemPtr(item);
}

ItemPtr build_unsigned(uint64_t n) {
  if (n <= UINT8_MAX) return checked(cbor_build_uint8(static_cast<uint8_t>(n)));
  if (n <= UINT16_MAX) return checked(cbor_build_uint16(static_cast<uint16_t>(n)));
  if (n <= UINT32_MAX) return checked(cbor_build_uint32(static_cast<uint32_t>(n)));
  return checked(cbor_build_uint64(n));
}

ItemPtr build_negative(uint64_t n) {
  if (n <= UINT8_MAX) return checked(cbor_build_negint8(static_cast<uint8_t>(n)));
  if (n <= UINT16_MAX) return checked(cbor_build_negint16(static_cast<uint16_t>(n)));
  if (n <= UINT32_MAX) return checked(cbor_build_negint32(static_cast<uint32_t>(n)));
  return checked(cbor_build_negint64(n));
}

// `reverse_maps`: deliberately non-canonical output (fault injection only),
// every map in descending key order.
ItemPtr build(const Value& v, bool reverse_maps = false);

ItemPtr build_array(const Value::Array& elements, bool reverse_maps) {
  ItemPtr array = checked(cbor_new_definite_array(elements.size()));
  for (const Value& e : elements) {
    ItemPtr element = build(e, reverse_maps);
    // cbor_array_push takes its own reference; ours is dropped by ItemPtr.
    if (!cbor_array_push(array.get(), element.get())) throw std::bad_alloc();
  }
  return array;
}

ItemPtr build_map(const Value::Map& entries, bool reverse_maps) {
  ItemPtr map = checked(cbor_new_definite_map(entries.size()));
  // Value::Map iterates in canonical key order, so insertion order is canonical.
  auto add = [&map, reverse_maps](const Value& k, const Value& v) {
    ItemPtr key = build(k, reverse_maps);
    ItemPtr value = build(v, reverse_maps);
    if (!cbor_map_add(map.get(), cbor_pair{key.get(), value.get()})) throw std::bad_alloc();
  };
  if (reverse_maps) {
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) add(it->first, it->second);
  } else {
    for (const auto& [k, v] : entries) add(k, v);
  }
  return map;
}

ItemPtr build(const Value& v, bool reverse_maps) {
  switch (v.type()) {
    case Value::Type::Unsigned: return build_unsigned(v.as_unsigned());
    case Value::Type::Negative: return build_negative(v.negative_raw());
    case Value::Type::Bytes: return checked(cbor_build_bytestring(v.as_bytes().data(), v.as_bytes().size()));
    case Value::Type::Text: return checked(cbor_build_stringn(v.as_text().data(), v.as_text().size()));
    case Value::Type::Array: return build_array(v.as_array(), reverse_maps);
    case Value::Type::Map: return build_map(v.as_map(), reverse_maps);
    case Value::Type::Simple: break;
  }
  if (v.is_bool()) return checked(cbor_build_bool(v.as_bool()));
  return checked(cbor_new_null());
}

// ---------------------------------------------------------------------------
// Diagnostic notation

void append_quoted(const std::string& text, std::string& out) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<uint8_t>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;  // UTF-8 passes through, as JSON allows
        }
    }
  }
  out += '"';
}

std::string negative_decimal(uint64_t n) {
  // -1 - n; n + 1 would overflow for the most negative CBOR integer, -2^64.
  if (n == UINT64_MAX) return "-18446744073709551616";
  return "-" + std::to_string(n + 1);
}

void append_diagnostic(const Value& v, std::string& out) {
  switch (v.type()) {
    case Value::Type::Unsigned: out += std::to_string(v.as_unsigned()); return;
    case Value::Type::Negative: out += negative_decimal(v.negative_raw()); return;
    case Value::Type::Bytes: out += "h'" + to_hex(v.as_bytes()) + "'"; return;
    case Value::Type::Text: append_quoted(v.as_text(), out); return;
    case Value::Type::Array: {
      out += '[';
      const char* sep = "";
      for (const Value& e : v.as_array()) {
        out += sep;
        append_diagnostic(e, out);
        sep = ", ";
      }
      out += ']';
      return;
    }
    case Value::Type::Map: {
      out += '{';
      const char* sep = "";
      for (const auto& [key, value] : v.as_map()) {
        out += sep;
        append_diagnostic(key, out);
        out += ": ";
        append_diagnostic(value, out);
        sep = ", ";
      }
      out += '}';
      return;
    }
    case Value::Type::Simple:
      out += v.is_null() ? "null" : v.as_bool() ? "true" : "false";
      return;
  }
}

}  // namespace

const char* to_string(DecodeError e) {
  switch (e) {
    case DecodeError::Malformed: return "malformed CBOR";
    case DecodeError::TrailingBytes: return "trailing bytes after CBOR item";
    case DecodeError::Unsupported: return "unsupported CBOR type";
    case DecodeError::TooDeep: return "CBOR nested too deeply";
    case DecodeError::TooLarge: return "too many CBOR items";
    case DecodeError::DuplicateKey: return "duplicate CBOR map key";
    case DecodeError::NonCanonical: return "non-canonical CBOR";
    case DecodeError::InvalidUtf8: return "invalid UTF-8 in CBOR text string";
  }
  return "unknown CBOR decode error";
}

Expected<Value, DecodeError> decode(ByteView input, const Limits& limits) {
  if (auto err = Validator(input, limits).run()) return unexpected(*err);
  cbor_load_result result{};
  ItemPtr root(cbor_load(input.data(), input.size(), &result));
  // Pass 1 accepted the input, so cbor_load can only fail on resource
  // exhaustion (memory, or libcbor's own stack limit with a huge max_depth).
  if (!root || result.error.code != CBOR_ERR_NONE) return unexpected(DecodeError::Malformed);
  return to_value(root.get());
}

namespace {
Bytes serialize(const Value& value, bool reverse_maps) {
  ItemPtr item = build(value, reverse_maps);
  unsigned char* buffer = nullptr;
  size_t capacity = 0;
  const size_t written = cbor_serialize_alloc(item.get(), &buffer, &capacity);
  std::unique_ptr<unsigned char, decltype(&std::free)> owned(buffer, &std::free);
  if (written == 0) throw std::bad_alloc();  // every item encodes to at least one byte
  return Bytes(buffer, buffer + written);
}
}  // namespace

Bytes encode(const Value& value) { return serialize(value, false); }

Bytes encode_reversed_maps(const Value& value) { return serialize(value, true); }

std::string diagnostic(const Value& value) {
  std::string out;
  append_diagnostic(value, out);
  return out;
}

}  // namespace vauth::cbor
