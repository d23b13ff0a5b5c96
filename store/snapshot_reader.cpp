#include "store/snapshot_reader.h"

#include <limits>

#include "store/codec.h"
#include "vauth/cbor/codec.h"

namespace vauth::store::journal {

namespace {

// Any surprise: give up and let the general decoder judge.
struct Fallback {};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool done() const { return pos_ == in_.size(); }
  size_t pos() const { return pos_; }

  // Head of the next item: major type and argument; canonical (minimal) only.
  std::pair<uint8_t, uint64_t> head() {
    need(1);
    const uint8_t b = in_[pos_++];
    const uint8_t major = b >> 5, info = b & 0x1f;
    uint64_t arg;
    if (info < 24) {
      arg = info;
    } else if (info <= 27) {
      const size_t n = size_t{1} << (info - 24);
      need(n);
      arg = 0;
      for (size_t k = 0; k < n; ++k) arg = (arg << 8) | in_[pos_++];
      const uint64_t min = info == 24 ? 24 : info == 25 ? 0x100 : info == 26 ? 0x10000 : 0x100000000ull;
      if (arg < min) throw Fallback{};
    } else {
      throw Fallback{};  // indefinite lengths, reserved values
    }
    return {major, arg};
  }
  uint64_t uint() {
    auto [major, arg] = head();
    if (major != 0) throw Fallback{};
    return arg;
  }
  int64_t integer() {
    auto [major, arg] = head();
    if (major > 1 || arg > uint64_t(std::numeric_limits<int64_t>::max())) throw Fallback{};
    return major == 0 ? int64_t(arg) : -1 - int64_t(arg);
  }
  bool boolean() {
    need(1);
    const uint8_t b = in_[pos_];
    if (b != 0xf4 && b != 0xf5) throw Fallback{};
    ++pos_;
    return b == 0xf5;
  }
  // A byte string, in place (secrets are copied from it straight into SecretBytes).
  ByteView view() {
    auto [major, len] = head();
    if (major != 2 || len > in_.size() - pos_) throw Fallback{};
    const ByteView out = in_.subspan(pos_, len);
    pos_ += len;
    return out;
  }
  Bytes bytes() {
    const ByteView v = view();
    return Bytes(v.begin(), v.end());
  }
  uint64_t container(uint8_t want) {
    auto [major, n] = head();
    if (major != want || n > in_.size() - pos_) throw Fallback{};  // each element takes ≥ 1 byte
    return n;
  }
  // Skips one item of a known shape (integers, byte strings, small maps/arrays).
  void skip(int depth = 0) {
    if (depth > 4) throw Fallback{};
    auto [major, arg] = head();
    switch (major) {
      case 0:
      case 1:
        return;
      case 2:
        if (arg > in_.size() - pos_) throw Fallback{};
        pos_ += arg;
        return;
      case 4:
        for (uint64_t k = 0; k < arg; ++k) skip(depth + 1);
        return;
      case 5:
        for (uint64_t k = 0; k < arg; ++k) skip(depth + 1), skip(depth + 1);
        return;
      default:
        throw Fallback{};  // text (needs UTF-8 checks), tags, simple values
    }
  }
  // Increasing keys are what canonical order means for small unsigned keys, and rule out duplicates.
  uint64_t key(uint64_t& last) {
    const uint64_t k = uint();
    if (k <= last && last != kNone) throw Fallback{};
    last = k;
    return k;
  }
  static constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();

 private:
  void need(size_t n) const {
    if (in_.size() - pos_ < n) throw Fallback{};
  }
  ByteView in_;
  size_t pos_ = 0;
};

Credential read_credential(Reader& r) {
  Credential c;
  bool have_id = false;
  uint64_t last = Reader::kNone;
  for (uint64_t n = r.container(5); n > 0; --n) {
    switch (r.key(last)) {  // keys as in codec.cpp
      case 1: c.id = r.bytes(), have_id = true; break;
      case 2: c.rp_id = to_string(r.bytes()); break;
      case 3: c.rp_name = to_string(r.bytes()); break;
      case 4: c.user_id = r.bytes(); break;
      case 5: c.user_name = to_string(r.bytes()); break;
      case 6: c.user_display_name = to_string(r.bytes()); break;
      case 7: {
        const int64_t alg = r.integer();
        if (alg < std::numeric_limits<int32_t>::min() || alg > std::numeric_limits<int32_t>::max()) throw Fallback{};
        c.algorithm = static_cast<int32_t>(alg);
        break;
      }
      case 8: c.private_key = SecretBytes(r.view()); break;
      case 9: c.created = r.uint(); break;
      case 10: {
        const uint64_t protect = r.uint();
        if (protect < 1 || protect > 3) throw Fallback{};  // the general decoder reports it
        c.cred_protect = static_cast<uint8_t>(protect);
        break;
      }
      case 11: {
        const ByteView pair = r.view();
        if (pair.size() != 64) throw Fallback{};  // the general decoder reports it
        c.cred_random_uv.assign(pair.begin(), pair.begin() + 32);
        c.cred_random_no_uv.assign(pair.begin() + 32, pair.end());
        break;
      }
      case 12: c.large_blob_key = SecretBytes(r.view()); break;
      case 13: c.cred_blob = r.bytes(); break;
      case 14: c.third_party_payment = r.boolean(); break;
      case 15: c.discoverable = !r.boolean(); break;
      default: r.skip(); break;  // a field from a newer build: ignored, as in codec.cpp
    }
  }
  if (!have_id) throw Fallback{};
  return c;
}

}  // namespace

std::optional<SnapshotRecord> fast_decode_snapshot(ByteView payload) {
  try {
    Reader r(payload);
    SnapshotRecord s;
    bool kind = false, seq = false, index = false, count = false;
    uint64_t last = Reader::kNone;
    for (uint64_t n = r.container(5); n > 0; --n) {
      switch (r.key(last)) {
        case 1: kind = r.uint() == 2; break;
        case 2: s.seq = r.uint(), seq = true; break;
        case 3: s.index = r.uint(), index = true; break;
        case 4: s.count = r.uint(), count = true; break;
        case 5: {
          // The scalars are small and nested: the general decoder handles them.
          const size_t from = r.pos();
          r.skip();
          auto v = cbor::decode(payload.subspan(from, r.pos() - from), cbor::Limits{8, 4096});
          if (!v) throw Fallback{};
          State st;
          codec::decode_scalars(*v, st);
          s.scalars = std::move(st);
          break;
        }
        case 6: {
          const uint64_t m = r.container(4);
          s.credentials.reserve(m);
          for (uint64_t k = 0; k < m; ++k) s.credentials.push_back(read_credential(r));
          break;
        }
        case 7: {
          const uint64_t f = r.uint();
          if (f > std::numeric_limits<uint32_t>::max()) throw Fallback{};
          s.counter_floor = static_cast<uint32_t>(f);
          break;
        }
        default: r.skip(); break;
      }
    }
    if (!r.done() || !kind || !seq || !index || !count || s.count == 0 || s.index >= s.count) throw Fallback{};
    if ((s.index == 0) != s.scalars.has_value()) throw Fallback{};
    if (s.index != 0) s.counter_floor.reset();  // as the general path: only part 0's counts
    return s;
  } catch (const Fallback&) {
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;  // e.g. malformed scalars: the general path reports it properly
  }
}

}  // namespace vauth::store::journal
