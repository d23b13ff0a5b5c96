#include "bench/ctaphid_client.h"

#include <algorithm>

#include "transports/ctaphid_packet.h"

namespace vauth::bench {

namespace cmd = transport::ctaphid_cmd;
using transport::kBroadcastCid;
using SteadyTime = std::chrono::steady_clock;

void CtaphidClient::send(uint32_t cid, uint8_t command, ByteView payload) {
  framed_.clear();
  transport::ctaphid::frame_message(cid, command, payload, [this](const Report& r) { framed_.push_back(r); });
  reports_ += framed_.size();
  pipe_.write(framed_.data(), framed_.size());
}

std::optional<Report> CtaphidClient::next_for(uint32_t cid, SteadyTime::time_point deadline) {
  if (auto it = parked_.find(cid); it != parked_.end() && !it->second.empty()) {
    Report r = it->second.front();
    it->second.pop_front();
    return r;
  }
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyTime::now());
    std::optional<Report> r = pipe_.read(std::max(left, std::chrono::milliseconds(0)));
    if (!r) return std::nullopt;
    ++reports_;
    const uint32_t got = get_u32_be(r->data());
    if (got == cid) return r;
    parked_[got].push_back(*r);
  }
}

std::optional<Message> CtaphidClient::receive(uint32_t cid, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyTime::now() + timeout;
  for (;;) {
    std::optional<Report> first = next_for(cid, deadline);
    if (!first) return std::nullopt;
    const auto p = transport::ctaphid::parse_packet(*first);
    if (!p.is_init) continue;  // a stray continuation: not the start of a message
    if (p.cmd == cmd::kKeepalive) continue;
    if (p.bcnt > transport::kMaxMessageSize) return std::nullopt;
    Message m{cid, p.cmd, {}};
    if (p.bcnt <= transport::kInitPayload) {
      m.payload.assign(p.data.begin(), p.data.begin() + static_cast<ptrdiff_t>(p.bcnt));
      return m;
    }
    transport::ctaphid::Reassembly whole(cid, p.cmd, p.bcnt, p.data);
    while (!whole.complete()) {
      std::optional<Report> next = next_for(cid, deadline);
      if (!next) return std::nullopt;
      const auto c = transport::ctaphid::parse_packet(*next);
      if (c.is_init) return std::nullopt;  // the device started another message midway
      if (whole.add(c.seq, c.data) == transport::ctaphid::Reassembly::Step::kBadSequence) return std::nullopt;
    }
    m.payload = whole.take_payload();
    return m;
  }
}

std::optional<uint32_t> CtaphidClient::open_channel(std::chrono::milliseconds timeout) {
  Bytes nonce;
  put_u32_be(nonce, static_cast<uint32_t>(nonce_ >> 32));
  put_u32_be(nonce, static_cast<uint32_t>(nonce_));
  nonce_ = nonce_ * 6364136223846793005ULL + 1442695040888963407ULL;
  const auto deadline = SteadyTime::now() + timeout;
  send(kBroadcastCid, cmd::kInit, nonce);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyTime::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<Message> m = receive(kBroadcastCid, left);
    if (!m) return std::nullopt;
    // Another client's INIT answer on the broadcast channel carries another nonce.
    if (m->cmd != cmd::kInit || m->payload.size() < 17 || !std::equal(nonce.begin(), nonce.end(), m->payload.begin())) {
      continue;
    }
    return get_u32_be(m->payload.data() + 8);
  }
}

}  // namespace vauth::bench
