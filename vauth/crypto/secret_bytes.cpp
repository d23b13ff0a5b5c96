#include "vauth/crypto/secret_bytes.h"

#include <openssl/crypto.h>

#include <atomic>

namespace vauth::crypto {

namespace {
std::atomic<WipeObserver> g_observer{nullptr};
}

void detail::wipe_block(void* p, size_t n) {
  if (!p || n == 0) return;
  OPENSSL_cleanse(p, n);
  if (auto observer = g_observer.load(std::memory_order_relaxed)) observer(static_cast<const uint8_t*>(p), n);
}

void set_wipe_observer(WipeObserver observer) {
  g_observer.store(observer, std::memory_order_relaxed);
}

}  // namespace vauth::crypto
