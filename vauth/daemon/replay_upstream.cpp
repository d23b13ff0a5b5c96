#include "vauth/daemon/replay_upstream.h"

#include <boost/asio/post.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "transports/ctaphid_packet.h"
#include "vauth/daemon/log.h"
#include "vauth/daemon/protocol_trace.h"
#include "vauth/daemon/tracing_handler.h"

namespace vauth::daemon {
namespace {

namespace hid = transport::ctaphid;
namespace cmd = transport::ctaphid_cmd;
using transport::Report;

// The first differing byte of two payloads, for the divergence message.
size_t first_difference(ByteView a, ByteView b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

std::string message_text(const RecordedMessage& m) {
  std::string s = ctaphid_command_name(m.cmd) + " of " + std::to_string(m.payload.size()) + " bytes";
  if (m.cmd == cmd::kCbor && !m.payload.empty()) s += " (" + ctap2_command_name(m.payload[0]) + ")";
  return s;
}

class ReplayUpstream final : public transport::Upstream {
 public:
  ReplayUpstream(boost::asio::io_context& io, std::string path, RecordedSession session)
      : io_(io), path_(std::move(path)), session_(std::move(session)) {}
  ~ReplayUpstream() override { *alive_ = false; }

  std::string describe() const override {
    return "replay of " + path_ + " (" + std::to_string(session_.exchanges.size()) + " recorded messages)";
  }

  void start(OnReport on_report, OnFailure) override { on_report_ = std::move(on_report); }

  void send(const Report& r) override {
    const hid::Packet p = hid::parse_packet(r);
    if (p.is_init) {
      partial_.erase(p.cid);
      hid::Reassembly m(p.cid, p.cmd, p.bcnt, p.data);
      if (m.complete()) return on_message(RecordedMessage{p.cid, p.cmd, m.take_payload()});
      partial_.emplace(p.cid, std::move(m));
      return;
    }
    auto it = partial_.find(p.cid);
    if (it == partial_.end()) return;
    const auto step = it->second.add(p.seq, p.data);
    if (step == hid::Reassembly::Step::kIncomplete) return;
    if (step == hid::Reassembly::Step::kComplete) {
      RecordedMessage m{p.cid, it->second.cmd(), it->second.take_payload()};
      partial_.erase(it);
      return on_message(std::move(m));
    }
    partial_.erase(it);
  }

 private:
  void on_message(RecordedMessage got) {
    if (next_ >= session_.exchanges.size()) {
      log_message(LogLevel::Error, "replay: the host sent " + message_text(got) + " after the end of the recording (" +
                                       std::to_string(session_.exchanges.size()) + " messages)");
      return answer({RecordedMessage{got.cid, cmd::kError, Bytes{transport::ctaphid_err::kOther}}});
    }
    const RecordedExchange& want = session_.exchanges[next_];
    const bool init = got.cmd == cmd::kInit && want.request.cmd == cmd::kInit;
    const bool same = got.cmd == want.request.cmd && (init || got.payload == want.request.payload);
    if (!same) {
      std::string why = "replay: message " + std::to_string(next_ + 1) + " differs from the recording (trace line " +
                        std::to_string(want.line) + "): expected " + message_text(want.request) + ", got " +
                        message_text(got);
      if (got.cmd == want.request.cmd) {
        why += "; first difference at byte " + std::to_string(first_difference(got.payload, want.request.payload));
      }
      log_message(LogLevel::Error, why);
      return answer({RecordedMessage{got.cid, cmd::kError, Bytes{transport::ctaphid_err::kOther}}});
    }
    ++next_;
    std::vector<RecordedMessage> answers = want.answers;
    for (RecordedMessage& a : answers) {
      a.cid = got.cid;  // the host's channel, whatever the recording used
      if (init && a.cmd == cmd::kInit && a.payload.size() >= 8 && got.payload.size() >= 8) {
        std::copy_n(got.payload.begin(), 8, a.payload.begin());  // the host's nonce
      }
    }
    answer(std::move(answers));
  }

  // Delivered from the loop, as a real key's answer would be.
  void answer(std::vector<RecordedMessage> messages) {
    std::weak_ptr<bool> alive = alive_;
    boost::asio::post(io_, [this, alive, messages = std::move(messages)] {
      if (alive.expired() || !on_report_) return;
      for (const RecordedMessage& m : messages) hid::frame_message(m.cid, m.cmd, m.payload, on_report_);
    });
  }

  boost::asio::io_context& io_;
  std::string path_;
  RecordedSession session_;
  size_t next_ = 0;
  std::map<uint32_t, hid::Reassembly> partial_;
  OnReport on_report_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

RecordedSession load_recorded_session(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("--replay: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto session = parse_recorded_session(text.str());
  if (!session) throw std::runtime_error("--replay " + path + ": " + session.error());
  return std::move(*session);
}

std::unique_ptr<transport::Upstream> make_replay_upstream(boost::asio::io_context& io, std::string path,
                                                          RecordedSession session) {
  return std::make_unique<ReplayUpstream>(io, std::move(path), std::move(session));
}

}  // namespace vauth::daemon
