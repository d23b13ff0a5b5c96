#include "bench/limits.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <thread>
#include <vector>

namespace vauth::bench {
namespace {

using SteadyTime = std::chrono::steady_clock;

// Runs `op` in batches of 16 until `budget` has passed; operations per second
// from the median batch, so time slices lost to other processes on a shared
// machine do not count against the limit (the workloads are judged by their
// median latency for the same reason).
template <typename Op>
double rate(std::chrono::milliseconds budget, Op op) {
  constexpr int kBatch = 16;
  std::vector<double> batch_s;
  const auto t0 = SteadyTime::now();
  for (auto t = t0; t - t0 < budget || batch_s.size() < 5;) {
    for (int i = 0; i < kBatch; ++i) op();
    const auto now = SteadyTime::now();
    batch_s.push_back(std::chrono::duration<double>(now - t).count());
    t = now;
  }
  std::sort(batch_s.begin(), batch_s.end());
  return kBatch / batch_s[batch_s.size() / 2];
}

struct KeyGen {
  explicit KeyGen(int type, int nid) : ctx(EVP_PKEY_CTX_new_id(type, nullptr)) {
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1) throw std::runtime_error("EVP_PKEY_keygen_init");
    if (nid && EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, nid) != 1) throw std::runtime_error("curve");
  }
  ~KeyGen() { EVP_PKEY_CTX_free(ctx); }
  EVP_PKEY* make() const {
    EVP_PKEY* k = nullptr;
    if (EVP_PKEY_keygen(ctx, &k) != 1) throw std::runtime_error("EVP_PKEY_keygen");
    return k;
  }
  EVP_PKEY_CTX* ctx;
};

// One signature over a 69-byte message (authData ‖ clientDataHash is about that long).
void sign(EVP_MD_CTX* md, EVP_PKEY* key, bool ecdsa) {
  static const std::array<unsigned char, 69> msg{};
  std::array<unsigned char, 80> sig{};
  size_t len = sig.size();
  EVP_MD_CTX_reset(md);
  if (EVP_DigestSignInit(md, nullptr, ecdsa ? EVP_sha256() : nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(md, sig.data(), &len, msg.data(), msg.size()) != 1) {
    throw std::runtime_error("EVP_DigestSign");
  }
}

double tcp_rtt_us(std::chrono::milliseconds budget) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("loopback listen failed");
  }
  const int one = 1;
  std::thread echo([listener, one] {
    const int c = ::accept(listener, nullptr, nullptr);
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::array<char, 64> buf{};
    for (;;) {
      size_t got = 0;
      while (got < buf.size()) {
        const ssize_t n = ::recv(c, buf.data() + got, buf.size() - got, 0);
        if (n <= 0) {
          ::close(c);
          return;
        }
        got += static_cast<size_t>(n);
      }
      if (::send(c, buf.data(), buf.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(buf.size())) break;
    }
    ::close(c);
  });
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
  std::vector<double> samples;
  std::array<char, 64> buf{};
  const auto t0 = SteadyTime::now();
  while (SteadyTime::now() - t0 < budget) {
    const auto a = SteadyTime::now();
    ::send(s, buf.data(), buf.size(), MSG_NOSIGNAL);
    size_t got = 0;
    while (got < buf.size()) {
      const ssize_t n = ::recv(s, buf.data() + got, buf.size() - got, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    samples.push_back(std::chrono::duration<double, std::micro>(SteadyTime::now() - a).count());
  }
  ::close(s);
  echo.join();
  ::close(listener);
  std::sort(samples.begin(), samples.end());
  return samples.empty() ? 0 : samples[samples.size() / 2];
}

}  // namespace

Limits measure_limits(std::chrono::milliseconds budget) {
  Limits l;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  {
    KeyGen p256(EVP_PKEY_EC, NID_X9_62_prime256v1);
    EVP_PKEY* cached = p256.make();
    l.p256_sign_per_s = rate(budget, [&] { sign(md, cached, true); });
    EVP_PKEY_free(cached);
    l.p256_keygen_per_s = rate(budget, [&] { EVP_PKEY_free(p256.make()); });
    l.p256_keygen_sign_per_s = rate(budget, [&] {
      EVP_PKEY* k = p256.make();
      sign(md, k, true);
      EVP_PKEY_free(k);
    });
  }
  {
    KeyGen ed(EVP_PKEY_ED25519, 0);
    EVP_PKEY* cached = ed.make();
    l.ed25519_sign_per_s = rate(budget, [&] { sign(md, cached, false); });
    EVP_PKEY_free(cached);
    l.ed25519_keygen_sign_per_s = rate(budget, [&] {
      EVP_PKEY* k = ed.make();
      sign(md, k, false);
      EVP_PKEY_free(k);
    });
  }
  EVP_MD_CTX_free(md);
  l.tcp_rtt_us = tcp_rtt_us(budget);
  return l;
}

}  // namespace vauth::bench
