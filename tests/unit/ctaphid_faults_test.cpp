// The CTAPHID fault filter behind the real engine: what reaches the host for
// each action, packet by packet.
#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "transports/ctaphid.h"
#include "transports/ctaphid_faults.h"
#include "transports/ctaphid_packet.h"
#include "vauth/faults/fault_parse.h"

using namespace vauth;
using namespace vauth::transport;

namespace {

// Answers CBOR requests with the request echoed after a status byte, now or
// when release() is called.
struct EchoHandler : ctap::MessageHandler {
  bool hold = false;
  Reply held;
  Bytes held_response;
  void handle_cbor(ByteView request, Reply reply) override {
    Bytes r{0x00};
    append(r, request);
    if (hold) {
      held = std::move(reply);
      held_response = r;
      return;
    }
    reply(r);
  }
  void handle_msg(ByteView apdu, Reply reply) override { reply(Bytes(apdu.begin(), apdu.end())); }
  void release() { std::exchange(held, nullptr)(held_response); }
  void cancel() override {}
  bool waiting_for_user() const override { return true; }
  void wink() override {}
  bool supports_cbor() const override { return true; }
  bool supports_msg() const override { return true; }
};

struct Rig {
  ManualClock clock;
  TimerQueue timers{clock};
  faults::FaultPlan plan{clock};
  EchoHandler handler;
  std::vector<Report> out;
  CtaphidFaultFilter filter{plan, timers, [this](const Report& r) { out.push_back(r); }};
  CtaphidEngine engine{handler, timers, [this](const Report& r) { filter.send(r); }};
  uint32_t cid = 0;

  Rig() {
    Bytes nonce(8, 0x55);
    send_message(kBroadcastCid, ctaphid_cmd::kInit, nonce);
    REQUIRE(out.size() == 1);
    cid = get_u32_be(out[0].data() + 15);
    out.clear();
  }
  void add(const char* rule) {
    auto r = faults::parse_rule(rule);
    REQUIRE_MESSAGE(r.has_value(), rule);
    plan.add(std::move(*r));
  }
  void send_message(uint32_t channel, uint8_t cmd, ByteView payload) {
    ctaphid::frame_message(channel, cmd, payload, [this](const Report& r) { engine.on_report(r); });
  }
  // A CBOR request whose echo needs `n` bytes of response.
  void cbor(size_t n) { send_message(cid, ctaphid_cmd::kCbor, Bytes(n - 1, 0xab)); }
  void advance(Duration d) {
    clock.advance(d);
    timers.run_due();
  }
};

uint32_t cid_of(const Report& r) { return get_u32_be(r.data()); }
uint8_t cmd_of(const Report& r) { return r[4] & 0x7f; }
size_t bcnt_of(const Report& r) { return size_t{r[5]} << 8 | r[6]; }

}  // namespace

TEST_CASE("without rules every report passes unchanged") {
  Rig rig;
  rig.cbor(200);  // init + 3 continuations
  REQUIRE(rig.out.size() == 4);
  CHECK(bcnt_of(rig.out[0]) == 200);
  for (size_t i = 1; i < 4; ++i) CHECK(rig.out[i][4] == i - 1);
}

TEST_CASE("drop, duplicate, reorder, wrong-seq and wrong-cid reshape one message") {
  Rig rig;
  SUBCASE("drop: nothing arrives") {
    rig.add("ctaphid:cbor:drop");
    rig.cbor(200);
    CHECK(rig.out.empty());
  }
  SUBCASE("drop=2: continuation 1 is missing") {
    rig.add("ctaphid:cbor:drop=2");
    rig.cbor(200);
    REQUIRE(rig.out.size() == 3);
    CHECK(rig.out[1][4] == 0);
    CHECK(rig.out[2][4] == 2);
  }
  SUBCASE("duplicate=2: the message three times") {
    rig.add("ctaphid:cbor:duplicate=2");
    rig.cbor(100);
    REQUIRE(rig.out.size() == 6);
    CHECK(rig.out[0] == rig.out[2]);
    CHECK(rig.out[1] == rig.out[5]);
  }
  SUBCASE("reorder: continuations 0 and 1 swapped") {
    rig.add("ctaphid:cbor:reorder");
    rig.cbor(200);
    REQUIRE(rig.out.size() == 4);
    CHECK(rig.out[1][4] == 1);
    CHECK(rig.out[2][4] == 0);
  }
  SUBCASE("wrong-seq") {
    rig.add("ctaphid:cbor:wrong-seq");
    rig.cbor(100);
    REQUIRE(rig.out.size() == 2);
    CHECK(rig.out[1][4] == 1);
  }
  SUBCASE("wrong-cid") {
    rig.add("ctaphid:cbor:wrong-cid");
    rig.cbor(100);
    REQUIRE(rig.out.size() == 2);
    CHECK(cid_of(rig.out[0]) != rig.cid);
    CHECK(cid_of(rig.out[1]) == cid_of(rig.out[0]));
  }
}

TEST_CASE("corrupt, truncate, error and init-nonce change the bytes") {
  Rig rig;
  SUBCASE("corrupt=60 inverts payload byte 60 (continuation 0, offset 3)") {
    rig.add("ctaphid:cbor:corrupt=60");
    rig.cbor(100);
    REQUIRE(rig.out.size() == 2);
    CHECK(rig.out[1][5 + 3] == static_cast<uint8_t>(~0xab));
  }
  SUBCASE("truncate=10 announces and sends 10 bytes") {
    rig.add("ctaphid:cbor:truncate=10");
    rig.cbor(200);
    REQUIRE(rig.out.size() == 1);
    CHECK(bcnt_of(rig.out[0]) == 10);
  }
  SUBCASE("error=CHANNEL_BUSY replaces the message") {
    rig.add("ctaphid:cbor:error=CHANNEL_BUSY");
    rig.cbor(200);
    REQUIRE(rig.out.size() == 1);
    CHECK(cmd_of(rig.out[0]) == ctaphid_cmd::kError);
    CHECK(rig.out[0][7] == 0x06);
    CHECK(cid_of(rig.out[0]) == rig.cid);
  }
  SUBCASE("init-nonce: the INIT answer does not echo the nonce") {
    rig.add("ctaphid:init:init-nonce");
    Bytes nonce(8, 0x66);
    rig.send_message(kBroadcastCid, ctaphid_cmd::kInit, nonce);
    REQUIRE(rig.out.size() == 1);
    CHECK(Bytes(rig.out[0].begin() + 7, rig.out[0].begin() + 15) != nonce);
  }
}

TEST_CASE("delay holds messages in order; keepalives can be stopped or flooded") {
  Rig rig;
  SUBCASE("delay=300") {
    rig.add("ctaphid:cbor:delay=300,times=1");
    rig.cbor(10);
    rig.send_message(rig.cid, ctaphid_cmd::kPing, Bytes{1, 2, 3});
    CHECK(rig.out.empty());  // the ping answer waits behind the delayed message
    rig.advance(Duration(300));
    REQUIRE(rig.out.size() == 2);
    CHECK(cmd_of(rig.out[0]) == ctaphid_cmd::kCbor);
    CHECK(cmd_of(rig.out[1]) == ctaphid_cmd::kPing);
  }
  SUBCASE("pace=50: one packet every 50 ms, in order") {
    rig.add("ctaphid:cbor:pace=50,times=1");
    rig.cbor(150);  // an init packet and two continuations
    CHECK(rig.out.empty());
    rig.advance(Duration(50));
    REQUIRE(rig.out.size() == 1);
    CHECK(cmd_of(rig.out[0]) == ctaphid_cmd::kCbor);
    rig.advance(Duration(49));
    CHECK(rig.out.size() == 1);
    rig.advance(Duration(1));
    REQUIRE(rig.out.size() == 2);
    CHECK(rig.out[1][4] == 0);  // continuation 0
    rig.advance(Duration(50));
    REQUIRE(rig.out.size() == 3);
    CHECK(rig.out[2][4] == 1);
  }
  SUBCASE("keepalive drop: silence while the request waits") {
    rig.handler.hold = true;
    rig.add("ctaphid:keepalive:drop");
    rig.cbor(10);
    rig.advance(Duration(1000));
    CHECK(rig.out.empty());
    rig.handler.release();
    REQUIRE(rig.out.size() == 1);
    CHECK(cmd_of(rig.out[0]) == ctaphid_cmd::kCbor);
  }
  SUBCASE("keepalive duplicate=9: ten per interval") {
    rig.handler.hold = true;
    rig.add("ctaphid:keepalive:duplicate=9");
    rig.cbor(10);
    rig.advance(Duration(100));
    CHECK(rig.out.size() == 10);
    for (const Report& r : rig.out) CHECK(cmd_of(r) == ctaphid_cmd::kKeepalive);
    rig.handler.release();
  }
  SUBCASE("reset forgets held messages") {
    rig.add("ctaphid:delay=300");
    rig.cbor(10);
    rig.filter.reset();
    rig.advance(Duration(1000));
    CHECK(rig.out.empty());
  }
}
