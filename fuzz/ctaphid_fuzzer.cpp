// Feeds arbitrary report streams to the CTAPHID engine on virtual time.
//
// Input: a sequence of 65-byte records, each one control byte followed by one
// 64-byte report (a trailing partial record is fed as a short report, which the
// engine must ignore). The control byte moves a ManualClock forward by
// (control & 0x7f) * 8 ms before the report, running due timers (keepalives,
// continuation timeouts, late handler replies); 0xff calls reset() instead.
//
// The handler echoes CBOR/MSG requests, synchronously or from a timer depending
// on the request's first byte, and sometimes replies from within cancel(), so
// every reply path of the engine is reachable.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "transports/ctaphid.h"
#include "vauth/base/clock.h"
#include "vauth/base/timer_queue.h"

namespace {

using namespace vauth;
using namespace vauth::transport;

constexpr size_t kRecordSize = 1 + kReportSize;
constexpr uint8_t kResetControl = 0xff;

class EchoHandler final : public ctap::MessageHandler {
 public:
  explicit EchoHandler(TimerQueue& timers) : timers_(timers) {}

  void handle_cbor(ByteView request, Reply reply) override { respond(request, std::move(reply)); }
  void handle_msg(ByteView apdu, Reply reply) override { respond(apdu, std::move(reply)); }
  void cancel() override {
    // Odd-length held requests answer at once, the others later from their timer.
    if (held_ && held_->request_size % 2 == 1) answer(held_, Bytes{0x2d});
  }
  bool waiting_for_user() const override { return held_ && held_->request_size % 3 == 0; }
  void wink() override {}
  bool supports_cbor() const override { return true; }
  bool supports_msg() const override { return true; }

 private:
  // A delayed request; answered exactly once, by cancel() or by its timer.
  struct Held {
    Reply reply;
    size_t request_size = 0;
    bool answered = false;
  };

  static void answer(const std::shared_ptr<Held>& held, Bytes response) {
    if (held->answered) return;
    held->answered = true;
    held->reply(std::move(response));
  }

  void respond(ByteView request, Reply reply) {
    const uint8_t first = request.empty() ? 0 : request[0];
    Bytes response(request.begin(), request.end());
    if (first < 0x80) {
      reply(std::move(response));
      return;
    }
    held_ = std::make_shared<Held>(Held{std::move(reply), request.size()});
    timers_.call_after(Duration(first - 0x80) * 10,
                       [held = held_, response] { answer(held, response); });
  }

  TimerQueue& timers_;
  std::shared_ptr<Held> held_;
};

void check_report(const Report& r) {
  // Every output report is a whole 64-byte report by type; its framing must be
  // sane: an init packet never announces more than the maximum message.
  if (r[4] & 0x80) {
    const size_t bcnt = get_u16_be(r.data() + 5);
    if (bcnt > kMaxMessageSize) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ManualClock clock;
  TimerQueue timers(clock);
  EchoHandler handler(timers);
  CtaphidConfig config;
  config.max_channels = 4;  // small, so eviction is exercised
  CtaphidEngine engine(handler, timers, check_report, config);

  const ByteView input(data, size);
  for (size_t offset = 0; offset < input.size(); offset += kRecordSize) {
    const ByteView record = input.subspan(offset, std::min(kRecordSize, input.size() - offset));
    const uint8_t control = record[0];
    if (control == kResetControl) {
      engine.reset();
    } else {
      clock.advance(Duration((control & 0x7f) * 8));
      timers.run_due();
    }
    engine.on_report(record.subspan(1));
  }
  // Let everything in flight finish: timeouts, keepalives, late replies. The
  // engine must go quiet (keepalives stop once the last reply arrived).
  for (int i = 0; i < 1000 && !timers.empty(); ++i) {
    clock.advance(Duration(100));
    timers.run_due();
  }
  if (!timers.empty() || engine.busy()) std::abort();
  return 0;
}
