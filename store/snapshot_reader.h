// A fast path for decoding snapshot records, the bulk of opening a large store.
//
// The general path (vauth::cbor::decode into a Value tree, then codec) costs a few
// microseconds per credential, most of a second at 100,000. This reader walks the
// bytes once and fills Credentials directly, but only for the exact shape our
// encoder writes: canonical heads, increasing integer keys, byte strings. For
// anything else it returns nullopt and the caller uses the general path, which
// stays the single definition of what is valid (and of the error messages).
#pragma once

#include <optional>

#include "store/journal_records.h"

namespace vauth::store::journal {

std::optional<SnapshotRecord> fast_decode_snapshot(ByteView payload);

}  // namespace vauth::store::journal
