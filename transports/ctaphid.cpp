#include "transports/ctaphid.h"

#include <algorithm>
#include <list>
#include <optional>
#include <unordered_map>

#include "transports/ctaphid_packet.h"

namespace vauth::transport {
namespace {

using ctaphid::Packet;
using ctaphid::Reassembly;
using TimerId = TimerQueue::TimerId;

constexpr TimerId kNoTimer = 0;  // TimerQueue ids start at 1
constexpr uint8_t kProtocolVersion = 2;
constexpr size_t kNonceSize = 8;
constexpr uint8_t kMaxLockSeconds = 10;
constexpr uint8_t kKeepaliveProcessing = 1, kKeepaliveUpNeeded = 2;
constexpr uint8_t kCapWink = 0x01, kCapCbor = 0x04, kCapNoMsg = 0x08;
// How often INIT asks the CidSource for a fresh CID before giving up.
constexpr int kCidAttempts = 16;

bool valid_allocated_cid(uint32_t cid) { return cid != 0 && cid != kBroadcastCid; }

// The CIDs handed out by INIT, most recently used first. Bounded: adding beyond
// the capacity forgets the least recently used channel.
class ChannelTable {
 public:
  explicit ChannelTable(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

  bool contains(uint32_t cid) const { return index_.contains(cid); }
  size_t size() const { return order_.size(); }

  void touch(uint32_t cid) {
    auto it = index_.find(cid);
    if (it != index_.end()) order_.splice(order_.begin(), order_, it->second);
  }

  // Adds `cid` as the most recent channel. Returns the channel forgotten to make
  // room, preferring one for which `in_use` is false.
  template <typename InUse>
  std::optional<uint32_t> add(uint32_t cid, InUse in_use) {
    order_.push_front(cid);
    index_[cid] = order_.begin();
    if (order_.size() <= capacity_) return std::nullopt;
    auto victim = std::prev(order_.end());
    for (auto it = victim; it != order_.begin(); --it) {
      if (!in_use(*it)) {
        victim = it;
        break;
      }
    }
    const uint32_t evicted = *victim;
    index_.erase(evicted);
    order_.erase(victim);
    return evicted;
  }

  void clear() {
    order_.clear();
    index_.clear();
  }

 private:
  size_t capacity_;
  std::list<uint32_t> order_;
  std::unordered_map<uint32_t, std::list<uint32_t>::iterator> index_;
};

}  // namespace

struct CtaphidEngine::Impl {
  // A CBOR/MSG request handed to the handler whose reply has not arrived yet.
  struct Pending {
    uint32_t cid;
    uint8_t cmd;
    uint64_t generation;
    TimerId keepalive = kNoTimer;
  };
  struct Lock {
    uint32_t cid;
    TimePoint until;
  };

  Impl(ctap::MessageHandler& h, TimerQueue& t, Send s, CtaphidConfig c, CidSource source)
      : handler(h),
        timers(t),
        send(std::move(s)),
        config(c),
        next_cid(source ? std::move(source) : counting_cids()),
        channels(c.max_channels) {}

  ~Impl() {
    // The handler may hold our Reply past this point; abort_transaction() bumps the
    // generation and `alive` expiring makes any later reply a no-op.
    abort_transaction();
  }

  static CidSource counting_cids() {
    return [n = uint32_t{0}]() mutable {
      if (++n == kBroadcastCid) n = 1;
      return n;
    };
  }

  // ---- input ------------------------------------------------------------

  void on_report(ByteView report) {
    if (report.size() != kReportSize) return;
    const Packet p = ctaphid::parse_packet(report.first<kReportSize>());
    if (p.is_init) {
      on_init_packet(p);
    } else {
      on_continuation(p);
    }
  }

  void on_init_packet(const Packet& p) {
    if (p.cid == kBroadcastCid) return on_broadcast(p);
    if (!channels.contains(p.cid)) return send_error(p.cid, ctaphid_err::kInvalidChannel);
    channels.touch(p.cid);
    switch (p.cmd) {
      case ctaphid_cmd::kInit:
        return resync(p);
      case ctaphid_cmd::kCancel:
        return on_cancel(p.cid);
      default:
        return on_request_start(p);
    }
  }

  // The broadcast CID exists only to obtain a channel.
  void on_broadcast(const Packet& p) {
    if (p.cmd != ctaphid_cmd::kInit) return send_error(p.cid, ctaphid_err::kInvalidChannel);
    if (p.bcnt != kNonceSize) return send_error(p.cid, ctaphid_err::kInvalidLen);
    const std::optional<uint32_t> cid = allocate_cid();
    if (!cid) return send_error(p.cid, ctaphid_err::kOther);
    send_init_response(kBroadcastCid, *cid, p.data.first(kNonceSize));
  }

  // INIT on an allocated channel (§11.2.9.1.3): drop whatever that channel was
  // doing — a partial message, or a request at the handler — and answer at once.
  // This also applies mid-reassembly: INIT is how a confused client recovers, so
  // it is not treated as an "unexpected init packet" (see on_request_start).
  // A malformed INIT (wrong length) is only an error: it changes nothing.
  void resync(const Packet& p) {
    if (p.bcnt != kNonceSize) return send_error(p.cid, ctaphid_err::kInvalidLen);
    if (owns_transaction(p.cid)) abort_transaction();
    send_init_response(p.cid, p.cid, p.data.first(kNonceSize));
  }

  // CANCEL is never answered. Only the channel that owns the request at the
  // handler may cancel it; the handler's (cancelled) reply is sent as usual.
  // During reassembly nothing is at the handler yet, so it is ignored too (the
  // message continues; an abandoned one ends in MSG_TIMEOUT).
  void on_cancel(uint32_t cid) {
    if (pending && pending->cid == cid) handler.cancel();
  }

  void on_request_start(const Packet& p) {
    if (assembling && assembling->cid() == p.cid) {
      // A new init packet before the previous message on this channel was
      // complete. The spec calls any such deviation a sequence error: abort the
      // partial message, answer ERR_INVALID_SEQ, and drop the new packet too:
      // the client gets one clear error for its confused state and starts over
      // (guessing which of the two messages it meant would be worse).
      abort_transaction();
      return send_error(p.cid, ctaphid_err::kInvalidSeq);
    }
    // One transaction at a time device-wide; a request on the owning channel
    // while its previous one is still at the handler is refused as well.
    if (assembling || pending || locked_against(p.cid)) {
      return send_error(p.cid, ctaphid_err::kChannelBusy);
    }
    if (!supported(p.cmd)) return send_error(p.cid, ctaphid_err::kInvalidCmd);
    if (p.bcnt > kMaxMessageSize) return send_error(p.cid, ctaphid_err::kInvalidLen);
    if (p.bcnt <= kInitPayload) return dispatch(p.cid, p.cmd, p.data.first(p.bcnt));
    assembling.emplace(p.cid, p.cmd, p.bcnt, p.data);
    arm_continuation_timeout();
  }

  // Continuations that belong to no message in progress are noise from an
  // aborted or foreign transfer: ignored without an answer.
  void on_continuation(const Packet& p) {
    if (!assembling || assembling->cid() != p.cid) return;
    channels.touch(p.cid);
    switch (assembling->add(p.seq, p.data)) {
      case Reassembly::Step::kBadSequence:
        abort_transaction();
        return send_error(p.cid, ctaphid_err::kInvalidSeq);
      case Reassembly::Step::kIncomplete:
        return arm_continuation_timeout();
      case Reassembly::Step::kComplete:
        break;
    }
    cancel_timer(continuation_timer);
    Reassembly done = std::move(*assembling);
    assembling.reset();
    const Bytes payload = done.take_payload();
    dispatch(done.cid(), done.cmd(), payload);
  }

  // ---- commands ---------------------------------------------------------

  bool supported(uint8_t cmd) const {
    switch (cmd) {
      case ctaphid_cmd::kPing:
      case ctaphid_cmd::kLock:
      case ctaphid_cmd::kWink:
        return true;
      case ctaphid_cmd::kMsg:
        return handler.supports_msg();
      case ctaphid_cmd::kCbor:
        return handler.supports_cbor();
      default:
        return false;
    }
  }

  // A complete message from an allocated channel that may run now.
  void dispatch(uint32_t cid, uint8_t cmd, ByteView payload) {
    switch (cmd) {
      case ctaphid_cmd::kPing:
        return send_message(cid, cmd, payload);
      case ctaphid_cmd::kWink:
        return wink(cid, payload);
      case ctaphid_cmd::kLock:
        return lock(cid, payload);
      case ctaphid_cmd::kCbor:
        if (payload.empty()) return send_error(cid, ctaphid_err::kInvalidLen);
        return start_request(cid, cmd, payload);
      case ctaphid_cmd::kMsg:
        return start_request(cid, cmd, payload);
      default:
        return send_error(cid, ctaphid_err::kInvalidCmd);
    }
  }

  void wink(uint32_t cid, ByteView payload) {
    if (!payload.empty()) return send_error(cid, ctaphid_err::kInvalidLen);
    handler.wink();
    send_message(cid, ctaphid_cmd::kWink, {});
  }

  void lock(uint32_t cid, ByteView payload) {
    if (payload.size() != 1) return send_error(cid, ctaphid_err::kInvalidLen);
    const uint8_t seconds = payload[0];
    if (seconds > kMaxLockSeconds) return send_error(cid, ctaphid_err::kInvalidPar);
    if (seconds == 0) {
      active_lock.reset();
    } else {
      active_lock = Lock{cid, timers.now() + std::chrono::seconds(seconds)};
    }
    send_message(cid, ctaphid_cmd::kLock, {});
  }

  bool locked_against(uint32_t cid) {
    // Expiry is checked lazily: nothing needs to happen at the moment it lapses.
    if (active_lock && timers.now() >= active_lock->until) active_lock.reset();
    return active_lock && active_lock->cid != cid;
  }

  // ---- requests at the handler ------------------------------------------

  void start_request(uint32_t cid, uint8_t cmd, ByteView payload) {
    const uint64_t generation = ++current_generation;
    pending = Pending{cid, cmd, generation};
    ctap::MessageHandler::Reply reply = make_reply(generation);
    if (cmd == ctaphid_cmd::kCbor) {
      handler.handle_cbor(payload, std::move(reply));
    } else {
      handler.handle_msg(payload, std::move(reply));
    }
    // A reply that arrived inside the call needs no keepalives.
    if (is_pending(generation)) pending->keepalive = schedule_keepalive(generation);
  }

  // The Reply outlives neither this transaction (generation) nor the engine
  // (`alive`): a late reply for either is silently dropped.
  ctap::MessageHandler::Reply make_reply(uint64_t generation) {
    return [weak = std::weak_ptr<Impl*>(alive), generation](Bytes response) {
      if (auto self = weak.lock()) (*self)->on_reply(generation, response);
    };
  }

  void on_reply(uint64_t generation, const Bytes& response) {
    if (!is_pending(generation)) return;
    const Pending done = *pending;
    pending.reset();
    cancel_timer_id(done.keepalive);
    send_message(done.cid, done.cmd, response);
  }

  bool is_pending(uint64_t generation) const {
    return pending && pending->generation == generation;
  }

  TimerId schedule_keepalive(uint64_t generation) {
    return timers.call_after(config.keepalive_interval, [this, generation] {
      if (!is_pending(generation)) return;
      pending->keepalive = kNoTimer;
      const uint8_t status = handler.waiting_for_user() ? kKeepaliveUpNeeded : kKeepaliveProcessing;
      const uint8_t payload[] = {status};
      send_message(pending->cid, ctaphid_cmd::kKeepalive, payload);
      if (is_pending(generation)) pending->keepalive = schedule_keepalive(generation);
    });
  }

  // ---- transaction lifetime ---------------------------------------------

  bool owns_transaction(uint32_t cid) const {
    return (assembling && assembling->cid() == cid) || (pending && pending->cid == cid);
  }

  // Forgets the partial message and/or the request at the handler. The
  // generation moves on *before* handler.cancel(), so a reply the handler makes
  // from inside cancel() is already stale and dropped.
  void abort_transaction() {
    assembling.reset();
    cancel_timer(continuation_timer);
    if (!pending) return;
    cancel_timer_id(pending->keepalive);
    pending.reset();
    ++current_generation;
    handler.cancel();
  }

  void arm_continuation_timeout() {
    cancel_timer(continuation_timer);
    continuation_timer = timers.call_after(config.continuation_timeout, [this] {
      continuation_timer = kNoTimer;
      if (!assembling) return;
      const uint32_t cid = assembling->cid();
      assembling.reset();
      send_error(cid, ctaphid_err::kMsgTimeout);
    });
  }

  void cancel_timer(TimerId& id) {
    cancel_timer_id(id);
    id = kNoTimer;
  }
  void cancel_timer_id(TimerId id) {
    if (id != kNoTimer) timers.cancel(id);
  }

  // ---- channels -----------------------------------------------------------

  std::optional<uint32_t> allocate_cid() {
    for (int attempt = 0; attempt < kCidAttempts; ++attempt) {
      const uint32_t cid = next_cid();
      if (!valid_allocated_cid(cid) || channels.contains(cid)) continue;
      const auto in_use = [this](uint32_t c) {
        return owns_transaction(c) || (active_lock && active_lock->cid == c);
      };
      if (const std::optional<uint32_t> evicted = channels.add(cid, in_use)) forget(*evicted);
      return cid;
    }
    return std::nullopt;
  }

  // A forgotten channel can own nothing: only reached when every remembered
  // channel was busy or locked (a tiny max_channels).
  void forget(uint32_t cid) {
    if (owns_transaction(cid)) abort_transaction();
    if (active_lock && active_lock->cid == cid) active_lock.reset();
  }

  void reset() {
    abort_transaction();
    active_lock.reset();
    channels.clear();
  }

  // ---- output -------------------------------------------------------------

  void send_init_response(uint32_t reply_cid, uint32_t channel, ByteView nonce) {
    Bytes payload(nonce.begin(), nonce.end());
    put_u32_be(payload, channel);
    uint8_t caps = kCapWink;
    if (handler.supports_cbor()) caps |= kCapCbor;
    if (!handler.supports_msg()) caps |= kCapNoMsg;
    append(payload, Bytes{kProtocolVersion, config.device_major, config.device_minor,
                          config.device_build, caps});
    send_message(reply_cid, ctaphid_cmd::kInit, payload);
  }

  void send_error(uint32_t cid, uint8_t code) {
    const uint8_t payload[] = {code};
    send_message(cid, ctaphid_cmd::kError, payload);
  }

  void send_message(uint32_t cid, uint8_t cmd, ByteView payload) {
    // Only a handler bug can produce an oversized response; it cannot be framed.
    if (payload.size() > kMaxMessageSize) return send_error(cid, ctaphid_err::kOther);
    ctaphid::frame_message(cid, cmd, payload, send);
  }

  ctap::MessageHandler& handler;
  TimerQueue& timers;
  Send send;
  CtaphidConfig config;
  CidSource next_cid;
  ChannelTable channels;

  std::optional<Reassembly> assembling;
  TimerId continuation_timer = kNoTimer;
  std::optional<Pending> pending;
  uint64_t current_generation = 0;
  std::optional<Lock> active_lock;
  // Replies hold a weak reference, so one arriving after destruction is a no-op.
  std::shared_ptr<Impl*> alive = std::make_shared<Impl*>(this);
};

CtaphidEngine::CtaphidEngine(ctap::MessageHandler& handler, TimerQueue& timers, Send send,
                             CtaphidConfig config, CidSource next_cid)
    : impl_(std::make_unique<Impl>(handler, timers, std::move(send), config,
                                   std::move(next_cid))) {}

CtaphidEngine::~CtaphidEngine() = default;

void CtaphidEngine::on_report(ByteView report) { impl_->on_report(report); }

void CtaphidEngine::reset() { impl_->reset(); }

bool CtaphidEngine::busy() const { return impl_->assembling || impl_->pending; }

}  // namespace vauth::transport
