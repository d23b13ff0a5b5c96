// The proxy's middle (vauth/daemon/proxy_link): reports pass unchanged between
// the host and an upstream key, and the ctap/device fault layers act on whole
// messages reassembled on the way. The upstream here is a real CTAPHID engine
// in the same process, over a handler that echoes requests, on virtual time.
#include "vauth/daemon/proxy_link.h"

#include <doctest/doctest.h>

#include <vector>

#include "transports/ctaphid.h"
#include "transports/ctaphid_packet.h"
#include "vauth/faults/fault_parse.h"

using namespace vauth;
using namespace vauth::transport;
using vauth::daemon::ProxyContext;
using vauth::daemon::ProxyLink;

namespace {

// The "real key": answers CBOR with status 0 and the request echoed, now or on release().
struct EchoKey : ctap::MessageHandler {
  bool hold = false;
  Reply held;
  Bytes held_response;
  std::vector<Bytes> requests;
  void handle_cbor(ByteView request, Reply reply) override {
    requests.emplace_back(request.begin(), request.end());
    Bytes r{0x00};
    append(r, request);
    if (hold) {
      held = std::move(reply);
      held_response = r;
      return;
    }
    reply(r);
  }
  void handle_msg(ByteView apdu, Reply reply) override {
    requests.emplace_back(apdu.begin(), apdu.end());
    Bytes r(apdu.begin(), apdu.end());
    append(r, Bytes{0x90, 0x00});
    reply(r);
  }
  void release() { std::exchange(held, nullptr)(held_response); }
  void cancel() override {
    if (held) std::exchange(held, nullptr)(Bytes{0x2d});
  }
  bool waiting_for_user() const override { return true; }
  void wink() override {}
  bool supports_cbor() const override { return true; }
  bool supports_msg() const override { return true; }
};

// An Upstream that is a CTAPHID engine over EchoKey, answering synchronously.
struct EngineUpstream : Upstream {
  EngineUpstream(EchoKey& key, TimerQueue& timers, std::vector<Report>& sent)
      : sent(sent), engine(key, timers, [this](const Report& r) {
          if (on_report) on_report(r);
        }) {}
  std::string describe() const override { return "test engine"; }
  void start(OnReport r, OnFailure f) override {
    on_report = std::move(r);
    on_failure = std::move(f);
  }
  void send(const Report& r) override {
    sent.push_back(r);
    engine.on_report(r);
  }
  std::vector<Report>& sent;
  OnReport on_report;
  OnFailure on_failure;
  CtaphidEngine engine;
};

struct Rig {
  EngineUpstream* upstream = nullptr;
  ManualClock clock;
  TimerQueue timers{clock};
  faults::FaultPlan plan{clock};
  EchoKey key;
  std::vector<Report> up;    // what reached the key
  std::vector<Report> down;  // what reached the host
  std::vector<faults::Action> device_actions;
  ProxyLink link{make_upstream(),
                 ProxyContext{plan, timers, clock, nullptr, 1, nullptr,
                              [this](faults::Action a, Duration) { device_actions.push_back(a); }, nullptr},
                 [this](const Report& r) { down.push_back(r); }};
  uint32_t cid = 0;

  std::unique_ptr<Upstream> make_upstream() {
    auto u = std::make_unique<EngineUpstream>(key, timers, up);
    upstream = u.get();
    return u;
  }
  Rig() {
    link.start();
    send(kBroadcastCid, ctaphid_cmd::kInit, Bytes(8, 0x55));
    REQUIRE(down.size() == 1);
    cid = get_u32_be(down[0].data() + 15);  // the channel the key allocated, passed through
    down.clear();
    up.clear();
  }
  void send(uint32_t c, uint8_t cmd, ByteView payload) {
    ctaphid::frame_message(c, cmd, payload, [this](const Report& r) { link.on_host_report(r); });
  }
  void add(const char* rule) {
    auto r = faults::parse_rule(rule);
    REQUIRE(r);
    plan.add(*r);
  }
  // A millisecond at a time, so a timer that re-arms itself (keepalives) fires as often as in real time.
  void advance(int ms) {
    for (int i = 0; i < ms; ++i) {
      clock.advance(Duration(1));
      timers.run_due();
    }
  }
  // The host's view: whole messages (cmd, payload) from `down`, keepalives included.
  std::vector<std::pair<uint8_t, Bytes>> messages() const {
    std::vector<std::pair<uint8_t, Bytes>> out;
    std::optional<ctaphid::Reassembly> r;
    for (const Report& report : down) {
      auto p = ctaphid::parse_packet(report);
      if (p.is_init)
        r.emplace(p.cid, p.cmd, p.bcnt, p.data);
      else if (r)
        r->add(p.seq, p.data);
      if (r && r->complete()) {
        out.emplace_back(r->cmd(), r->take_payload());
        r.reset();
      }
    }
    return out;
  }
};

Bytes get_info() {
  return Bytes{0x04};
}

constexpr uint8_t kProcessing = 0x01, kUpNeeded = 0x02;

// The keepalive statuses among `m`, in order.
Bytes keepalives(const std::vector<std::pair<uint8_t, Bytes>>& m) {
  Bytes out;
  for (const auto& [cmd, payload] : m) {
    if (cmd == ctaphid_cmd::kKeepalive && payload.size() == 1) out.push_back(payload[0]);
  }
  return out;
}

}  // namespace

TEST_CASE("a request of several packets reaches the key packet for packet, and the answer comes back on its channel") {
  Rig rig;
  Bytes big(300, 0xa5);
  big[0] = 0x01;  // makeCredential-ish command byte; the echo key does not care
  rig.send(rig.cid, ctaphid_cmd::kCbor, big);
  std::vector<Report> host_packets;
  ctaphid::frame_message(rig.cid, ctaphid_cmd::kCbor, big, [&](const Report& r) { host_packets.push_back(r); });
  CHECK(rig.up == host_packets);
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == ctaphid_cmd::kCbor);
  Bytes expected{0x00};
  append(expected, big);
  CHECK(m[0].second == expected);
  CHECK(get_u32_be(rig.down[0].data()) == rig.cid);
}

TEST_CASE("INIT, PING and WINK pass through untouched") {
  Rig rig;
  rig.send(rig.cid, ctaphid_cmd::kPing, Bytes{1, 2, 3});
  REQUIRE(rig.up.size() == 1);
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == ctaphid_cmd::kPing);
  CHECK(m[0].second == Bytes{1, 2, 3});
  CHECK(rig.key.requests.empty());
}

TEST_CASE("ctap status fault: the key never sees the request, the host gets the forced status") {
  Rig rig;
  rig.add("ctap:getInfo:status=OPERATION_DENIED,times=1");
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  CHECK(rig.up.empty());
  CHECK(rig.key.requests.empty());
  rig.advance(500);  // answered at once: no keepalives
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].second == Bytes{0x27});
  // times=1: the next getInfo goes to the key.
  rig.down.clear();
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  CHECK(rig.key.requests.size() == 1);
  m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].second == Bytes{0x00, 0x04});
}

TEST_CASE("the key's keepalives reach the host while it waits, then the answer") {
  Rig rig;
  rig.key.hold = true;
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  for (int i = 0; i < 3; ++i) rig.advance(100);
  auto m = rig.messages();
  // Exactly the key's three (100, 200, 300 ms): the link adds none while the key has the request.
  REQUIRE(m.size() == 3);
  for (auto& [cmd, payload] : m) {
    CHECK(cmd == ctaphid_cmd::kKeepalive);
    CHECK(payload == Bytes{kUpNeeded});  // as the key said
  }
  rig.key.release();
  m = rig.messages();
  CHECK(m.back().first == ctaphid_cmd::kCbor);
  CHECK(m.back().second == Bytes{0x00, 0x04});
}

TEST_CASE("ctap delay fault holds the key's answer, with KEEPALIVE PROCESSING every 100 ms meanwhile and none after") {
  Rig rig;
  rig.add("ctap:getInfo:delay=300");
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  CHECK(rig.key.requests.size() == 1);
  CHECK(rig.messages().empty());
  rig.advance(99);
  CHECK(rig.messages().empty());
  rig.advance(1);
  CHECK(keepalives(rig.messages()) == Bytes{kProcessing});
  rig.advance(199);
  auto m = rig.messages();
  CHECK(m.size() == 2);
  CHECK(keepalives(m) == Bytes{kProcessing, kProcessing});
  for (const Report& r : rig.down) CHECK(get_u32_be(r.data()) == rig.cid);
  rig.advance(1);
  m = rig.messages();
  REQUIRE(m.size() == 3);
  CHECK(m[2].first == ctaphid_cmd::kCbor);
  CHECK(m[2].second == Bytes{0x00, 0x04});
  rig.advance(1000);
  CHECK(rig.messages().size() == 3);  // the answer ended the keepalives
}

TEST_CASE("CANCEL does not cut a delayed answer short: keepalives go on until it leaves, as for an emulated key") {
  Rig rig;
  rig.add("ctap:getInfo:delay=300");
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.advance(150);
  rig.send(rig.cid, ctaphid_cmd::kCancel, {});
  rig.advance(150);
  auto m = rig.messages();
  REQUIRE(m.size() == 3);
  CHECK(keepalives(m) == Bytes{kProcessing, kProcessing});
  CHECK(m[2].second == Bytes{0x00, 0x04});  // the key had answered before the CANCEL
  rig.advance(1000);
  CHECK(rig.messages().size() == 3);
}

TEST_CASE("a delayed answer after the key's UPNEEDED: the link's keepalives say PROCESSING (the touch is done)") {
  Rig rig;
  rig.add("ctap:getInfo:delay=300");
  rig.key.hold = true;
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.advance(250);
  CHECK(keepalives(rig.messages()) == Bytes{kUpNeeded, kUpNeeded});  // the key's own
  rig.key.release();
  rig.advance(300);
  auto m = rig.messages();
  // The link's ticks at 300, 400 and 500 ms, then the answer at 550 ms.
  CHECK(keepalives(m) == Bytes{kUpNeeded, kUpNeeded, kProcessing, kProcessing, kProcessing});
  REQUIRE(m.size() == 6);
  CHECK(m[5].second == Bytes{0x00, 0x04});
  rig.advance(1000);
  CHECK(rig.messages().size() == 6);
}

TEST_CASE("ctap stall: KEEPALIVE PROCESSING until CANCEL (which reaches the key), then KEEPALIVE_CANCEL, silence") {
  Rig rig;
  rig.add("ctap:getInfo:stall");
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  CHECK(rig.up.empty());
  rig.advance(1050);
  auto m = rig.messages();
  CHECK(m.size() == 10);
  CHECK(keepalives(m) == Bytes(10, kProcessing));
  rig.down.clear();
  rig.send(rig.cid, ctaphid_cmd::kCancel, {});
  CHECK(rig.up.size() == 1);
  m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].second == Bytes{0x2d});
  rig.advance(1000);
  CHECK(rig.messages().size() == 1);
}

TEST_CASE("a held request forgotten (reset, a lost upstream) stops the link's keepalives") {
  Rig rig;
  rig.add("ctap:getInfo:stall");
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.advance(100);
  CHECK(keepalives(rig.messages()) == Bytes{kProcessing});
  rig.link.reset();
  rig.down.clear();
  rig.advance(1000);
  CHECK(rig.down.empty());

  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.advance(100);
  CHECK(keepalives(rig.messages()) == Bytes{kProcessing});
  rig.down.clear();
  rig.upstream->on_failure("the key was unplugged");
  rig.advance(1000);
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == ctaphid_cmd::kError);
}

TEST_CASE("CANCEL of a forwarded request goes to the key, whose answer reaches the host") {
  Rig rig;
  rig.key.hold = true;
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.down.clear();
  rig.send(rig.cid, ctaphid_cmd::kCancel, {});
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == ctaphid_cmd::kCbor);
  CHECK(m[0].second == Bytes{0x2d});
}

TEST_CASE("u2f status fault answers the APDU with the status word") {
  Rig rig;
  rig.add("u2f:*:status=0x6985");
  rig.send(rig.cid, ctaphid_cmd::kMsg, Bytes{0x00, 0x03, 0x00, 0x00, 0x00});
  CHECK(rig.up.empty());
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == ctaphid_cmd::kMsg);
  CHECK(m[0].second == Bytes{0x69, 0x85});
}

TEST_CASE("device unplug fault: the request is swallowed and the device action runs") {
  Rig rig;
  rig.add("device:getInfo:unplug=500");
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.advance(1);
  CHECK(rig.up.empty());
  CHECK(rig.messages().empty());
  REQUIRE(rig.device_actions.size() == 1);
  CHECK(rig.device_actions[0] == faults::Action::Unplug);
}

TEST_CASE("reset forgets the request in flight: the key's late answer passes raw, no longer held by a delay rule") {
  Rig rig;
  rig.add("ctap:getInfo:delay=1000");
  rig.key.hold = true;
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.link.reset();
  rig.down.clear();
  rig.key.release();
  // The engine's answer still travels (the key knows no reset), but raw, not through a stale reply.
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].second == Bytes{0x00, 0x04});
}

TEST_CASE("a continuation out of sequence goes up as the host sent it, for the key to refuse") {
  Rig rig;
  Bytes big(100, 0x01);
  std::vector<Report> packets;
  ctaphid::frame_message(rig.cid, ctaphid_cmd::kCbor, big, [&](const Report& r) { packets.push_back(r); });
  REQUIRE(packets.size() == 2);
  packets[1][4] = 5;  // SEQ 5 instead of 0
  for (auto& p : packets) rig.link.on_host_report(p);
  CHECK(rig.up == packets);
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == ctaphid_cmd::kError);
  CHECK(m[0].second == Bytes{ctaphid_err::kInvalidSeq});
}

TEST_CASE("a failed upstream: the request in flight and every later message get CTAPHID_ERROR at once") {
  Rig rig;
  rig.key.hold = true;
  rig.send(rig.cid, ctaphid_cmd::kCbor, get_info());
  rig.down.clear();
  rig.upstream->on_failure("the key was unplugged");
  CHECK(rig.link.upstream_failed());
  auto m = rig.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == ctaphid_cmd::kError);
  CHECK(m[0].second == Bytes{ctaphid_err::kOther});
  rig.down.clear();
  rig.up.clear();
  rig.send(kBroadcastCid, ctaphid_cmd::kInit, Bytes(8, 0x66));
  rig.send(rig.cid, ctaphid_cmd::kCbor, Bytes(100, 0x04));  // two packets: one answer
  CHECK(rig.up.empty());
  m = rig.messages();
  REQUIRE(m.size() == 2);
  CHECK(get_u32_be(rig.down[0].data()) == kBroadcastCid);
  for (auto& [c, payload] : m) {
    CHECK(c == ctaphid_cmd::kError);
    CHECK(payload == Bytes{ctaphid_err::kOther});
  }
}
