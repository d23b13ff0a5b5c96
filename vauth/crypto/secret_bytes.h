// SecretBytes: a byte buffer for keys, PIN hashes and other secrets that wipes
// every heap block it gives back. It is a std::vector with a zeroing allocator,
// so it reads, compares and converts (ByteView) like Bytes; only the memory
// differs: destruction, reallocation (growth, shrink_to_fit) and assignment
// that replaces the buffer all free through deallocate(), which cleanses the
// whole block (its capacity, not just its size) first. A move hands the block
// over, so the moved-from object holds nothing to wipe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "vauth/base/bytes.h"

namespace vauth::crypto {

namespace detail {
// OPENSSL_cleanse(p, n), then the test hook (if set) sees the wiped block
// before it is freed.
void wipe_block(void* p, size_t n);
}  // namespace detail

template <typename T>
struct ZeroingAllocator {
  using value_type = T;
  // Stateless: containers may swap and move blocks between any two instances.
  using is_always_equal = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;

  ZeroingAllocator() noexcept = default;
  template <typename U>
  ZeroingAllocator(const ZeroingAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept {
    detail::wipe_block(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const ZeroingAllocator<U>&) const noexcept {
    return true;
  }
};

using SecretVector = std::vector<uint8_t, ZeroingAllocator<uint8_t>>;

// A SecretVector that also takes a plain Bytes where a secret is handed over
// (an RNG draw, a decoded field, a derived hash): from a temporary the source
// is wiped after the copy, so the plain buffer does not outlive the handover
// with the secret in it. There is deliberately no way back to Bytes except an
// explicit to_plain(): a secret never lands in non-wiping memory unnoticed.
class SecretBytes : public SecretVector {
 public:
  using SecretVector::SecretVector;
  SecretBytes() = default;
  SecretBytes(ByteView b) : SecretVector(b.begin(), b.end()) {}      // NOLINT(google-explicit-constructor)
  SecretBytes(const Bytes& b) : SecretVector(b.begin(), b.end()) {}  // NOLINT(google-explicit-constructor)
  SecretBytes(Bytes&& b) : SecretVector(b.begin(), b.end()) {        // NOLINT(google-explicit-constructor)
    // Growing to the capacity never reallocates and makes the whole block
    // (also bytes a shrink left behind) elements that may be wiped.
    b.resize(b.capacity());
    detail::wipe_block(b.data(), b.size());
    b.clear();
  }

  // Byte-wise equality (tests, known-answer checks). Not constant time: compare
  // secrets with equal_ct where timing matters.
  friend bool operator==(const SecretBytes& a, const SecretBytes& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const SecretBytes& a, const Bytes& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
};

// A plain copy, for APIs (CBOR values, JSON, base64) that only take Bytes; the
// caller wipes it, or docs/security.md names the gap.
inline Bytes to_plain(ByteView b) {
  return Bytes(b.begin(), b.end());
}

// Test hook: called with every block deallocate() has just wiped, before it is
// freed. nullptr (the default) disables it; the observer runs on whichever
// thread frees, so tests set it only around code they run themselves.
using WipeObserver = void (*)(const uint8_t* block, size_t size);
void set_wipe_observer(WipeObserver observer);

}  // namespace vauth::crypto
