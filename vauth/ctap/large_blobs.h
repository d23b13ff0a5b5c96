// authenticatorLargeBlobs (CTAP 2.1 §6.10): the serialized large-blob array,
// read in fragments and written in fragments that only take effect once the
// whole new array has arrived and its truncated SHA-256 checks out.
#pragma once

#include <cstddef>

#include "vauth/base/bytes.h"

namespace vauth::ctap {

// A write in progress (volatile: a power cycle or reset abandons it).
struct LargeBlobWrite {
  bool active = false;
  Bytes buffer;                // the fragments received so far
  size_t expected_length = 0;  // the `length` of the first fragment
  size_t expected_next_offset = 0;
};

// The initial serialized large-blob array: an empty CBOR array (0x80) and
// LEFT(SHA-256(0x80), 16).
Bytes initial_large_blob_array();

// The serialized array of the CBOR array `cbor_array`: it followed by
// LEFT(SHA-256(cbor_array), 16) (CTAP 2.1 §6.10.2).
Bytes serialized_large_blob_array(ByteView cbor_array);

// The CBOR array of an intact serialized array (the bytes before the hash);
// empty if `array` is not intact.
ByteView large_blob_array_body(ByteView array);

// Whether `array` ends with LEFT(SHA-256(everything before), 16) (CTAP 2.1 §6.10.2).
bool large_blob_array_intact(ByteView array);

}  // namespace vauth::ctap
