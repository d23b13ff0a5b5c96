// How the journal store scales: open time, the cost of one commit
// (a resident makeCredential's PutCredential + counter), and a discoverable
// getAssertion's credentials_for_rp lookup, at 10, 1,000 and 100,000 credentials.
// Prints a table; the ratio columns are relative to the 10-credential store.
//
//   store_bench [dir]     (default: a fresh directory under $TMPDIR)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/journal_store.h"

using namespace vauth;
using namespace vauth::store;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

Bytes bytes_of(uint64_t i, uint8_t tag, size_t n) {
  Bytes out(n);
  for (size_t k = 0; k < n; ++k) out[k] = static_cast<uint8_t>((i >> (8 * (k % 8))) ^ (tag * 31 + k));
  return out;
}

// About ten credentials per RP, as on a key that many sites use.
Credential credential(uint64_t i, uint64_t rps) {
  Credential c;
  c.id = bytes_of(i, 1, 48);
  c.rp_id = "rp" + std::to_string(i % rps) + ".example.com";
  c.rp_name = "Example " + std::to_string(i % rps);
  c.user_id = bytes_of(i, 2, 32);
  c.user_name = "user" + std::to_string(i) + "@example.com";
  c.user_display_name = "User " + std::to_string(i);
  c.algorithm = -7;
  c.private_key = bytes_of(i, 3, 32);
  c.created = i + 1;
  return c;
}

struct Row {
  size_t n;
  double open_ms;
  double commit_durable_us;
  double commit_batched_us;
  double lookup_us;
  uint64_t journal_bytes;
};

Row measure(const fs::path& dir, size_t n) {
  const uint64_t rps = std::max<uint64_t>(1, n / 10);
  {
    // Populate fast (large batches, no per-commit sync), then compact: the shape
    // of a store that grew over time.
    JournalOptions o;
    o.durability = Durability::batched;
    JournalStore s(dir, o);
    std::vector<Mutation> batch;
    for (size_t i = 0; i < n; ++i) {
      batch.push_back({change::PutCredential{credential(i, rps)}});
      if (batch.size() == 1000 || i + 1 == n) {
        s.commit(batch);
        batch.clear();
      }
    }
    s.compact();
  }
  Row row{n, 0, 0, 0, 0, 0};
  // Open: best of 3 (the first also pays for the page cache).
  row.open_ms = 1e30;
  for (int k = 0; k < 3; ++k) {
    auto t0 = Clock::now();
    JournalStore s(dir);
    row.open_ms = std::min(row.open_ms, us_since(t0) / 1000);
    if (s.state().credentials.size() != n) std::abort();
  }
  {
    JournalStore s(dir);
    const int lookups = 20000;
    size_t found = 0;
    auto t0 = Clock::now();
    for (int k = 0; k < lookups; ++k) {
      found += s.state().credentials_for_rp("rp" + std::to_string((k * 7919) % rps) + ".example.com").size();
    }
    row.lookup_us = us_since(t0) / lookups;
    if (found == 0) std::abort();
  }
  const int commits = 100;
  uint64_t next = n;
  {
    JournalStore s(dir);  // durable: dominated by fdatasync, which must not grow with n
    auto t0 = Clock::now();
    for (int k = 0; k < commits; ++k, ++next) {
      s.commit(std::vector<Mutation>{{change::PutCredential{credential(next, rps)}},
                                     {change::SetSignCount{static_cast<uint32_t>(next)}}});
    }
    row.commit_durable_us = us_since(t0) / commits;
  }
  {
    JournalOptions o;
    o.durability = Durability::batched;
    o.batch_commits = 1000000;
    o.batch_interval = std::chrono::hours(1);
    JournalStore s(dir, o);  // batched: the CPU cost of encoding, appending and applying
    auto t0 = Clock::now();
    for (int k = 0; k < commits * 10; ++k, ++next) {
      s.commit(Mutation{change::PutCredential{credential(next, rps)}});
    }
    row.commit_batched_us = us_since(t0) / (commits * 10);
    row.journal_bytes = s.stats().journal_bytes;
  }
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path base;
  if (argc > 1) {
    base = argv[1];
  } else {
    std::string tmpl = (fs::temp_directory_path() / "vauth-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return 1;
    base = tmpl;
  }
  std::vector<Row> rows;
  for (size_t n : {size_t{10}, size_t{1000}, size_t{100000}}) {
    rows.push_back(measure(base / ("n" + std::to_string(n)), n));
  }
  if (argc <= 1) fs::remove_all(base);

  const Row& r0 = rows.front();
  std::printf("%-12s %10s %7s %15s %7s %15s %7s %12s %7s %12s\n", "credentials", "open ms", "ratio",
              "commit us (dur)", "ratio", "commit us (bat)", "ratio", "lookup us", "ratio", "journal KiB");
  for (const Row& r : rows) {
    std::printf("%-12zu %10.2f %7.1f %15.1f %7.2f %15.2f %7.2f %12.3f %7.2f %12.1f\n", r.n, r.open_ms,
                r.open_ms / r0.open_ms, r.commit_durable_us, r.commit_durable_us / r0.commit_durable_us,
                r.commit_batched_us, r.commit_batched_us / r0.commit_batched_us, r.lookup_us,
                r.lookup_us / r0.lookup_us, static_cast<double>(r.journal_bytes) / 1024);
  }
  std::printf("\ncommit (dur) = durable mode, PutCredential + SetSignCount, fdatasync per commit;\n"
              "commit (bat) = batched mode, the CPU cost without the sync; lookup = credentials_for_rp\n"
              "for an RP with ~10 credentials. Ratios are against the 10-credential store.\n");
  return 0;
}
