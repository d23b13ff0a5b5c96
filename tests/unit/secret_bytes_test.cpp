// SecretBytes (vauth/crypto/secret_bytes.h): every block it frees is zero when
// freed.
// The wipe observer sees each block inside deallocate(), after the wipe and
// before the free, so the test reads live memory only.
#include "vauth/crypto/secret_bytes.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <utility>
#include <vector>


using namespace vauth;
using crypto::SecretBytes;

namespace {

struct Freed {
  const uint8_t* block;
  size_t size;
  bool all_zero;
};
std::vector<Freed>* g_freed = nullptr;

void observe(const uint8_t* block, size_t size) {
  if (!g_freed) return;
  g_freed->push_back({block, size, std::all_of(block, block + size, [](uint8_t b) { return b == 0; })});
}

// Records the blocks freed while it lives.
struct WipeLog {
  std::vector<Freed> freed;
  WipeLog() {
    g_freed = &freed;
    crypto::set_wipe_observer(observe);
  }
  ~WipeLog() {
    crypto::set_wipe_observer(nullptr);
    g_freed = nullptr;
  }
  // The block at `p` was freed (at least `size` bytes) and was zero by then.
  bool wiped(const uint8_t* p, size_t size) const {
    return std::any_of(freed.begin(), freed.end(),
                       [&](const Freed& f) { return f.block == p && f.size >= size && f.all_zero; });
  }
  bool seen(const uint8_t* p) const {
    return std::any_of(freed.begin(), freed.end(), [&](const Freed& f) { return f.block == p; });
  }
};

}  // namespace

TEST_CASE("SecretBytes wipes its block on destruction") {
  WipeLog log;
  const uint8_t* p = nullptr;
  {
    SecretBytes s(32, 0xa5);
    p = s.data();
  }
  CHECK(log.wiped(p, 32));
}

TEST_CASE("SecretBytes wipes the old block when it grows, shrinks to fit or is reassigned") {
  WipeLog log;
  SecretBytes s(4, 0x11);
  s.shrink_to_fit();
  const uint8_t* small = s.data();
  s.resize(4096, 0x22);  // must reallocate
  REQUIRE(s.data() != small);
  CHECK(log.wiped(small, 4));

  const uint8_t* big = s.data();
  s.resize(8);
  s.shrink_to_fit();
  CHECK(log.wiped(big, 4096));  // also the 4088 bytes the resize dropped

  const uint8_t* before = s.data();
  s = SecretBytes(64, 0x33);  // move assignment: the old block goes
  CHECK(log.wiped(before, 8));
  CHECK(s == Bytes(64, 0x33));
}

TEST_CASE("a moved-from SecretBytes holds nothing; the block is wiped once, by its new owner") {
  WipeLog log;
  SecretBytes a(32, 0x44);
  const uint8_t* p = a.data();
  SecretBytes b(std::move(a));
  CHECK(a.capacity() == 0);  // NOLINT(bugprone-use-after-move): checking what the move left
  CHECK(b.data() == p);
  CHECK_FALSE(log.seen(p));
  { SecretBytes gone = std::move(b); }
  CHECK(log.wiped(p, 32));
}

TEST_CASE("a plain Bytes handed over as a temporary is wiped, including bytes a shrink left behind") {
  WipeLog log;
  Bytes plain(32, 0x66);
  plain.resize(16);  // as pin_hash() does: the dropped half is still in the block
  const uint8_t* p = plain.data();
  SecretBytes s = std::move(plain);
  CHECK(log.wiped(p, 32));
  CHECK(plain.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(s == Bytes(16, 0x66));
  // A copy from an lvalue leaves the source alone: its owner decides.
  const Bytes kept(8, 0x77);
  SecretBytes copy = kept;
  CHECK(kept == Bytes(8, 0x77));
  CHECK(copy == kept);
}
