// Concurrency and soak (issue #11): one vauthd with several devices, each
// hammered over USB/IP by its own thread with several CTAPHID channels at
// once, CANCELs, INIT resyncs and dropped connections thrown in, for a bounded
// time. It asserts:
//   - no cross-talk: every answer is the one its channel asked for (PINGs echo
//     their own random payload; CBOR answers are what the command returns),
//     and no report turns up for a channel that asked nothing;
//   - CHANNEL_BUSY: a request on another channel while the device holds a
//     request (presence is delayed) is refused with ERR_CHANNEL_BUSY, and this
//     is seen to happen both deliberately and under load;
//   - no stuck device: at the end every device answers getInfo and a
//     makeCredential/getAssertion on a fresh connection;
//   - bounded memory: vauthd's RSS grows by at most 2 MiB after warm-up.
//
//   soak_test VAUTHD [seconds]      (default 15)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/ctap_requests.h"
#include "bench/ctaphid_client.h"
#include "bench/daemon_process.h"

using namespace vauth;
using namespace vauth::bench;
using SteadyTime = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace cmd = transport::ctaphid_cmd;

namespace {

constexpr size_t kDevices = 3;
constexpr size_t kChannels = 4;
constexpr uint8_t kErrChannelBusy = 0x06;
constexpr uint8_t kStatusKeepaliveCancel = 0x2d;
constexpr int kPresenceDelayMs = 20;
constexpr milliseconds kReplyTimeout{3000};

struct Tally {
  std::atomic<uint64_t> ok{0}, busy{0}, cancelled{0}, drops{0}, failures{0};
};

void fail(Tally& t, const std::string& why) {
  ++t.failures;
  std::fprintf(stderr, "soak: FAIL: %s\n", why.c_str());
}

std::unique_ptr<UsbipPipe> connect(const DaemonProcess& d, size_t device) {
  // After a dropped connection the server frees the bus ID when it sees the
  // close; until then an import is refused, so retry briefly.
  for (int attempt = 0;; ++attempt) {
    try {
      return std::make_unique<UsbipPipe>("127.0.0.1", d.port(), d.busid(device), /*posted_in=*/16);
    } catch (const std::exception&) {
      if (attempt > 100) throw;
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
}

enum class Kind { Ping, GetInfo, Assert };

struct Sent {
  uint32_t cid;
  Kind kind;
  Bytes payload;
  bool cancelled = false;
};

// One round: a request on every channel, back to back, then every answer.
void one_round(CtaphidClient& c, const std::vector<uint32_t>& cids, const Bytes& ga_request, std::mt19937_64& rng,
           Tally& t, const std::string& where) {
  std::vector<Sent> sent;
  // At most one maximal PING per round: the USB/IP session holds 256 input
  // reports (plus the IN URBs posted) for a host that has not read them yet,
  // and drops the oldest beyond that (docs/performance.md, finding 4).
  bool big_sent = false;
  for (uint32_t cid : cids) {
    Sent s{cid, static_cast<Kind>(rng() % 3), {}};
    if (s.kind == Kind::Ping) {
      s.payload.resize(rng() % ((big_sent ? 1024 : transport::kMaxMessageSize) + 1));
      big_sent = big_sent || s.payload.size() > 1024;
      for (auto& b : s.payload) b = static_cast<uint8_t>(rng());
      c.send(cid, cmd::kPing, s.payload);
    } else if (s.kind == Kind::GetInfo) {
      c.send(cid, cmd::kCbor, Bytes{kGetInfo});
    } else {
      c.send(cid, cmd::kCbor, ga_request);
      if (rng() % 4 == 0) {
        c.send(cid, cmd::kCancel, {});  // only the channel holding the request may cancel it
        s.cancelled = true;
      }
    }
    sent.push_back(std::move(s));
  }
  for (const Sent& s : sent) {
    std::optional<Message> m = c.receive(s.cid, kReplyTimeout);
    if (!m) return fail(t, where + ": no answer on channel " + std::to_string(s.cid));
    if (m->cmd == cmd::kError) {
      if (m->payload.size() == 1 && m->payload[0] == kErrChannelBusy) {
        ++t.busy;
        continue;
      }
      return fail(t, where + ": CTAPHID error " + std::to_string(m->payload.empty() ? -1 : m->payload[0]));
    }
    switch (s.kind) {
      case Kind::Ping:
        if (m->cmd != cmd::kPing || m->payload != s.payload) return fail(t, where + ": PING answered with another payload");
        break;
      case Kind::GetInfo:
        if (m->cmd != cmd::kCbor || ctap_status(m->payload) != 0 || m->payload.size() < 20) {
          return fail(t, where + ": getInfo answered wrongly");
        }
        break;
      case Kind::Assert:
        if (m->cmd != cmd::kCbor) return fail(t, where + ": getAssertion answered with another command");
        if (s.cancelled && ctap_status(m->payload) == kStatusKeepaliveCancel) {
          ++t.cancelled;
          continue;
        }
        if (!is_assertion(m->payload)) {
          return fail(t, where + ": getAssertion status " + std::to_string(ctap_status(m->payload)));
        }
        break;
    }
    ++t.ok;
  }
  if (c.parked() != 0) {
    fail(t, where + ": " + std::to_string(c.parked()) + " reports arrived for channels that asked nothing");
    c.clear_parked();
  }
}

// Sets up a credential on the device and opens its channels.
struct Host {
  std::unique_ptr<UsbipPipe> pipe;
  std::unique_ptr<CtaphidClient> client;
  std::vector<uint32_t> cids;
};

Host attach(const DaemonProcess& d, size_t device) {
  Host h;
  h.pipe = connect(d, device);
  h.client = std::make_unique<CtaphidClient>(*h.pipe);
  for (size_t i = 0; i < kChannels; ++i) {
    auto cid = h.client->open_channel();
    if (!cid) throw std::runtime_error("INIT failed");
    h.cids.push_back(*cid);
  }
  return h;
}

Bytes make_credential(CtaphidClient& c, uint32_t cid, const std::string& rp) {
  const Bytes cdh(32, 0x11);
  std::optional<Message> m =
      c.transact(cid, cmd::kCbor, make_credential_request(rp, Bytes(8, 1), crypto::Algorithm::ES256, false, cdh), kReplyTimeout);
  if (!m || m->cmd != cmd::kCbor) throw std::runtime_error("makeCredential: no answer");
  std::optional<Bytes> id = credential_id_of(m->payload);
  if (!id) throw std::runtime_error("makeCredential failed, status " + std::to_string(ctap_status(m->payload)));
  return *id;
}

void hammer(const DaemonProcess& d, size_t device, SteadyTime::time_point until, Tally& t) {
  const std::string where = "device " + std::to_string(device + 1);
  std::mt19937_64 rng(device * 7919 + 1);
  Host h = attach(d, device);
  const std::string rp = "soak" + std::to_string(device) + ".example";
  const Bytes id = make_credential(*h.client, h.cids[0], rp);
  const Bytes ga = get_assertion_request(rp, Bytes(32, 0x22), &id);

  // Deliberate CHANNEL_BUSY: a getAssertion waits kPresenceDelayMs for presence;
  // a PING on another channel meanwhile must be refused, then the assertion completes.
  h.client->send(h.cids[0], cmd::kCbor, ga);
  std::optional<Message> busy = h.client->transact(h.cids[1], cmd::kPing, Bytes{1, 2, 3}, kReplyTimeout);
  if (!busy || busy->cmd != cmd::kError || busy->payload != Bytes{kErrChannelBusy}) {
    fail(t, where + ": PING during another channel's request was not refused with ERR_CHANNEL_BUSY");
  }
  std::optional<Message> done = h.client->receive(h.cids[0], kReplyTimeout);
  if (!done || !is_assertion(done->payload)) fail(t, where + ": the request holding the device did not complete");

  for (uint64_t n = 1; SteadyTime::now() < until && t.failures == 0; ++n) {
    try {
      one_round(*h.client, h.cids, ga, rng, t, where);
      if (n % 40 == 0) {
        // The host vanishes mid-request (a request at the device, or a message
        // half sent), then comes back on a new connection.
        if (n % 80 == 0) {
          h.client->send(h.cids[0], cmd::kCbor, ga);
        } else {
          Bytes big(3000, 0x55);
          h.client->send(h.cids[0], cmd::kPing, big);  // whole message; dropped before its answer is read
        }
        h.pipe->drop();
        ++t.drops;
        h = attach(d, device);
      } else if (n % 17 == 0) {
        // INIT on an allocated channel: resynchronise it.
        const Bytes nonce{1, 2, 3, 4, 5, 6, 7, static_cast<uint8_t>(n)};
        std::optional<Message> m = h.client->transact(h.cids[n % kChannels], cmd::kInit, nonce, kReplyTimeout);
        if (!m || m->cmd != cmd::kInit || m->payload.size() < 17 || !std::equal(nonce.begin(), nonce.end(), m->payload.begin())) {
          fail(t, where + ": INIT resync answered wrongly");
        }
      }
    } catch (const std::exception& e) {
      fail(t, where + ": " + e.what());
    }
  }
}

// A fresh host, a normal request: the device is not stuck.
bool still_answers(const DaemonProcess& d, size_t device) {
  try {
    Host h = attach(d, device);
    std::optional<Message> info = h.client->transact(h.cids[0], cmd::kCbor, Bytes{kGetInfo}, kReplyTimeout);
    if (!info || ctap_status(info->payload) != 0) return false;
    const std::string rp = "final.example";
    const Bytes id = make_credential(*h.client, h.cids[1], rp);
    std::optional<Message> a =
        h.client->transact(h.cids[2], cmd::kCbor, get_assertion_request(rp, Bytes(32, 3), &id), kReplyTimeout);
    return a && is_assertion(a->payload);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak: device %zu: %s\n", device + 1, e.what());
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: soak_test VAUTHD [seconds]\n";
    return 2;
  }
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 15;
  try {
    DaemonProcess daemon(argv[1], kDevices,
                         {"--store", "ephemeral", "--presence-delay", std::to_string(kPresenceDelayMs)});
    Tally t;
    // Warm-up: one short pass so allocator pools exist before the baseline.
    {
      std::vector<std::thread> warm;
      const auto until = SteadyTime::now() + milliseconds(1000);
      for (size_t i = 0; i < kDevices; ++i) warm.emplace_back([&, i] { hammer(daemon, i, until, t); });
      for (auto& w : warm) w.join();
    }
    const uint64_t rss_before = daemon.rss_kib();
    std::vector<std::thread> threads;
    const auto until = SteadyTime::now() + std::chrono::seconds(seconds);
    for (size_t i = 0; i < kDevices; ++i) threads.emplace_back([&, i] { hammer(daemon, i, until, t); });
    for (auto& th : threads) th.join();
    const uint64_t rss_after = daemon.rss_kib();

    for (size_t i = 0; i < kDevices; ++i) {
      if (!still_answers(daemon, i)) fail(t, "device " + std::to_string(i + 1) + " is stuck after the soak");
    }
    std::printf("soak: %llu answers, %llu CHANNEL_BUSY, %llu cancelled, %llu dropped connections; RSS %llu -> %llu KiB\n",
                static_cast<unsigned long long>(t.ok.load()), static_cast<unsigned long long>(t.busy.load()),
                static_cast<unsigned long long>(t.cancelled.load()), static_cast<unsigned long long>(t.drops.load()),
                static_cast<unsigned long long>(rss_before), static_cast<unsigned long long>(rss_after));
    if (t.busy == 0) fail(t, "no CHANNEL_BUSY under load: the channels never contended");
    if (t.drops == 0) fail(t, "no connection was dropped: the run was too short to test disconnects");
#ifdef VAUTH_SOAK_NO_RSS_BOUND
    // Under AddressSanitizer the quarantine of freed memory grows RSS by design;
    // the leak check there is LeakSanitizer's, not this bound.
#else
    if (rss_after > rss_before + 2048) fail(t, "vauthd's RSS grew by more than 2 MiB");
#endif
    if (!daemon.stop()) fail(t, "vauthd did not exit cleanly on SIGTERM");
    return t.failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak: %s\n", e.what());
    return 1;
  }
}
