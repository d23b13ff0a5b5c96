#include "transports/ctaphid_faults.h"

#include <algorithm>
#include <cstdio>

#include "transports/ctaphid_packet.h"

namespace vauth::transport {
namespace {

using faults::Action;

size_t continuation_count(size_t bcnt) {
  return bcnt <= kInitPayload ? 0 : (bcnt - kInitPayload + kContPayload - 1) / kContPayload;
}

uint32_t cid_of(const Report& r) { return get_u32_be(r.data()); }
void set_cid(Report& r, uint32_t cid) {
  r[0] = static_cast<uint8_t>(cid >> 24);
  r[1] = static_cast<uint8_t>(cid >> 16);
  r[2] = static_cast<uint8_t>(cid >> 8);
  r[3] = static_cast<uint8_t>(cid);
}
size_t bcnt_of(const Report& init) { return size_t{init[5]} << 8 | init[6]; }
void set_bcnt(Report& init, size_t n) {
  init[5] = static_cast<uint8_t>(n >> 8);
  init[6] = static_cast<uint8_t>(n);
}

// Where payload byte `i` of a message sits: (packet, offset in the report).
std::pair<size_t, size_t> payload_position(size_t i) {
  if (i < kInitPayload) return {0, 7 + i};
  i -= kInitPayload;
  return {1 + i / kContPayload, 5 + i % kContPayload};
}

Report error_packet(uint32_t cid, uint8_t code) {
  Report r{};
  set_cid(r, cid);
  r[4] = ctaphid::kInitBit | ctaphid_cmd::kError;
  set_bcnt(r, 1);
  r[7] = code;
  return r;
}

std::vector<Report> apply(std::vector<Report> m, const std::vector<faults::Fired>& fired) {
  auto value = [&](Action a) -> std::optional<int64_t> { return faults::find(fired, a)->value; };
  auto has = [&](Action a) { return faults::find(fired, a) != nullptr; };
  const uint32_t cid = cid_of(m.front());
  const uint8_t cmd = m.front()[4] & 0x7f;
  if (has(Action::Error)) m = {error_packet(cid, static_cast<uint8_t>(value(Action::Error).value_or(0x7f)))};
  if (has(Action::Truncate)) {
    const size_t bcnt = bcnt_of(m.front());
    const size_t n = std::min<size_t>(static_cast<size_t>(value(Action::Truncate).value_or(bcnt / 2)), bcnt);
    set_bcnt(m.front(), n);
    m.resize(1 + continuation_count(n));
  }
  if (has(Action::Corrupt)) {
    const size_t bcnt = bcnt_of(m.front());
    if (bcnt > 0) {
      const size_t i = std::min<size_t>(static_cast<size_t>(value(Action::Corrupt).value_or(bcnt - 1)), bcnt - 1);
      const auto [packet, offset] = payload_position(i);
      if (packet < m.size()) m[packet][offset] ^= 0xff;
    }
  }
  if (has(Action::WrongSeq) && m.size() > 1) m[1][4] = static_cast<uint8_t>((m[1][4] + 1) & 0x7f);
  if (has(Action::Reorder) && m.size() > 2) std::swap(m[1], m[2]);
  if (has(Action::WrongCid)) {
    for (Report& r : m) set_cid(r, cid ^ 0x01);
  }
  if (has(Action::InitNonce) && cmd == ctaphid_cmd::kInit && bcnt_of(m.front()) >= 8) m.front()[7] ^= 0xff;
  if (has(Action::Duplicate)) {
    const std::vector<Report> once = m;
    for (int64_t n = value(Action::Duplicate).value_or(1); n > 0; --n) m.insert(m.end(), once.begin(), once.end());
  }
  if (has(Action::Drop)) {
    const auto index = value(Action::Drop);
    if (!index) return {};
    if (static_cast<size_t>(*index) < m.size()) m.erase(m.begin() + *index);
  }
  return m;
}

}  // namespace

const char* ctaphid_command_name(uint8_t cmd) {
  switch (cmd) {
    case ctaphid_cmd::kPing: return "ping";
    case ctaphid_cmd::kMsg: return "msg";
    case ctaphid_cmd::kLock: return "lock";
    case ctaphid_cmd::kInit: return "init";
    case ctaphid_cmd::kWink: return "wink";
    case ctaphid_cmd::kCbor: return "cbor";
    case ctaphid_cmd::kCancel: return "cancel";
    case ctaphid_cmd::kKeepalive: return "keepalive";
    case ctaphid_cmd::kError: return "error";
  }
  return "other";
}

CtaphidFaultFilter::CtaphidFaultFilter(faults::FaultPlan& plan, TimerQueue& timers, Send out)
    : plan_(plan), timers_(timers), out_(std::move(out)) {}

CtaphidFaultFilter::~CtaphidFaultFilter() { reset(); }

void CtaphidFaultFilter::send(const Report& report) {
  if (partial_.empty() && held_.empty() && !plan_.has_rules(faults::Layer::Ctaphid)) return out_(report);
  const bool is_init = report[4] & ctaphid::kInitBit;
  if (is_init) {
    // The engine frames whole messages, so a new init packet means the last one is complete.
    if (!partial_.empty()) on_message(std::move(partial_));
    partial_ = {report};
    partial_missing_ = continuation_count(bcnt_of(report));
  } else {
    if (partial_.empty()) return out_(report);  // not ours to regroup
    partial_.push_back(report);
    --partial_missing_;
  }
  if (partial_missing_ == 0) {
    std::vector<Report> m = std::move(partial_);
    partial_.clear();
    on_message(std::move(m));
  }
}

void CtaphidFaultFilter::on_message(std::vector<Report> packets) {
  faults::Call call;
  call.command = ctaphid_command_name(packets.front()[4] & 0x7f);
  call.channel = cid_of(packets.front());
  const std::vector<faults::Fired> fired = plan_.consult(faults::Layer::Ctaphid, call);
  Duration delay{0};
  Duration pace{0};
  for (const faults::Fired& f : fired) {
    if (f.action == Action::Delay) delay += Duration(f.value.value_or(0));
    if (f.action == Action::Pace) pace += Duration(f.value.value_or(0));
  }
  emit(fired.empty() ? std::move(packets) : apply(std::move(packets), fired), delay, pace);
}

void CtaphidFaultFilter::emit(std::vector<Report> packets, Duration delay, Duration pace) {
  if (delay.count() == 0 && pace.count() == 0 && held_.empty()) {
    for (const Report& r : packets) out_(r);
    return;
  }
  // Later messages queue behind a delayed one: delay never reorders messages.
  TimePoint release = timers_.now() + delay;
  if (!held_.empty()) release = std::max(release, held_.back().release);
  if (pace.count() == 0) {
    held_.push_back(Held{release, std::move(packets)});
  } else {
    // Paced: each packet is its own release, `pace` after the previous one.
    for (Report& r : packets) {
      release += pace;
      held_.push_back(Held{release, {std::move(r)}});
    }
  }
  release_due();
}

void CtaphidFaultFilter::release_due() {
  while (!held_.empty() && held_.front().release <= timers_.now()) {
    Held h = std::move(held_.front());
    held_.pop_front();
    for (const Report& r : h.packets) out_(r);
  }
  if (timer_) {
    timers_.cancel(*timer_);
    timer_.reset();
  }
  if (!held_.empty()) {
    timer_ = timers_.call_at(held_.front().release, [this] {
      timer_.reset();
      release_due();
    });
  }
}

void CtaphidFaultFilter::reset() {
  partial_.clear();
  partial_missing_ = 0;
  held_.clear();
  if (timer_) {
    timers_.cancel(*timer_);
    timer_.reset();
  }
}

}  // namespace vauth::transport
