// Strict decoding of CTAP2 requests and canonical encoding of responses.
//
// decode() accepts exactly one well-formed data item that uses only the types in
// Value, with definite lengths, no tags, no floats/undefined, unique map keys,
// a nesting depth within the limit, minimal-length integer/length heads and
// canonically ordered map keys (CTAP2 §8 "CTAP2 canonical CBOR encoding form").
// Anything else is refused before any allocation can be driven by a declared length.
#pragma once

#include <cstddef>
#include <string>

#include "vauth/base/bytes.h"
#include "vauth/base/expected.h"
#include "vauth/cbor/value.h"

namespace vauth::cbor {

enum class DecodeError {
  Malformed,       // not CBOR, truncated, or a declared length beyond the input
  TrailingBytes,   // more input after the first data item
  Unsupported,     // tags, floats, undefined, other simple values, indefinite lengths
  TooDeep,         // arrays/maps nested deeper than Limits::max_depth
  TooLarge,        // more items than Limits::max_items
  DuplicateKey,    // a map repeats a key
  NonCanonical,    // non-minimal heads or map keys out of canonical order
  InvalidUtf8,     // a text string that is not valid UTF-8
};

const char* to_string(DecodeError e);

struct Limits {
  // CTAP2 §8: "the depth of nested CBOR structures ... is limited to at most four
  // (4) levels of any combination of CBOR maps and/or CBOR arrays".
  size_t max_depth = 4;
  // Total data items (a guard against pathological but small inputs).
  size_t max_items = 4096;
};

Expected<Value, DecodeError> decode(ByteView input, const Limits& limits = {});

// Canonical CTAP2 encoding (minimal heads, definite lengths, sorted map keys).
Bytes encode(const Value& value);

// The same items with every map's keys in descending order: valid CBOR that a
// strict CTAP2 decoder must refuse as non-canonical. Only for fault injection.
Bytes encode_reversed_maps(const Value& value);

// RFC 8949 diagnostic notation, for traces and test failure messages,
// e.g. {1: h'0102', "id": "x", -1: [true, null]}.
std::string diagnostic(const Value& value);

}  // namespace vauth::cbor
