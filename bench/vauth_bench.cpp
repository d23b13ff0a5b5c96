// vauth-bench (`vauth bench`): how fast vauth answers, next to how fast it
// could answer. Every figure is printed with the ceiling measured in the same
// run (OpenSSL's own sign/keygen rates, a bare loopback TCP round trip), and
// the targets of issue #10 are judged as ratios, so the table means the same
// on a slow CI runner as on a fast laptop.
//
//   vauth-bench                       every workload, in-process and over USB/IP
//   vauth-bench --quick               a smoke run for CI (well under a minute):
//                                     short runs, exit status 1 on any error
//   vauth-bench --workloads ga-wrapped,getinfo --transports usbip --clients 8
//
// See docs/performance.md for the results table and what limits each figure.
#include <openssl/opensslv.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/ctaphid_client.h"
#include "bench/daemon_process.h"
#include "bench/inproc_device.h"
#include "bench/limits.h"
#include "bench/memory_floor.h"
#include "bench/workloads.h"

using namespace vauth;
using namespace vauth::bench;
namespace po = boost::program_options;
using SteadyTime = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const std::string kPin = "123456";

struct Options {
  milliseconds duration{2000};
  milliseconds limit_budget{700};
  bool quick = false;
  std::set<std::string> workloads;  // empty: all
  bool inproc = true, usbip = true;
  size_t clients = 4;
  size_t rss_ops = 100'000;
  size_t startup_runs = 11;  // the median of 11: one slow fsync or preempted start does not decide it
  size_t ping_step = 1;           // ping-sizes: every size
  size_t usbip_ping_step = 1;
  std::string vauthd;
};

struct Result {
  std::string workload;
  std::string transport;
  size_t clients = 1;
  uint64_t ops = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latency_us;  // sorted
  double cpu_us_per_op = 0;        // inproc: this thread (client + device); usbip: vauthd
  double rss_mib = 0;              // inproc: this process; usbip: vauthd
  double reports_per_op = 0;
  double ops_per_s() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  // 1 / median latency: what one client gets when no other process takes the CPU
  // away; compared with the limits, which are medians too.
  double p50_rate() const { return percentile(0.5) > 0 ? 1e6 / percentile(0.5) : 0; }
  double percentile(double p) const {
    if (latency_us.empty()) return 0;
    const size_t i = std::min(latency_us.size() - 1, static_cast<size_t>(p * static_cast<double>(latency_us.size())));
    return latency_us[i];
  }
};

double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

double self_rss_mib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return static_cast<double>(std::stoull(line.substr(6))) / 1024;
  }
  return 0;
}

// Repeats `ops` round robin (one per client channel) until `duration` passes.
struct Timed {
  uint64_t ops = 0, errors = 0;
  double seconds = 0;
  std::vector<double> latency_us;
};
Timed run_for(std::vector<Operation>& ops, milliseconds duration) {
  Timed t;
  t.latency_us.reserve(1 << 16);
  const auto t0 = SteadyTime::now();
  auto now = t0;
  while (now - t0 < duration) {
    for (Operation& op : ops) {
      const auto a = SteadyTime::now();
      if (!op()) ++t.errors;
      now = SteadyTime::now();
      t.latency_us.push_back(std::chrono::duration<double, std::micro>(now - a).count());
      ++t.ops;
    }
  }
  t.seconds = std::chrono::duration<double>(now - t0).count();
  return t;
}

Result finish(Result r, Timed&& t) {
  r.ops = t.ops;
  r.errors += t.errors;
  r.seconds = t.seconds;
  r.latency_us = std::move(t.latency_us);
  std::sort(r.latency_us.begin(), r.latency_us.end());
  return r;
}

// ---- in-process ------------------------------------------------------------

Result run_inproc(const WorkloadInfo& w, const Options& o, size_t channels) {
  InprocDevice dev(7);
  std::string rp;
  if (w.resident) rp = dev.provision_resident(w.resident);
  CtaphidClient client(*dev.pipe);
  std::vector<Operation> ops;
  Result r;
  r.workload = w.name;
  r.transport = "inproc";
  r.clients = channels;
  for (size_t i = 0; i < channels; ++i) {
    const auto cid = client.open_channel();
    if (!cid) throw std::runtime_error("in-process INIT failed");
    ops.push_back(prepare_workload(w.name, client, *cid, rp, kPin));
  }
  const uint64_t reports0 = client.reports();
  const double cpu0 = thread_cpu_us();
  Timed t = run_for(ops, o.duration);
  r.cpu_us_per_op = (thread_cpu_us() - cpu0) / static_cast<double>(std::max<uint64_t>(t.ops, 1));
  r.reports_per_op = static_cast<double>(client.reports() - reports0) / static_cast<double>(std::max<uint64_t>(t.ops, 1));
  r.rss_mib = self_rss_mib();
  return finish(std::move(r), std::move(t));
}

// ---- USB/IP ----------------------------------------------------------------

// `clients` threads, each with its own connection to its own device of one
// daemon: the daemon's single event loop serves them all.
Result run_usbip(const WorkloadInfo& w, const Options& o, DaemonProcess& daemon, size_t clients) {
  struct Client {
    std::unique_ptr<UsbipPipe> pipe;
    std::unique_ptr<CtaphidClient> ctap;
    std::vector<Operation> ops;
    Timed timed;
    std::string error;
  };
  std::vector<Client> cs(clients);
  for (size_t i = 0; i < clients; ++i) {
    cs[i].pipe = std::make_unique<UsbipPipe>("127.0.0.1", daemon.port(), daemon.busid(i));
    cs[i].ctap = std::make_unique<CtaphidClient>(*cs[i].pipe);
    const auto cid = cs[i].ctap->open_channel();
    if (!cid) throw std::runtime_error("USB/IP INIT failed on " + daemon.busid(i));
    cs[i].ops.push_back(prepare_workload(w.name, *cs[i].ctap, *cid, {}, kPin));
  }
  std::vector<uint64_t> reports0;
  for (auto& c : cs) reports0.push_back(c.ctap->reports());
  const auto cpu0 = daemon.cpu();
  std::vector<std::thread> threads;
  for (auto& c : cs) {
    threads.emplace_back([&c, &o] {
      try {
        c.timed = run_for(c.ops, o.duration);
      } catch (const std::exception& e) {
        c.error = e.what();
        ++c.timed.errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto cpu = daemon.cpu() - cpu0;
  Result r;
  r.workload = w.name;
  r.transport = "usbip";
  r.clients = clients;
  Timed all;
  uint64_t reports = 0;
  for (size_t i = 0; i < clients; ++i) {
    Client& c = cs[i];
    if (!c.error.empty()) std::cerr << "vauth-bench: " << w.name << " client " << i << ": " << c.error << "\n";
    all.ops += c.timed.ops;
    all.errors += c.timed.errors + c.pipe->errors();
    all.seconds = std::max(all.seconds, c.timed.seconds);
    all.latency_us.insert(all.latency_us.end(), c.timed.latency_us.begin(), c.timed.latency_us.end());
    reports += c.ctap->reports() - reports0[i];
  }
  const double n = static_cast<double>(std::max<uint64_t>(all.ops, 1));
  r.cpu_us_per_op = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(cpu).count()) / 1e3 / n;
  r.reports_per_op = static_cast<double>(reports) / n;
  r.rss_mib = static_cast<double>(daemon.rss_kib()) / 1024;
  return finish(std::move(r), std::move(all));
}

std::vector<std::string> daemon_args() {
  return {"--store", "ephemeral", "--seed", "7"};
}

// ---- printing --------------------------------------------------------------

struct Verdict {
  std::string target, figure;
  bool pass;
  bool judged = true;  // false: not measured in this run
};

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// The ceiling a workload is compared with, and its ratio to it.
std::string limit_column(const Result& r, const Limits& l) {
  const std::string& w = r.workload;
  auto vs = [&](double limit, const char* name) {
    return fmt("%.0f", limit) + " " + name + "  " + fmt("%.0f%%", 100 * r.p50_rate() / limit);
  };
  if (w.rfind("ga-", 0) == 0 || w == "u2f-auth") return vs(l.p256_sign_per_s, "sign/s");
  if (w.rfind("mc-es256", 0) == 0) return vs(l.p256_keygen_sign_per_s, "kg+sign/s");
  if (w.rfind("mc-eddsa", 0) == 0) return vs(l.ed25519_keygen_sign_per_s, "kg+sign/s");
  if (r.transport == "usbip" && r.reports_per_op > 0) {
    return fmt("%.1f", l.tcp_rtt_us) + " us RTT  " + fmt("%.2fx/report", r.percentile(0.5) / r.reports_per_op / l.tcp_rtt_us);
  }
  return "-";
}

void print_results(const std::vector<Result>& results, const Limits& l) {
  std::printf("\n%-13s %-7s %3s %9s %6s %10s %9s %9s %9s %8s %7s  %s\n", "workload", "via", "cli", "ops", "errors",
              "ops/s", "p50 us", "p99 us", "p99.9 us", "cpu us", "RSS MiB", "limit (same run)  ratio");
  for (const Result& r : results) {
    std::printf("%-13s %-7s %3zu %9llu %6llu %10.0f %9.1f %9.1f %9.1f %8.1f %7.1f  %s\n", r.workload.c_str(),
                r.transport.c_str(), r.clients, static_cast<unsigned long long>(r.ops),
                static_cast<unsigned long long>(r.errors), r.ops_per_s(), r.percentile(0.5), r.percentile(0.99),
                r.percentile(0.999), r.cpu_us_per_op, r.rss_mib, limit_column(r, l).c_str());
  }
  std::printf("cpu us = CPU per op: in-process, the one thread running client and device; usbip, vauthd alone.\n"
              "ratio = (1 / p50 latency) / limit for crypto-bound rows; p50 per HID report / TCP RTT for USB/IP rows.\n");
}

const Result* find(const std::vector<Result>& rs, const std::string& w, const std::string& via, size_t clients = 1) {
  for (const Result& r : rs) {
    if (r.workload == w && r.transport == via && r.clients == clients) return &r;
  }
  return nullptr;
}

// ---- the targets that need their own runs ---------------------------------

struct DaemonFacts {
  std::vector<double> startup_ms;
  double idle_rss_mib = 0;
  DaemonProcess::Memory idle;
  std::optional<DaemonProcess::Memory> floor;  // vauth-rss-floor, same wait
  double rss_before_mib = 0, rss_after_mib = 0;
  uint64_t rss_ops = 0, rss_errors = 0;
};

constexpr int kIdleSettleMs = 100;

DaemonFacts measure_daemon(const Options& o) {
  DaemonFacts f;
  for (size_t i = 0; i < o.startup_runs; ++i) {
    // An empty durable store in a fresh directory: provisioning (master secret,
    // attestation CA and batch certificate) and its fsyncs are part of startup.
    const auto dir = std::filesystem::temp_directory_path() / ("vauth-bench-start-" + std::to_string(::getpid()) + "-" + std::to_string(i));
    std::filesystem::remove_all(dir);
    {
      DaemonProcess d(o.vauthd, 1, {"--state-dir", dir.string()});
      f.startup_ms.push_back(static_cast<double>(d.startup().count()) / 1000);
      if (i == 0) {
        std::this_thread::sleep_for(milliseconds(kIdleSettleMs));
        f.idle = d.memory();
        f.idle_rss_mib = static_cast<double>(f.idle.rss_kib) / 1024;
      }
    }
    std::filesystem::remove_all(dir);
  }
  std::sort(f.startup_ms.begin(), f.startup_ms.end());
  if (const std::string floor = find_rss_floor(); !floor.empty()) f.floor = measure_memory_floor(floor, kIdleSettleMs);

  // RSS across many operations of a mix (getInfo, PINGs, assertions).
  DaemonProcess d(o.vauthd, 1, daemon_args());
  UsbipPipe pipe("127.0.0.1", d.port(), d.busid(0));
  CtaphidClient client(pipe);
  const auto cid = client.open_channel();
  if (!cid) throw std::runtime_error("INIT failed");
  std::vector<Operation> mix{prepare_workload("getinfo", client, *cid, {}, kPin),
                             prepare_workload("ping-1024", client, *cid, {}, kPin),
                             prepare_workload("ga-wrapped", client, *cid, {}, kPin),
                             prepare_workload("ping-64", client, *cid, {}, kPin)};
  const size_t warmup = std::min<size_t>(2000, o.rss_ops / 10);
  for (size_t i = 0; i < warmup; ++i) f.rss_errors += mix[i % mix.size()]() ? 0 : 1;
  f.rss_before_mib = static_cast<double>(d.rss_kib()) / 1024;
  for (size_t i = 0; i < o.rss_ops; ++i) f.rss_errors += mix[i % mix.size()]() ? 0 : 1;
  f.rss_ops = o.rss_ops;
  f.rss_after_mib = static_cast<double>(d.rss_kib()) / 1024;
  f.rss_errors += pipe.errors();
  return f;
}

std::vector<Verdict> judge(const std::vector<Result>& rs, const Limits& l, const DaemonFacts* d,
                           const std::vector<std::pair<std::string, uint64_t>>& size_errors) {
  std::vector<Verdict> v;
  auto ratio = [&](const char* target, const Result* r, double limit, double min) {
    if (!r) return v.push_back({target, "not measured", false, false});
    const double q = r->p50_rate() / limit;
    v.push_back({target, fmt("1/p50 %.0f/s", r->p50_rate()) + " / " + fmt("%.0f", limit) + " = " + fmt("%.0f%%", 100 * q), q >= min});
  };
  ratio("in-process getAssertion >= 70% of P-256 sign/s", find(rs, "ga-wrapped", "inproc"), l.p256_sign_per_s, 0.70);
  ratio("in-process makeCredential ES256 >= 70% of keygen+sign/s", find(rs, "mc-es256", "inproc"),
        l.p256_keygen_sign_per_s, 0.70);
  if (const Result* gi = find(rs, "getinfo", "usbip"); gi && gi->reports_per_op > 0) {
    const double per_report = gi->percentile(0.5) / gi->reports_per_op;
    v.push_back({"USB/IP getInfo per report <= 1.5x bare TCP RTT",
                 fmt("%.1f us", gi->percentile(0.5)) + " / " + fmt("%.1f reports", gi->reports_per_op) + " = " +
                     fmt("%.1f us", per_report) + " vs " + fmt("%.1f us", l.tcp_rtt_us) + " = " +
                     fmt("%.2fx", per_report / l.tcp_rtt_us),
                 per_report <= 1.5 * l.tcp_rtt_us});
  } else {
    v.push_back({"USB/IP getInfo per report <= 1.5x bare TCP RTT", "not measured", false, false});
  }
  if (size_errors.empty()) {
    v.push_back({"zero errors at every message size 0..7609", "not measured", false, false});
  }
  for (const auto& [via, errors] : size_errors) {
    v.push_back({"zero errors at every message size 0..7609 (" + via + ")", std::to_string(errors) + " errors", errors == 0});
  }
  if (d) {
    const double median = d->startup_ms[d->startup_ms.size() / 2];
    v.push_back({"startup to ready <= 20 ms (empty durable store)",
                 fmt("median %.1f ms", median) + fmt(", best %.1f ms", d->startup_ms.front()) + " of " +
                     std::to_string(d->startup_ms.size()),
                 median <= 20});
    // The breakdown says what the RSS is made of (docs/performance.md): shared
    // library pages other processes map too, versus what vauthd alone costs.
    const auto mib = [](uint64_t kib) { return static_cast<double>(kib) / 1024; };
    v.push_back({"idle RSS <= 8 MiB",
                 fmt("%.2f MiB", d->idle_rss_mib) + fmt(" (anon %.2f", mib(d->idle.anon_kib)) +
                     fmt(", file %.2f", mib(d->idle.file_kib)) + fmt("; private %.2f", mib(d->idle.private_kib)) +
                     fmt(", PSS %.2f)", mib(d->idle.pss_kib)),
                 d->idle_rss_mib <= 8});
    // Not a target of its own: the floor the 8 MiB is read against (finding 7).
    if (d->floor) {
      v.push_back({"  floor: vauth-rss-floor, OpenSSL 3 + libstdc++ only",
                   fmt("%.2f MiB", mib(d->floor->rss_kib)) + fmt(" (private %.2f", mib(d->floor->private_kib)) +
                       fmt("); vauthd adds %.2f MiB", d->idle_rss_mib - mib(d->floor->rss_kib)) +
                       fmt(", %.0f%% of its RSS", 100 * (d->idle_rss_mib - mib(d->floor->rss_kib)) / d->idle_rss_mib),
                   true, false});
    } else {
      v.push_back(
          {"  floor: vauth-rss-floor", "not measured (not found beside vauth-bench, or it failed)", false, false});
    }
    // "No growth": within 256 KiB, the allocator's own noise.
    const double growth = d->rss_after_mib - d->rss_before_mib;
    v.push_back({"no RSS growth over " + std::to_string(d->rss_ops) + " ops (<= 0.25 MiB)",
                 fmt("%.2f", d->rss_before_mib) + " -> " + fmt("%.2f MiB", d->rss_after_mib) + ", " +
                     std::to_string(d->rss_errors) + " errors",
                 growth <= 0.25 && d->rss_errors == 0});
  } else {
    v.push_back({"startup, idle RSS, RSS growth", "not measured (needs --transports usbip)", false, false});
  }
  const Result* small = find(rs, "ga-rk-10", "inproc");
  const Result* large = find(rs, "ga-rk-100000", "inproc");
  if (small && large) {
    const double q = large->percentile(0.5) / small->percentile(0.5);
    v.push_back({"100k-credential getAssertion within 1.25x of 10-credential",
                 fmt("p50 %.1f", large->percentile(0.5)) + fmt(" vs %.1f us", small->percentile(0.5)) + " = " + fmt("%.2fx", q),
                 q <= 1.25});
  } else {
    v.push_back({"100k-credential getAssertion within 1.25x of 10-credential", "not measured", false, false});
  }
  return v;
}

void print_limits(const Limits& l) {
  std::printf("Limits measured in this run (OpenSSL %s):\n", OPENSSL_VERSION_TEXT);
  std::printf("  P-256 sign, cached key     %9.0f /s\n", l.p256_sign_per_s);
  std::printf("  P-256 keygen, reused ctx   %9.0f /s\n", l.p256_keygen_per_s);
  std::printf("  P-256 keygen + sign        %9.0f /s\n", l.p256_keygen_sign_per_s);
  std::printf("  Ed25519 sign, cached key   %9.0f /s\n", l.ed25519_sign_per_s);
  std::printf("  Ed25519 keygen + sign      %9.0f /s\n", l.ed25519_keygen_sign_per_s);
  std::printf("  loopback TCP 64 B RTT      %9.1f us (median)\n", l.tcp_rtt_us);
}

std::set<std::string> split_list(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}

std::optional<Options> parse(int argc, char** argv, int& exit_code) {
  Options o;
  std::string workloads, transports;
  unsigned duration_ms = 2000;
  po::options_description desc("vauth-bench: throughput and latency of vauth next to the limits of its parts");
  desc.add_options()
      ("help,h", "show this help")
      ("list", "list the workloads and exit")
      ("quick", "smoke run for CI: short runs, fewer credentials; exit 1 on any error, timings never fail")
      ("duration", po::value(&duration_ms)->value_name("MS"), "how long each workload runs (default 2000)")
      ("workloads,w", po::value(&workloads)->value_name("LIST"),
       "comma-separated workloads (default: all), plus the pseudo-workloads ping-sizes and daemon")
      ("transports", po::value(&transports)->value_name("LIST"), "inproc,usbip (default both)")
      ("clients", po::value(&o.clients)->value_name("N"),
       "concurrent clients for the multi-client rows (default 4; 1 disables them)")
      ("rss-ops", po::value(&o.rss_ops)->value_name("N"), "operations for the RSS-growth check (default 100000)")
      ("vauthd", po::value(&o.vauthd)->value_name("PATH"), "the vauthd to measure (default: beside this program)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "vauth-bench: " << e.what() << "\n" << desc << "\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    exit_code = 0;
    return std::nullopt;
  }
  if (vm.count("list")) {
    for (const auto& w : all_workloads()) std::printf("%-14s %s%s\n", w.name.c_str(), w.what.c_str(), w.inproc_only ? " (in-process)" : "");
    std::printf("%-14s %s\n", "ping-sizes", "PING of every message size 0..7609, echo checked");
    std::printf("%-14s %s\n", "daemon", "vauthd startup to ready, idle RSS, RSS growth over --rss-ops operations");
    exit_code = 0;
    return std::nullopt;
  }
  o.quick = vm.count("quick") > 0;
  o.duration = milliseconds(duration_ms);
  if (o.quick) {
    if (!vm.count("duration")) o.duration = milliseconds(150);
    o.limit_budget = milliseconds(150);
    if (!vm.count("rss-ops")) o.rss_ops = 2000;
    o.startup_runs = 1;
    o.usbip_ping_step = 59;  // boundaries are always included
  }
  o.workloads = split_list(workloads);
  if (!transports.empty()) {
    const auto t = split_list(transports);
    o.inproc = t.contains("inproc");
    o.usbip = t.contains("usbip");
  }
  o.clients = std::max<size_t>(1, std::min<size_t>(o.clients, 16));
  o.vauthd = find_vauthd(o.vauthd);
  return o;
}

bool wanted(const Options& o, const std::string& name) { return o.workloads.empty() || o.workloads.contains(name); }

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  const std::optional<Options> parsed = parse(argc, argv, exit_code);
  if (!parsed) return exit_code;
  const Options& o = *parsed;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress on stderr and tables on stdout interleave correctly

  try {
    std::printf("vauth-bench: %u cores, %s mode, %lld ms per workload\n", std::thread::hardware_concurrency(),
                o.quick ? "quick" : "full", static_cast<long long>(o.duration.count()));
    const Limits limits = measure_limits(o.limit_budget);
    print_limits(limits);
    std::fflush(stdout);

    std::vector<Result> results;
    std::vector<std::pair<std::string, uint64_t>> size_errors;
    auto note = [](const Result& r) {
      std::fprintf(stderr, "  %-13s %-6s x%-2zu %9.0f ops/s  %llu errors\n", r.workload.c_str(), r.transport.c_str(),
                   r.clients, r.ops_per_s(), static_cast<unsigned long long>(r.errors));
    };
    if (o.inproc) {
      for (const WorkloadInfo& w : all_workloads()) {
        if (!wanted(o, w.name) || (o.quick && w.resident > 1000)) continue;
        results.push_back(run_inproc(w, o, 1));
        note(results.back());
      }
      if (o.clients > 1) {
        for (const char* name : {"getinfo", "ga-wrapped"}) {
          if (!wanted(o, name)) continue;
          for (const WorkloadInfo& w : all_workloads()) {
            if (w.name == name) results.push_back(run_inproc(w, o, o.clients));
          }
          note(results.back());
        }
      }
      if (wanted(o, "ping-sizes")) {
        InprocDevice dev(9);
        CtaphidClient client(*dev.pipe);
        const auto cid = client.open_channel();
        size_errors.emplace_back("inproc", cid ? ping_every_size(client, *cid, o.ping_step) : 1);
      }
    }
    std::unique_ptr<DaemonFacts> facts;
    if (o.usbip) {
      {
        DaemonProcess daemon(o.vauthd, o.clients, daemon_args());
        for (const WorkloadInfo& w : all_workloads()) {
          if (!wanted(o, w.name) || w.inproc_only) continue;
          results.push_back(run_usbip(w, o, daemon, 1));
          note(results.back());
        }
        if (o.clients > 1) {
          for (const char* name : {"getinfo", "ping-64", "ga-wrapped"}) {
            if (!wanted(o, name)) continue;
            for (const WorkloadInfo& w : all_workloads()) {
              if (w.name == name) results.push_back(run_usbip(w, o, daemon, o.clients));
            }
            note(results.back());
          }
        }
        if (wanted(o, "ping-sizes")) {
          UsbipPipe pipe("127.0.0.1", daemon.port(), daemon.busid(0));
          CtaphidClient client(pipe);
          const auto cid = client.open_channel();
          const uint64_t errors = cid ? ping_every_size(client, *cid, o.usbip_ping_step) : 1;
          size_errors.emplace_back(o.usbip_ping_step == 1 ? "usbip" : "usbip, every 59th size + boundaries",
                                   errors + pipe.errors());
        }
      }
      if (wanted(o, "daemon")) facts = std::make_unique<DaemonFacts>(measure_daemon(o));
    }

    print_results(results, limits);
    uint64_t errors = 0;
    for (const Result& r : results) errors += r.errors;
    for (const auto& [via, e] : size_errors) errors += e;
    if (facts) errors += facts->rss_errors;

    std::printf("\nTargets (issue #10), as ratios to this run's limits:\n");
    for (const Verdict& v : judge(results, limits, facts.get(), size_errors)) {
      std::printf("  %-5s %-58s %s\n", v.judged ? (v.pass ? "PASS" : "MISS") : "-", v.target.c_str(), v.figure.c_str());
    }
    std::printf("\n%s: %llu errors\n", errors ? "FAILED" : "ok", static_cast<unsigned long long>(errors));
    return errors ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "vauth-bench: " << e.what() << "\n";
    return 1;
  }
}
