#include "vauth/daemon/proxy_link.h"

#include "vauth/daemon/log.h"

namespace vauth::daemon {

namespace hid = transport::ctaphid;
namespace cmd = transport::ctaphid_cmd;
using transport::Report;

// What the engine of an emulated key uses, so a held proxied answer looks the same.
const Duration kKeepaliveInterval = transport::CtaphidConfig{}.keepalive_interval;
// A held request is not waiting for the user: either the key has not seen it
// (stall) or it has already answered (delay), touch included. So PROCESSING,
// never UPNEEDED (CTAP 2.1 §11.2.9.1.7), whatever the key said before.
constexpr uint8_t kStatusProcessing = 1;

// The innermost decorator: where the emulated key would run the command, the
// proxy sends the host's packets up and waits for the key's answer.
class ProxyLink::Forwarder final : public ctap::MessageHandler {
 public:
  explicit Forwarder(ProxyLink& link) : link_(link) {}
  void handle_cbor(ByteView, Reply reply) override { link_.forward(std::move(reply)); }
  void handle_msg(ByteView, Reply reply) override { link_.forward(std::move(reply)); }
  // The host's CANCEL packet itself goes up; the key answers the request.
  void cancel() override {}
  // Only the engine asks (for KEEPALIVE status); the key sends its own keepalives.
  bool waiting_for_user() const override { return false; }
  void wink() override {}
  bool supports_cbor() const override { return true; }
  bool supports_msg() const override { return true; }

 private:
  ProxyLink& link_;
};

ProxyLink::ProxyLink(std::unique_ptr<transport::Upstream> upstream, ProxyContext context, Send to_host)
    : upstream_(std::move(upstream)), ctx_(std::move(context)), to_host_(std::move(to_host)) {
  forwarder_ = std::make_unique<Forwarder>(*this);
  fault_handler_ = std::make_unique<ctap::FaultHandler>(*forwarder_, ctx_.plan, ctx_.timers, auth_data_faults_);
  device_faults_ = std::make_unique<DeviceFaults>(*fault_handler_, ctx_.plan, ctx_.timers, ctx_.act);
  tracer_ = std::make_unique<TracingHandler>(*device_faults_, ctx_.events, ctx_.index, ctx_.clock, ctx_.trace);
}

ProxyLink::~ProxyLink() {
  *alive_ = false;
  end_pending();
  tracer_.reset();  // outer decorators first: each holds a reference to the next
  device_faults_.reset();
  fault_handler_.reset();
}

void ProxyLink::start() {
  std::weak_ptr<bool> alive = alive_;
  upstream_->start(
      [this, alive](const Report& r) {
        if (alive.expired()) return;
        on_upstream_report(r);
        if (ctx_.kick) ctx_.kick();
      },
      [this, alive](const std::string& why) {
        if (alive.expired()) return;
        log_message(LogLevel::Error, "proxy: device " + std::to_string(ctx_.index) + " lost its upstream: " + why +
                                         "; its requests are answered CTAPHID_ERROR from now on");
        failed_ = true;
        inbound_.clear();
        if (pending_) {
          const uint32_t cid = pending_->cid;
          drop_pending();
          refuse(cid);
        }
        if (ctx_.kick) ctx_.kick();
      });
}

void ProxyLink::on_host_report(ByteView bytes) {
  if (bytes.size() != transport::kReportSize) return;
  Report r;
  std::copy(bytes.begin(), bytes.end(), r.begin());
  const hid::Packet p = hid::parse_packet(r);
  if (failed_) {
    if (p.is_init && p.cmd != cmd::kCancel) refuse(p.cid);
    return;
  }
  if (!p.is_init) {
    auto it = inbound_.find(p.cid);
    if (it == inbound_.end()) return upstream_->send(r);  // not ours to follow: the key judges it
    it->second.packets.push_back(r);
    const auto step = it->second.message.add(p.seq, p.data);
    if (step == hid::Reassembly::Step::kBadSequence) return flush(p.cid);  // the key answers INVALID_SEQ
    if (step == hid::Reassembly::Step::kIncomplete) return;
    Collecting done = std::move(it->second);
    inbound_.erase(it);
    return on_request(p.cid, done.message.cmd(), std::move(done.packets), done.message.take_payload());
  }
  flush(p.cid);  // an init packet abandons a message in progress on its channel, at the key too
  if (pending_ && pending_->cid == p.cid && (p.cmd == cmd::kInit || p.cmd == cmd::kCancel)) {
    // CANCEL and a re-INIT go up as they are; the decorators learn of it (a stalled request answers).
    upstream_->send(r);
    if (p.cmd == cmd::kCancel) return tracer_->cancel();
    return drop_pending();
  }
  const bool message = p.cmd == cmd::kCbor || p.cmd == cmd::kMsg;
  if (!message || p.cid == 0 || p.cid == transport::kBroadcastCid || p.bcnt > transport::kMaxMessageSize) {
    return upstream_->send(r);
  }
  Collecting c{{r}, hid::Reassembly(p.cid, p.cmd, p.bcnt, p.data)};
  if (!c.message.complete()) {
    inbound_.emplace(p.cid, std::move(c));
    return;
  }
  on_request(p.cid, p.cmd, std::move(c.packets), c.message.take_payload());
}

void ProxyLink::flush(uint32_t cid) {
  auto it = inbound_.find(cid);
  if (it == inbound_.end()) return;
  for (const Report& r : it->second.packets) upstream_->send(r);
  inbound_.erase(it);
}

void ProxyLink::on_request(uint32_t cid, uint8_t command, std::vector<Report> packets, Bytes payload) {
  if (pending_) {
    // One request at a time goes through the decorators, as in the engine; the
    // key answers a second channel itself (usually CHANNEL_BUSY).
    for (const Report& r : packets) upstream_->send(r);
    return;
  }
  const uint64_t generation = ++generation_;
  // Assigned, not emplace()d: clang 14 decides too early that the nested struct
  // (its member initialisers parsed after ProxyLink) is not default-constructible.
  pending_ = Pending{};
  pending_->generation = generation;
  pending_->cid = cid;
  pending_->cmd = command;
  pending_->packets = std::move(packets);
  auto to_host = [this, generation, cid, command](Bytes response) {
    if (!pending_ || pending_->generation != generation) return;  // abandoned meanwhile
    end_pending();
    hid::frame_message(cid, command, response, to_host_);
  };
  if (command == cmd::kCbor)
    tracer_->handle_cbor(payload, std::move(to_host));
  else
    tracer_->handle_msg(payload, std::move(to_host));
  // An answer given inside the call (a status fault, a local upstream) needs no keepalives.
  if (pending_ && pending_->generation == generation) schedule_keepalive(generation);
  if (ctx_.kick) ctx_.kick();
}

// Ticks for as long as the request is pending; speaks only while it is held
// here. While the key has it, the key's own keepalives reach the host instead.
void ProxyLink::schedule_keepalive(uint64_t generation) {
  pending_->keepalive = ctx_.timers.call_after(kKeepaliveInterval, [this, generation] {
    if (!pending_ || pending_->generation != generation) return;
    pending_->keepalive.reset();
    if (pending_->held()) {
      const uint8_t status = kStatusProcessing;
      hid::frame_message(pending_->cid, cmd::kKeepalive, ByteView(&status, 1), to_host_);
    }
    if (pending_ && pending_->generation == generation) schedule_keepalive(generation);
  });
}

void ProxyLink::forward(ctap::MessageHandler::Reply reply) {
  if (!pending_ || pending_->forwarded) return;
  pending_->forwarded = true;
  pending_->upstream_reply = std::move(reply);
  // A local upstream (replay) may answer inside send(), which ends pending_: send a copy.
  const std::vector<Report> packets = std::move(pending_->packets);
  for (const Report& r : packets) upstream_->send(r);
}

void ProxyLink::on_upstream_report(const Report& r) {
  const hid::Packet p = hid::parse_packet(r);
  if (!pending_ || !pending_->forwarded || !pending_->upstream_reply || p.cid != pending_->cid) return to_host_(r);
  if (p.is_init) {
    if (p.cmd == cmd::kKeepalive) return to_host_(r);
    if (p.cmd != pending_->cmd || p.bcnt > transport::kMaxMessageSize) {
      // An ERROR (or something odd) ends the request at the key: the host gets it as it is.
      drop_pending();
      return to_host_(r);
    }
    pending_->answer.emplace(Collecting{{r}, hid::Reassembly(p.cid, p.cmd, p.bcnt, p.data)});
  } else {
    if (!pending_->answer) return to_host_(r);
    pending_->answer->packets.push_back(r);
    if (pending_->answer->message.add(p.seq, p.data) == hid::Reassembly::Step::kBadSequence) {
      // The key broke its own framing: pass everything on as it came, so the host sees that.
      std::vector<Report> packets = std::move(pending_->answer->packets);
      drop_pending();
      for (const Report& q : packets) to_host_(q);
      return;
    }
  }
  if (pending_->answer->message.complete()) answer_complete(pending_->answer->message.take_payload());
}

void ProxyLink::answer_complete(Bytes response) {
  ctap::MessageHandler::Reply reply = std::move(pending_->upstream_reply);
  pending_->upstream_reply = nullptr;
  pending_->answer.reset();
  pending_->answered = true;   // a delay rule may hold it now: our keepalives take over
  reply(std::move(response));  // through the decorators, then framed to the host
}

void ProxyLink::drop_pending() {
  if (!pending_) return;
  end_pending();
  tracer_->cancel();  // a stalled or delayed answer stays unsent (its generation is gone)
}

void ProxyLink::end_pending() {
  if (!pending_) return;
  if (pending_->keepalive) ctx_.timers.cancel(*pending_->keepalive);
  pending_.reset();
}

void ProxyLink::refuse(uint32_t cid) {
  const uint8_t code = transport::ctaphid_err::kOther;
  hid::frame_message(cid, cmd::kError, ByteView(&code, 1), to_host_);
}

void ProxyLink::reset() {
  inbound_.clear();
  drop_pending();
}

}  // namespace vauth::daemon
