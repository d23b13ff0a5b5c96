// The ceilings every benchmark figure is compared with, measured in the same
// run on the same machine: what OpenSSL itself can do (P-256 sign with a cached
// key, keygen with a reused context, keygen+sign; the same for Ed25519) and
// what a bare loopback TCP round trip of one 64-byte report costs.
#pragma once

#include <chrono>

namespace vauth::bench {

// Rates come from the median batch of operations (robust to preemption).
struct Limits {
  double p256_sign_per_s = 0;
  double p256_keygen_per_s = 0;
  double p256_keygen_sign_per_s = 0;
  double ed25519_sign_per_s = 0;
  double ed25519_keygen_sign_per_s = 0;
  double tcp_rtt_us = 0;  // median 64-byte round trip over 127.0.0.1, TCP_NODELAY
};

Limits measure_limits(std::chrono::milliseconds budget_each);

}  // namespace vauth::bench
