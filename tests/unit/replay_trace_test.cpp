// Reading a --trace file back as a session to replay: packets reassembled per
// direction and channel, answers attached to their request, keepalives and
// decoded lines skipped, other devices ignored, bad lines named.
#include "vauth/daemon/replay_trace.h"

#include <doctest/doctest.h>

#include <sstream>

#include "transports/ctaphid.h"
#include "transports/ctaphid_packet.h"

using namespace vauth;
using namespace vauth::transport;
using vauth::daemon::parse_recorded_session;

namespace {

// The packet lines ProtocolTrace writes for one message.
std::string lines(size_t device, bool out, uint32_t cid, uint8_t cmd, const Bytes& payload) {
  std::ostringstream s;
  ctaphid::frame_message(cid, cmd, payload, [&](const Report& r) {
    s << R"({"type":"ctaphid","device":)" << device << R"(,"dir":")" << (out ? "out" : "in") << R"(","hex":")"
      << to_hex(r) << R"(","time":1.5})"
      << "\n";
  });
  return s.str();
}

}  // namespace

TEST_CASE("a session: INIT, a long CBOR request with keepalives, answers on the right channel") {
  Bytes nonce(8, 0x11), init_answer(17, 0x22);
  Bytes big(200, 0x33);
  std::string t = lines(1, true, kBroadcastCid, ctaphid_cmd::kInit, nonce) +
                  lines(1, false, kBroadcastCid, ctaphid_cmd::kInit, init_answer) +
                  R"({"type":"ctap.request","device":1,"command":"makeCredential"})"
                  "\n" +
                  lines(1, true, 7, ctaphid_cmd::kCbor, big) +
                  lines(2, true, 9, ctaphid_cmd::kPing, Bytes{1}) +  // another device: ignored
                  lines(1, false, 7, ctaphid_cmd::kKeepalive, Bytes{2}) +
                  lines(1, false, 7, ctaphid_cmd::kCbor, Bytes{0x00, 0xa0}) + "\n";
  auto s = parse_recorded_session(t);
  REQUIRE(s);
  CHECK(s->device == 1);
  REQUIRE(s->exchanges.size() == 2);
  CHECK(s->exchanges[0].request.cmd == ctaphid_cmd::kInit);
  CHECK(s->exchanges[0].request.payload == nonce);
  REQUIRE(s->exchanges[0].answers.size() == 1);
  CHECK(s->exchanges[0].answers[0].payload == init_answer);
  CHECK(s->exchanges[1].request.cid == 7);
  CHECK(s->exchanges[1].request.payload == big);
  REQUIRE(s->exchanges[1].answers.size() == 1);  // the keepalive is not an answer to replay
  CHECK(s->exchanges[1].answers[0].payload == Bytes{0x00, 0xa0});
  CHECK(s->exchanges[1].line == 7);  // its last packet: init + 3 continuations on lines 4 to 7
}

TEST_CASE("choosing another device of the trace") {
  std::string t = lines(1, true, 5, ctaphid_cmd::kPing, Bytes{1}) + lines(2, true, 6, ctaphid_cmd::kPing, Bytes{2});
  auto s = parse_recorded_session(t, 2);
  REQUIRE(s);
  REQUIRE(s->exchanges.size() == 1);
  CHECK(s->exchanges[0].request.payload == Bytes{2});
}

TEST_CASE("bad traces are refused with the line") {
  auto e = parse_recorded_session("{\"type\":\"ctaphid\"\n");
  REQUIRE_FALSE(e);
  CHECK(e.error() == "trace line 1: not a JSON object");
  e = parse_recorded_session(lines(1, true, 5, ctaphid_cmd::kPing, Bytes{1}) +
                             R"({"type":"ctaphid","device":1,"dir":"out","hex":"0011"})");
  REQUIRE_FALSE(e);
  CHECK(e.error() == "trace line 2: hex must be one 64-byte report");
  e = parse_recorded_session(R"({"type":"ctaphid","device":1,"dir":"up","hex":"00"})");
  REQUIRE_FALSE(e);
  CHECK(e.error() == "trace line 1: dir must be \"out\" or \"in\"");
  e = parse_recorded_session(R"({"type":"ctap.request","device":1})");
  REQUIRE_FALSE(e);
  CHECK(e.error() == "the trace holds no CTAPHID packets to replay (record with --trace)");
}
