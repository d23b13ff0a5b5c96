// CTAPHID engine and loopback device, driven on virtual time. Frames are built
// and parsed here independently of the engine's own framing code, so a framing
// bug cannot hide behind a symmetric one.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "transports/ctaphid.h"
#include "transports/loopback.h"
#include "vauth/base/clock.h"
#include "vauth/base/timer_queue.h"

namespace vauth::transport {
namespace {

using namespace std::chrono_literals;
namespace cmd = ctaphid_cmd;
namespace err = ctaphid_err;

constexpr uint8_t kCtap2KeepaliveCancel = 0x2d;

// Echoes requests (with a marker byte so replies differ from requests), or holds
// the Reply for the test to answer later.
class FakeHandler final : public ctap::MessageHandler {
 public:
  enum class Mode { kEcho, kHold };
  Mode mode = Mode::kEcho;
  bool cbor = true;
  bool msg = true;
  bool user_needed = false;
  bool reply_inside_cancel = false;  // answer a held request from within cancel()

  int cancels = 0;
  int winks = 0;
  std::vector<Bytes> cbor_requests;
  std::vector<Bytes> msg_requests;
  Reply held;

  void handle_cbor(ByteView request, Reply reply) override {
    cbor_requests.emplace_back(request.begin(), request.end());
    respond(request, std::move(reply));
  }
  void handle_msg(ByteView apdu, Reply reply) override {
    msg_requests.emplace_back(apdu.begin(), apdu.end());
    respond(apdu, std::move(reply));
  }
  void cancel() override {
    ++cancels;
    if (reply_inside_cancel && held) answer(Bytes{kCtap2KeepaliveCancel});
  }
  bool waiting_for_user() const override { return user_needed; }
  void wink() override { ++winks; }
  bool supports_cbor() const override { return cbor; }
  bool supports_msg() const override { return msg; }

  void answer(Bytes response) {
    REQUIRE(held);
    Reply reply = std::move(held);
    held = nullptr;
    reply(std::move(response));
  }

 private:
  void respond(ByteView request, Reply reply) {
    if (mode == Mode::kHold) {
      held = std::move(reply);
      return;
    }
    Bytes response{0x00};
    append(response, request);
    reply(std::move(response));
  }
};

struct Message {
  uint32_t cid = 0;
  uint8_t cmd = 0;
  Bytes payload;
  size_t packets = 0;
};

Report init_packet(uint32_t cid, uint8_t command, size_t bcnt, ByteView data = {}) {
  Report r{};
  r[0] = static_cast<uint8_t>(cid >> 24);
  r[1] = static_cast<uint8_t>(cid >> 16);
  r[2] = static_cast<uint8_t>(cid >> 8);
  r[3] = static_cast<uint8_t>(cid);
  r[4] = command | 0x80;
  r[5] = static_cast<uint8_t>(bcnt >> 8);
  r[6] = static_cast<uint8_t>(bcnt);
  std::copy_n(data.begin(), std::min(data.size(), kInitPayload), r.begin() + 7);
  return r;
}

Report cont_packet(uint32_t cid, uint8_t seq, ByteView data = {}) {
  Report r{};
  r[0] = static_cast<uint8_t>(cid >> 24);
  r[1] = static_cast<uint8_t>(cid >> 16);
  r[2] = static_cast<uint8_t>(cid >> 8);
  r[3] = static_cast<uint8_t>(cid);
  r[4] = seq;
  std::copy_n(data.begin(), std::min(data.size(), kContPayload), r.begin() + 5);
  return r;
}

std::vector<Report> frame(uint32_t cid, uint8_t command, ByteView payload) {
  std::vector<Report> reports{init_packet(cid, command, payload.size(), payload)};
  size_t offset = std::min(payload.size(), kInitPayload);
  for (uint8_t seq = 0; offset < payload.size(); ++seq) {
    reports.push_back(cont_packet(cid, seq, payload.subspan(offset)));
    offset += std::min(payload.size() - offset, kContPayload);
  }
  return reports;
}

Bytes pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
  return b;
}

bool all_zero(ByteView b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

// Reassembles the engine's output, checking the framing (sequence numbers,
// CIDs, zero padding) as it goes.
std::vector<Message> parse_output(const std::vector<Report>& reports) {
  std::vector<Message> messages;
  size_t i = 0;
  while (i < reports.size()) {
    const Report& first = reports[i++];
    REQUIRE((first[4] & 0x80) != 0);
    Message m;
    m.cid = get_u32_be(first.data());
    m.cmd = first[4] & 0x7f;
    const size_t total = get_u16_be(first.data() + 5);
    REQUIRE(total <= kMaxMessageSize);
    size_t chunk = std::min(total, kInitPayload);
    m.payload.assign(first.begin() + 7, first.begin() + 7 + chunk);
    CHECK(all_zero(ByteView(first).subspan(7 + chunk)));
    m.packets = 1;
    for (uint8_t seq = 0; m.payload.size() < total; ++seq) {
      REQUIRE(i < reports.size());
      const Report& cont = reports[i++];
      CHECK(get_u32_be(cont.data()) == m.cid);
      CHECK(cont[4] == seq);
      chunk = std::min(total - m.payload.size(), kContPayload);
      m.payload.insert(m.payload.end(), cont.begin() + 5, cont.begin() + 5 + chunk);
      CHECK(all_zero(ByteView(cont).subspan(5 + chunk)));
      ++m.packets;
    }
    messages.push_back(std::move(m));
  }
  return messages;
}

CtaphidConfig small_config() {
  CtaphidConfig c;
  c.device_major = 4;
  c.device_minor = 5;
  c.device_build = 6;
  c.max_channels = 4;
  return c;
}

struct Harness {
  explicit Harness(CtaphidConfig config = small_config(), CtaphidEngine::CidSource source = {})
      : engine(std::make_unique<CtaphidEngine>(
            handler, timers, [this](const Report& r) { out.push_back(r); }, config,
            std::move(source))) {}

  ManualClock clock;
  TimerQueue timers{clock};
  FakeHandler handler;
  std::vector<Report> out;
  std::unique_ptr<CtaphidEngine> engine;

  void feed(const Report& r) { engine->on_report(r); }
  void send(uint32_t cid, uint8_t command, ByteView payload) {
    for (const Report& r : frame(cid, command, payload)) feed(r);
  }
  // Moves virtual time forward 1 ms at a time, running timers as they fall due.
  void advance(Duration d) {
    for (Duration t{0}; t < d; t += 1ms) {
      clock.advance(1ms);
      timers.run_due();
    }
  }
  std::vector<Message> take() {
    std::vector<Message> m = parse_output(out);
    out.clear();
    return m;
  }
  Message take_one() {
    std::vector<Message> m = take();
    REQUIRE(m.size() == 1);
    return m[0];
  }
  uint32_t open_channel() {
    const Bytes nonce = pattern(8);
    send(kBroadcastCid, cmd::kInit, nonce);
    const Message m = take_one();
    REQUIRE(m.cmd == cmd::kInit);
    REQUIRE(m.payload.size() == 17);
    return get_u32_be(m.payload.data() + 8);
  }
};

void check_error(const Message& m, uint32_t cid, uint8_t code) {
  CHECK(m.cid == cid);
  CHECK(m.cmd == cmd::kError);
  REQUIRE(m.payload.size() == 1);
  CHECK(m.payload[0] == code);
}

void check_keepalive(const Message& m, uint32_t cid, uint8_t status) {
  CHECK(m.cid == cid);
  CHECK(m.cmd == cmd::kKeepalive);
  CHECK(m.payload == Bytes{status});
}

const Bytes kCborRequest{0x04};  // authenticatorGetInfo
const Bytes kCborEcho{0x00, 0x04};

TEST_CASE("INIT on broadcast allocates a channel and reports the device") {
  Harness h;
  const Bytes nonce{1, 2, 3, 4, 5, 6, 7, 8};
  h.send(kBroadcastCid, cmd::kInit, nonce);
  Message m = h.take_one();
  CHECK(m.cid == kBroadcastCid);
  CHECK(m.cmd == cmd::kInit);
  REQUIRE(m.payload.size() == 17);
  CHECK(Bytes(m.payload.begin(), m.payload.begin() + 8) == nonce);
  CHECK(get_u32_be(m.payload.data() + 8) == 1);
  CHECK(m.payload[12] == 2);  // CTAPHID protocol version
  CHECK(m.payload[13] == 4);
  CHECK(m.payload[14] == 5);
  CHECK(m.payload[15] == 6);
  CHECK(m.payload[16] == 0x05);  // WINK | CBOR

  CHECK(h.open_channel() == 2);
  CHECK(h.open_channel() == 3);
}

TEST_CASE("INIT capabilities follow the handler") {
  Harness h;
  h.handler.msg = false;
  h.send(kBroadcastCid, cmd::kInit, pattern(8));
  CHECK(h.take_one().payload[16] == 0x0d);  // WINK | CBOR | NMSG

  h.handler.msg = true;
  h.handler.cbor = false;
  h.send(kBroadcastCid, cmd::kInit, pattern(8));
  CHECK(h.take_one().payload[16] == 0x01);  // WINK only
}

TEST_CASE("INIT uses the injected CID source and skips unusable CIDs") {
  std::vector<uint32_t> cids{0, kBroadcastCid, 0xabcd1234, 0xabcd1234, 77};
  size_t next = 0;
  Harness h(small_config(), [&] { return cids[next++ % cids.size()]; });
  CHECK(h.open_channel() == 0xabcd1234);
  CHECK(h.open_channel() == 77);  // the duplicate is not handed out twice
}

TEST_CASE("INIT with a wrong payload length") {
  Harness h;
  h.send(kBroadcastCid, cmd::kInit, pattern(7));
  check_error(h.take_one(), kBroadcastCid, err::kInvalidLen);

  const uint32_t cid = h.open_channel();
  h.send(cid, cmd::kInit, pattern(9));
  check_error(h.take_one(), cid, err::kInvalidLen);
}

TEST_CASE("INIT on an allocated channel resynchronises it") {
  Harness h;
  const uint32_t cid = h.open_channel();
  const Bytes nonce = pattern(8);

  SUBCASE("idle: answered on the same CID") {
    h.send(cid, cmd::kInit, nonce);
    const Message m = h.take_one();
    CHECK(m.cid == cid);
    CHECK(get_u32_be(m.payload.data() + 8) == cid);
    CHECK(h.handler.cancels == 0);
  }

  SUBCASE("a pending request is cancelled and its late reply dropped") {
    h.handler.mode = FakeHandler::Mode::kHold;
    h.send(cid, cmd::kCbor, kCborRequest);
    CHECK(h.engine->busy());
    h.send(cid, cmd::kInit, nonce);
    const Message m = h.take_one();
    CHECK(m.cmd == cmd::kInit);
    CHECK(m.cid == cid);
    CHECK(h.handler.cancels == 1);
    CHECK_FALSE(h.engine->busy());

    h.handler.answer(Bytes{kCtap2KeepaliveCancel});
    h.advance(1s);
    CHECK(h.out.empty());  // neither the stale reply nor keepalives

    h.handler.mode = FakeHandler::Mode::kEcho;
    h.send(cid, cmd::kCbor, kCborRequest);
    CHECK(h.take_one().payload == kCborEcho);
  }

  SUBCASE("a reply made from inside cancel() is dropped too") {
    h.handler.mode = FakeHandler::Mode::kHold;
    h.handler.reply_inside_cancel = true;
    h.send(cid, cmd::kCbor, kCborRequest);
    h.send(cid, cmd::kInit, nonce);
    const Message m = h.take_one();
    CHECK(m.cmd == cmd::kInit);
    CHECK(h.handler.cancels == 1);
  }

  SUBCASE("a partial message is discarded") {
    h.feed(init_packet(cid, cmd::kPing, 100, pattern(57)));
    h.send(cid, cmd::kInit, nonce);
    CHECK(h.take_one().cmd == cmd::kInit);
    CHECK_FALSE(h.engine->busy());
    h.feed(cont_packet(cid, 0, pattern(59)));  // now spurious
    h.advance(1s);
    CHECK(h.out.empty());
  }
}

TEST_CASE("INIT is answered while another channel is busy") {
  Harness h;
  const uint32_t a = h.open_channel();
  h.handler.mode = FakeHandler::Mode::kHold;
  h.send(a, cmd::kCbor, kCborRequest);

  const uint32_t b = h.open_channel();
  CHECK(b != a);
  h.send(b, cmd::kInit, pattern(8));
  CHECK(h.take_one().cid == b);
  CHECK(h.handler.cancels == 0);
  CHECK(h.engine->busy());
}

TEST_CASE("PING echoes payloads of any size with correct framing") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{57}, size_t{58}, size_t{1024}, kMaxMessageSize}) {
    CAPTURE(size);
    Harness h;
    const uint32_t cid = h.open_channel();
    const Bytes payload = pattern(size);
    h.send(cid, cmd::kPing, payload);
    const Message m = h.take_one();
    CHECK(m.cid == cid);
    CHECK(m.cmd == cmd::kPing);
    CHECK(m.payload == payload);
    const size_t expected_packets =
        size <= kInitPayload ? 1 : 1 + (size - kInitPayload + kContPayload - 1) / kContPayload;
    CHECK(m.packets == expected_packets);
    CHECK_FALSE(h.engine->busy());
  }
}

TEST_CASE("the largest message uses SEQ 0..127") {
  Harness h;
  const uint32_t cid = h.open_channel();
  h.send(cid, cmd::kPing, pattern(kMaxMessageSize));
  REQUIRE(h.out.size() == 129);
  CHECK(h.out.back()[4] == 127);
}

TEST_CASE("BCNT above the maximum message size is INVALID_LEN") {
  Harness h;
  const uint32_t cid = h.open_channel();
  h.feed(init_packet(cid, cmd::kPing, kMaxMessageSize + 1, pattern(57)));
  check_error(h.take_one(), cid, err::kInvalidLen);
  CHECK_FALSE(h.engine->busy());
  h.feed(init_packet(cid, cmd::kPing, 0xffff, pattern(57)));
  check_error(h.take_one(), cid, err::kInvalidLen);
}

TEST_CASE("a continuation with the wrong SEQ aborts the message") {
  Harness h;
  const uint32_t cid = h.open_channel();
  const Bytes payload = pattern(200);
  std::vector<Report> reports = frame(cid, cmd::kPing, payload);
  REQUIRE(reports.size() == 4);
  h.feed(reports[0]);
  h.feed(reports[1]);
  h.feed(reports[3]);  // SEQ 2 where 1 was expected
  check_error(h.take_one(), cid, err::kInvalidSeq);
  CHECK_FALSE(h.engine->busy());

  h.feed(reports[2]);  // the rest is spurious now
  h.advance(1s);
  CHECK(h.out.empty());

  h.send(cid, cmd::kPing, payload);
  CHECK(h.take_one().payload == payload);
}

TEST_CASE("an init packet on a channel that is mid-message is INVALID_SEQ") {
  Harness h;
  const uint32_t cid = h.open_channel();
  h.feed(init_packet(cid, cmd::kPing, 100, pattern(57)));
  h.feed(init_packet(cid, cmd::kPing, 3, pattern(3)));
  check_error(h.take_one(), cid, err::kInvalidSeq);
  CHECK_FALSE(h.engine->busy());

  h.send(cid, cmd::kPing, pattern(3));
  CHECK(h.take_one().payload == pattern(3));
}

TEST_CASE("a missing continuation times out at continuation_timeout") {
  Harness h;
  const uint32_t cid = h.open_channel();
  std::vector<Report> reports = frame(cid, cmd::kPing, pattern(200));

  SUBCASE("measured from the init packet") {
    h.feed(reports[0]);
    h.advance(499ms);
    CHECK(h.out.empty());
    CHECK(h.engine->busy());
    h.advance(1ms);
    check_error(h.take_one(), cid, err::kMsgTimeout);
    CHECK_FALSE(h.engine->busy());
  }

  SUBCASE("re-armed by each continuation") {
    h.feed(reports[0]);
    h.advance(300ms);
    h.feed(reports[1]);
    h.advance(499ms);
    CHECK(h.out.empty());
    h.advance(1ms);
    check_error(h.take_one(), cid, err::kMsgTimeout);
  }

  SUBCASE("not sent once the message completed") {
    for (const Report& r : reports) {
      h.feed(r);
      h.advance(400ms);
    }
    CHECK(h.take_one().cmd == cmd::kPing);
    h.advance(1s);
    CHECK(h.out.empty());
  }
}

TEST_CASE("CHANNEL_BUSY for another channel during a transaction") {
  Harness h;
  const uint32_t a = h.open_channel();
  const uint32_t b = h.open_channel();

  SUBCASE("during reassembly") {
    std::vector<Report> reports = frame(a, cmd::kPing, pattern(100));
    h.feed(reports[0]);
    h.send(b, cmd::kPing, pattern(4));
    check_error(h.take_one(), b, err::kChannelBusy);
    h.feed(reports[1]);
    CHECK(h.take_one().payload == pattern(100));
  }

  SUBCASE("during processing") {
    h.handler.mode = FakeHandler::Mode::kHold;
    h.send(a, cmd::kCbor, kCborRequest);
    h.send(b, cmd::kPing, pattern(4));
    check_error(h.take_one(), b, err::kChannelBusy);
    h.send(b, cmd::kCbor, kCborRequest);
    check_error(h.take_one(), b, err::kChannelBusy);
    CHECK(h.handler.cbor_requests.size() == 1);

    h.handler.answer(Bytes{0x00, 0xa0});
    const Message m = h.take_one();
    CHECK(m.cid == a);
    CHECK(m.cmd == cmd::kCbor);
    CHECK(m.payload == Bytes{0x00, 0xa0});
    CHECK_FALSE(h.engine->busy());
  }

  SUBCASE("the owning channel itself while its request is at the handler") {
    h.handler.mode = FakeHandler::Mode::kHold;
    h.send(a, cmd::kCbor, kCborRequest);
    h.send(a, cmd::kPing, pattern(4));
    check_error(h.take_one(), a, err::kChannelBusy);
  }
}

TEST_CASE("INVALID_CHANNEL") {
  Harness h;
  h.send(0, cmd::kPing, pattern(4));
  check_error(h.take_one(), 0, err::kInvalidChannel);
  h.send(0, cmd::kInit, pattern(8));
  check_error(h.take_one(), 0, err::kInvalidChannel);

  h.send(5, cmd::kPing, pattern(4));  // never allocated
  check_error(h.take_one(), 5, err::kInvalidChannel);
  h.send(5, cmd::kInit, pattern(8));
  check_error(h.take_one(), 5, err::kInvalidChannel);

  h.open_channel();
  h.send(kBroadcastCid, cmd::kPing, pattern(4));
  check_error(h.take_one(), kBroadcastCid, err::kInvalidChannel);
  h.send(kBroadcastCid, cmd::kCbor, kCborRequest);
  check_error(h.take_one(), kBroadcastCid, err::kInvalidChannel);
  CHECK(h.handler.cbor_requests.empty());
}

TEST_CASE("spurious continuation packets are ignored") {
  Harness h;
  const uint32_t a = h.open_channel();
  const uint32_t b = h.open_channel();
  h.feed(cont_packet(a, 0, pattern(59)));
  h.feed(cont_packet(99, 0, pattern(59)));
  h.feed(cont_packet(kBroadcastCid, 3));
  CHECK(h.out.empty());
  CHECK_FALSE(h.engine->busy());

  std::vector<Report> reports = frame(a, cmd::kPing, pattern(100));
  h.feed(reports[0]);
  h.feed(cont_packet(b, 0, pattern(59)));  // another channel's noise
  h.feed(reports[1]);
  CHECK(h.take_one().payload == pattern(100));
}

TEST_CASE("reports of the wrong length are ignored") {
  Harness h;
  const Report r = init_packet(kBroadcastCid, cmd::kInit, 8, pattern(8));
  h.engine->on_report(ByteView(r).first(63));
  Bytes longer(r.begin(), r.end());
  longer.push_back(0);
  h.engine->on_report(longer);
  h.engine->on_report({});
  CHECK(h.out.empty());
}

TEST_CASE("unknown and unsupported commands are INVALID_CMD") {
  Harness h;
  const uint32_t cid = h.open_channel();
  for (uint8_t c : {uint8_t{0x02}, uint8_t{0x40}, uint8_t{0x7f}, cmd::kKeepalive, cmd::kError}) {
    CAPTURE(c);
    h.send(cid, c, pattern(3));
    check_error(h.take_one(), cid, err::kInvalidCmd);
  }
  // Rejected at the init packet: the continuations are then just noise.
  std::vector<Report> reports = frame(cid, 0x41, pattern(100));
  h.feed(reports[0]);
  check_error(h.take_one(), cid, err::kInvalidCmd);
  CHECK_FALSE(h.engine->busy());
  h.feed(reports[1]);
  CHECK(h.out.empty());

  h.handler.msg = false;
  h.send(cid, cmd::kMsg, pattern(7));
  check_error(h.take_one(), cid, err::kInvalidCmd);
  CHECK(h.handler.msg_requests.empty());
}

TEST_CASE("CBOR and MSG go to the handler and come back with the same command") {
  Harness h;
  const uint32_t cid = h.open_channel();
  const Bytes request = pattern(300);
  h.send(cid, cmd::kCbor, request);
  Message m = h.take_one();
  CHECK(m.cmd == cmd::kCbor);
  CHECK(m.cid == cid);
  CHECK(m.payload == concat(Bytes{0x00}, request));
  REQUIRE(h.handler.cbor_requests.size() == 1);
  CHECK(h.handler.cbor_requests[0] == request);

  const Bytes apdu{0x00, 0x03, 0x00, 0x00, 0x00};
  h.send(cid, cmd::kMsg, apdu);
  m = h.take_one();
  CHECK(m.cmd == cmd::kMsg);
  CHECK(m.payload == concat(Bytes{0x00}, apdu));
  REQUIRE(h.handler.msg_requests.size() == 1);

  h.send(cid, cmd::kCbor, {});
  check_error(h.take_one(), cid, err::kInvalidLen);
  CHECK(h.handler.cbor_requests.size() == 1);
}

TEST_CASE("an oversized handler response becomes ERR_OTHER") {
  Harness h;
  const uint32_t cid = h.open_channel();
  h.handler.mode = FakeHandler::Mode::kHold;
  h.send(cid, cmd::kCbor, kCborRequest);
  h.handler.answer(Bytes(kMaxMessageSize + 1));
  check_error(h.take_one(), cid, err::kOther);
  CHECK_FALSE(h.engine->busy());
}

TEST_CASE("keepalives while a request is processed") {
  Harness h;
  const uint32_t cid = h.open_channel();

  SUBCASE("every interval, PROCESSING then UPNEEDED, stopping at the reply") {
    h.handler.mode = FakeHandler::Mode::kHold;
    h.send(cid, cmd::kCbor, kCborRequest);
    h.advance(99ms);
    CHECK(h.out.empty());
    h.advance(1ms);
    check_keepalive(h.take_one(), cid, 1);
    h.advance(99ms);
    CHECK(h.out.empty());
    h.advance(1ms);
    check_keepalive(h.take_one(), cid, 1);

    h.handler.user_needed = true;
    h.advance(300ms);
    std::vector<Message> m = h.take();
    REQUIRE(m.size() == 3);
    for (const Message& k : m) check_keepalive(k, cid, 2);

    h.advance(50ms);
    h.handler.answer(Bytes{0x00});
    CHECK(h.take_one().cmd == cmd::kCbor);
    h.advance(1s);
    CHECK(h.out.empty());
  }

  SUBCASE("none when the handler replies synchronously") {
    h.send(cid, cmd::kCbor, kCborRequest);
    CHECK(h.take_one().cmd == cmd::kCbor);
    h.advance(1s);
    CHECK(h.out.empty());
    CHECK(h.timers.empty());
  }
}

TEST_CASE("the keepalive interval is configurable") {
  CtaphidConfig config = small_config();
  config.keepalive_interval = 250ms;
  Harness h(config);
  const uint32_t cid = h.open_channel();
  h.handler.mode = FakeHandler::Mode::kHold;
  h.send(cid, cmd::kMsg, Bytes{0x00, 0x01, 0x00, 0x00});
  h.advance(249ms);
  CHECK(h.out.empty());
  h.advance(1ms);
  check_keepalive(h.take_one(), cid, 1);
}

TEST_CASE("CANCEL") {
  Harness h;
  const uint32_t a = h.open_channel();
  const uint32_t b = h.open_channel();
  h.handler.mode = FakeHandler::Mode::kHold;

  SUBCASE("on the owning channel: the handler's reply is delivered later") {
    h.send(a, cmd::kCbor, kCborRequest);
    h.send(a, cmd::kCancel, {});
    CHECK(h.handler.cancels == 1);
    CHECK(h.out.empty());  // CANCEL itself is never answered
    h.handler.answer(Bytes{kCtap2KeepaliveCancel});
    const Message m = h.take_one();
    CHECK(m.cid == a);
    CHECK(m.cmd == cmd::kCbor);
    CHECK(m.payload == Bytes{kCtap2KeepaliveCancel});
    CHECK_FALSE(h.engine->busy());
  }

  SUBCASE("on the owning channel: the handler replies from within cancel()") {
    h.handler.reply_inside_cancel = true;
    h.send(a, cmd::kCbor, kCborRequest);
    h.send(a, cmd::kCancel, {});
    CHECK(h.handler.cancels == 1);
    const Message m = h.take_one();
    CHECK(m.cmd == cmd::kCbor);
    CHECK(m.payload == Bytes{kCtap2KeepaliveCancel});
    CHECK_FALSE(h.engine->busy());
    h.advance(1s);
    CHECK(h.out.empty());
  }

  SUBCASE("from another channel: ignored, not even CHANNEL_BUSY") {
    h.send(a, cmd::kCbor, kCborRequest);
    h.send(b, cmd::kCancel, {});
    CHECK(h.handler.cancels == 0);
    CHECK(h.out.empty());
    CHECK(h.engine->busy());
  }

  SUBCASE("during the channel's own reassembly: ignored, the message continues") {
    h.handler.mode = FakeHandler::Mode::kEcho;
    std::vector<Report> reports = frame(a, cmd::kCbor, pattern(100));
    h.feed(reports[0]);
    h.send(a, cmd::kCancel, {});
    h.feed(reports[1]);
    CHECK(h.take_one().cmd == cmd::kCbor);
    CHECK(h.handler.cancels == 0);
  }

  SUBCASE("when nothing is pending: ignored") {
    h.send(a, cmd::kCancel, {});
    CHECK(h.handler.cancels == 0);
    CHECK(h.out.empty());
  }
}

TEST_CASE("LOCK") {
  Harness h;
  const uint32_t a = h.open_channel();
  const uint32_t b = h.open_channel();

  h.send(a, cmd::kLock, Bytes{2});
  Message m = h.take_one();
  CHECK(m.cid == a);
  CHECK(m.cmd == cmd::kLock);
  CHECK(m.payload.empty());

  h.send(b, cmd::kPing, pattern(4));
  check_error(h.take_one(), b, err::kChannelBusy);
  h.send(a, cmd::kPing, pattern(4));
  CHECK(h.take_one().cmd == cmd::kPing);
  h.send(b, cmd::kInit, pattern(8));  // INIT is still answered
  CHECK(h.take_one().cmd == cmd::kInit);

  SUBCASE("expires after N seconds") {
    h.advance(1999ms);
    h.send(b, cmd::kPing, pattern(4));
    check_error(h.take_one(), b, err::kChannelBusy);
    h.advance(1ms);
    h.send(b, cmd::kPing, pattern(4));
    CHECK(h.take_one().cmd == cmd::kPing);
  }

  SUBCASE("LOCK 0 unlocks") {
    h.send(a, cmd::kLock, Bytes{0});
    CHECK(h.take_one().cmd == cmd::kLock);
    h.send(b, cmd::kPing, pattern(4));
    CHECK(h.take_one().cmd == cmd::kPing);
  }

  SUBCASE("another channel cannot lock or unlock") {
    h.send(b, cmd::kLock, Bytes{0});
    check_error(h.take_one(), b, err::kChannelBusy);
  }
}

TEST_CASE("LOCK parameter checks") {
  Harness h;
  const uint32_t cid = h.open_channel();
  h.send(cid, cmd::kLock, Bytes{11});
  check_error(h.take_one(), cid, err::kInvalidPar);
  h.send(cid, cmd::kLock, Bytes{});
  check_error(h.take_one(), cid, err::kInvalidLen);
  h.send(cid, cmd::kLock, Bytes{1, 2});
  check_error(h.take_one(), cid, err::kInvalidLen);
  h.send(cid, cmd::kLock, Bytes{10});
  CHECK(h.take_one().cmd == cmd::kLock);
}

TEST_CASE("WINK") {
  Harness h;
  const uint32_t cid = h.open_channel();
  h.send(cid, cmd::kWink, {});
  const Message m = h.take_one();
  CHECK(m.cid == cid);
  CHECK(m.cmd == cmd::kWink);
  CHECK(m.payload.empty());
  CHECK(h.handler.winks == 1);

  h.send(cid, cmd::kWink, Bytes{1});
  check_error(h.take_one(), cid, err::kInvalidLen);
  CHECK(h.handler.winks == 1);
}

TEST_CASE("channels beyond max_channels evict the least recently used") {
  Harness h;  // max_channels = 4
  std::vector<uint32_t> cids;
  for (int i = 0; i < 4; ++i) cids.push_back(h.open_channel());

  h.send(cids[0], cmd::kPing, pattern(1));  // channel 1 is now the most recent
  h.take();
  const uint32_t fifth = h.open_channel();

  h.send(cids[1], cmd::kPing, pattern(1));
  check_error(h.take_one(), cids[1], err::kInvalidChannel);
  for (uint32_t cid : {cids[0], cids[2], cids[3], fifth}) {
    h.send(cid, cmd::kPing, pattern(1));
    CHECK(h.take_one().cmd == cmd::kPing);
  }
}

TEST_CASE("the channel that owns a transaction is not evicted") {
  Harness h;
  const uint32_t owner = h.open_channel();
  h.handler.mode = FakeHandler::Mode::kHold;
  h.send(owner, cmd::kCbor, kCborRequest);
  for (int i = 0; i < 10; ++i) h.open_channel();
  CHECK(h.engine->busy());
  CHECK(h.handler.cancels == 0);
  h.handler.answer(Bytes{0x00});
  CHECK(h.take_one().cid == owner);
}

TEST_CASE("reset() aborts everything and forgets all channels") {
  Harness h;
  const uint32_t a = h.open_channel();
  const uint32_t b = h.open_channel();
  h.send(b, cmd::kLock, Bytes{10});
  h.take();
  h.handler.mode = FakeHandler::Mode::kHold;
  h.send(b, cmd::kCbor, kCborRequest);
  h.advance(150ms);
  h.take();

  h.engine->reset();
  CHECK_FALSE(h.engine->busy());
  CHECK(h.handler.cancels == 1);
  h.handler.answer(Bytes{kCtap2KeepaliveCancel});
  h.advance(1s);
  CHECK(h.out.empty());

  h.send(a, cmd::kPing, pattern(1));
  check_error(h.take_one(), a, err::kInvalidChannel);
  const uint32_t c = h.open_channel();  // the lock is gone too
  h.handler.mode = FakeHandler::Mode::kEcho;
  h.send(c, cmd::kPing, pattern(1));
  CHECK(h.take_one().cmd == cmd::kPing);

  SUBCASE("mid-reassembly") {
    h.feed(init_packet(c, cmd::kPing, 100, pattern(57)));
    h.engine->reset();
    CHECK_FALSE(h.engine->busy());
    h.advance(1s);
    CHECK(h.out.empty());
    CHECK(h.timers.empty());
  }
}

TEST_CASE("a reply after the engine is destroyed is harmless") {
  Harness h;
  const uint32_t cid = h.open_channel();
  h.handler.mode = FakeHandler::Mode::kHold;
  h.send(cid, cmd::kCbor, kCborRequest);
  h.engine.reset();
  CHECK(h.handler.cancels == 1);
  CHECK(h.timers.empty());
  h.handler.answer(Bytes{0x00});
  CHECK(h.out.empty());
}

// A handler that answers from a timer, like a key waiting for a touch.
class DelayedHandler final : public ctap::MessageHandler {
 public:
  DelayedHandler(TimerQueue& timers, Duration delay) : timers_(timers), delay_(delay) {}
  void handle_cbor(ByteView request, Reply reply) override {
    timers_.call_after(delay_, [reply = std::move(reply), response = Bytes(request.begin(),
                                                                            request.end())] {
      reply(response);
    });
  }
  void handle_msg(ByteView apdu, Reply reply) override { handle_cbor(apdu, std::move(reply)); }
  void cancel() override {}
  bool waiting_for_user() const override { return true; }
  void wink() override {}
  bool supports_cbor() const override { return true; }
  bool supports_msg() const override { return true; }

 private:
  TimerQueue& timers_;
  Duration delay_;
};

struct LoopbackHarness {
  ManualClock clock;
  TimerQueue timers{clock};
  DelayedHandler handler{timers, 300ms};
  LoopbackDevice device{handler, timers, {}, [this](TimePoint t) {
                          REQUIRE(t > clock.now());
                          clock.set(t);
                        }};

  void write_all(uint32_t cid, uint8_t command, ByteView payload) {
    for (const Report& r : frame(cid, command, payload)) device.write(r);
  }
  Message read_message(Duration timeout) {
    std::optional<Report> first = device.read(timeout);
    REQUIRE(first);
    std::vector<Report> reports{*first};
    const size_t total = get_u16_be(first->data() + 5);
    for (size_t got = kInitPayload; got < total; got += kContPayload) {
      std::optional<Report> next = device.read(timeout);
      REQUIRE(next);
      reports.push_back(*next);
    }
    std::vector<Message> m = parse_output(reports);
    REQUIRE(m.size() == 1);
    return m[0];
  }
};

TEST_CASE("loopback: read() times out when nothing is queued") {
  LoopbackHarness h;
  const TimePoint start = h.clock.now();
  CHECK_FALSE(h.device.read(250ms));
  CHECK(h.clock.now() - start == 250ms);
  CHECK_FALSE(h.device.read(0ms));
  CHECK(h.clock.now() - start == 250ms);
}

TEST_CASE("loopback: read() runs timers and delivers keepalives, then the reply") {
  LoopbackHarness h;
  h.device.write(ByteView(init_packet(kBroadcastCid, cmd::kInit, 8, pattern(8))).first(15));
  const Message init = h.read_message(10ms);
  const uint32_t cid = get_u32_be(init.payload.data() + 8);

  const TimePoint start = h.clock.now();
  const Bytes request = pattern(100);
  h.write_all(cid, cmd::kCbor, request);
  check_keepalive(h.read_message(1s), cid, 2);
  CHECK(h.clock.now() - start == 100ms);
  check_keepalive(h.read_message(1s), cid, 2);
  CHECK(h.clock.now() - start == 200ms);
  const Message reply = h.read_message(1s);
  CHECK(reply.cmd == cmd::kCbor);
  CHECK(reply.payload == request);
  CHECK(h.clock.now() - start == 300ms);
  CHECK(h.device.queued() == 0);
  CHECK_FALSE(h.device.read(1s));
}

TEST_CASE("loopback: longer writes are ignored; the real clock default sleeps") {
  SteadyClock clock;
  TimerQueue timers(clock);
  FakeHandler handler;
  LoopbackDevice device(handler, timers);
  device.write(Bytes(65, 0xff));
  CHECK(device.queued() == 0);
  const TimePoint start = clock.now();
  CHECK_FALSE(device.read(20ms));
  CHECK(clock.now() - start >= 20ms);
}

}  // namespace
}  // namespace vauth::transport
