// The subject of store_crash_test.py: a process that writes to a JournalStore
// until it is killed, and a verifier that checks what survived.
//
//   store_crash_writer <dir> [max_commits]
//       continues the deterministic commit sequence from where the store is, and
//       prints each commit's number on stdout (flushed) after commit() returned:
//       a printed number is an acknowledged commit.
//   store_crash_writer --verify <dir> <last_acked>
//       opens the store and checks that it holds exactly commits 1..n for
//       n = last_acked or last_acked + 1 (the one in flight may land or not), by
//       comparing with a replay of that sequence in memory: every acknowledged
//       change is there and no commit is half there. Prints "ok n=<n> ...".
//
// Commit i always sets the sign counter to i (so the store says how far it got)
// and, depending on i, puts or deletes credentials and changes the PIN.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "store/journal_store.h"

using namespace vauth;
using namespace vauth::store;

namespace {

Bytes derive(uint64_t i, uint8_t tag, size_t n) {
  Bytes out(n);
  uint64_t x = i * 0x9E3779B97F4A7C15ull + tag;
  for (auto& b : out) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    b = static_cast<uint8_t>(x >> 56);
  }
  return out;
}

Credential credential(uint64_t i) {
  Credential c;
  c.id = derive(i, 1, 48);
  c.rp_id = "rp" + std::to_string(i % 13) + ".example";
  c.rp_name = "Relying Party " + std::to_string(i % 13);
  c.user_id = derive(i % 997, 2, 16);  // accounts recur: later credentials replace earlier ones
  c.user_name = "user" + std::to_string(i % 997) + "@example.com";
  c.user_display_name = "User " + std::to_string(i % 997);
  c.algorithm = -7;
  c.private_key = derive(i, 3, 32);
  c.created = i;
  return c;
}

std::vector<Mutation> commit_number(uint64_t i) {
  std::vector<Mutation> batch;
  if (i % 7 == 0 && i > 35) {
    batch.push_back({change::DeleteCredential{credential(i - 35).id}});
  } else {
    batch.push_back({change::PutCredential{credential(i)}});
    if (i % 10 == 0) batch.push_back({change::PutCredential{credential(i + 1000000)}});
  }
  if (i % 11 == 0) batch.push_back({change::SetPin{derive(i, 4, 16), 8}});
  if (i % 3 == 0) batch.push_back({change::SetPinRetries{static_cast<uint8_t>(i % 9)}});
  batch.push_back({change::SetSignCount{static_cast<uint32_t>(i)}});
  return batch;
}

JournalOptions options() {
  JournalOptions o;
  o.compact_min_bytes = 128 << 10;  // compact often, so kills land inside compactions too
  o.warn = [](std::string_view w) { std::cerr << "warning: " << w << "\n"; };
  return o;
}

int write(const std::string& dir, uint64_t max_commits) {
  JournalStore store(dir, options());
  const uint64_t start = store.state().sign_count + 1;
  for (uint64_t i = start; i < start + max_commits; ++i) {
    store.commit(commit_number(i));
    std::printf("%llu\n", static_cast<unsigned long long>(i));
    std::fflush(stdout);
  }
  return 0;
}

int verify(const std::string& dir, uint64_t last_acked) {
  JournalStore store(dir, options());
  const State& got = store.state();
  const uint64_t n = got.sign_count;
  if (n < last_acked || n > last_acked + 1) {
    std::cout << "FAIL: store holds commits 1.." << n << " but " << last_acked << " were acknowledged\n";
    return 1;
  }
  MemoryStore expected;
  for (uint64_t i = 1; i <= n; ++i) expected.commit(commit_number(i));
  if (!(expected.state() == got)) {
    std::cout << "FAIL: state after commit " << n << " differs from the replay (" << got.credentials.size()
              << " credentials, expected " << expected.state().credentials.size() << ")\n";
    return 1;
  }
  auto s = store.stats();
  std::cout << "ok n=" << n << " credentials=" << got.credentials.size() << " journal_bytes=" << s.journal_bytes
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::string(argv[1]) == "--verify") return verify(argv[2], std::strtoull(argv[3], nullptr, 10));
    if (argc == 2 || argc == 3) return write(argv[1], argc == 3 ? std::strtoull(argv[2], nullptr, 10) : UINT64_MAX / 2);
    std::cerr << "usage: store_crash_writer <dir> [max_commits] | --verify <dir> <last_acked>\n";
    return 2;
  } catch (const std::exception& e) {
    std::cout << "FAIL: " << e.what() << "\n";
    return 1;
  }
}
