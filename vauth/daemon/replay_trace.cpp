#include "vauth/daemon/replay_trace.h"

#include <map>
#include <nlohmann/json.hpp>

#include "transports/ctaphid.h"
#include "transports/ctaphid_packet.h"

namespace vauth::daemon {
namespace {

namespace hid = transport::ctaphid;
using Result = Expected<RecordedSession, std::string>;

Result bad(size_t line, const std::string& why) {
  return unexpected("trace line " + std::to_string(line) + ": " + why);
}

// Messages being reassembled in one direction, per channel.
class Collector {
 public:
  // The finished message, if this packet completed one.
  std::optional<RecordedMessage> add(const transport::Report& r) {
    const hid::Packet p = hid::parse_packet(r);
    if (p.is_init) {
      partial_.erase(p.cid);
      if (p.bcnt > transport::kMaxMessageSize) return std::nullopt;  // not a message anyone could rebuild
      hid::Reassembly m(p.cid, p.cmd, p.bcnt, p.data);
      if (m.complete()) return RecordedMessage{p.cid, p.cmd, m.take_payload()};
      partial_.emplace(p.cid, std::move(m));
      return std::nullopt;
    }
    auto it = partial_.find(p.cid);
    if (it == partial_.end()) return std::nullopt;
    const auto step = it->second.add(p.seq, p.data);
    if (step == hid::Reassembly::Step::kIncomplete) return std::nullopt;
    std::optional<RecordedMessage> done;
    if (step == hid::Reassembly::Step::kComplete) {
      done = RecordedMessage{p.cid, it->second.cmd(), it->second.take_payload()};
    }
    partial_.erase(it);
    return done;
  }

 private:
  std::map<uint32_t, hid::Reassembly> partial_;
};

}  // namespace

Expected<RecordedSession, std::string> parse_recorded_session(std::string_view text, std::optional<size_t> device) {
  RecordedSession session;
  Collector out, in;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return bad(line_no, "not a JSON object");
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string() || *type != "ctaphid") continue;  // decoded lines are for people
    const auto dev = j.find("device"), dir = j.find("dir"), hex = j.find("hex");
    if (dev == j.end() || !dev->is_number_unsigned() || dir == j.end() || !dir->is_string() || hex == j.end() ||
        !hex->is_string()) {
      return bad(line_no, "a ctaphid line needs device, dir and hex");
    }
    const size_t d = dev->get<size_t>();
    if (!device) device = d;
    if (d != *device) continue;
    const std::string direction = dir->get<std::string>();
    if (direction != "out" && direction != "in") return bad(line_no, "dir must be \"out\" or \"in\"");
    const auto bytes = from_hex(hex->get<std::string>());
    if (!bytes || bytes->size() != transport::kReportSize) return bad(line_no, "hex must be one 64-byte report");
    transport::Report r;
    std::copy(bytes->begin(), bytes->end(), r.begin());
    if (direction == "out") {
      if (auto m = out.add(r)) session.exchanges.push_back(RecordedExchange{std::move(*m), {}, line_no});
      continue;
    }
    auto m = in.add(r);
    if (!m || m->cmd == transport::ctaphid_cmd::kKeepalive) continue;
    // The answer belongs to the latest request on its channel (INIT answers come on the broadcast channel).
    for (auto it = session.exchanges.rbegin(); it != session.exchanges.rend(); ++it) {
      if (it->request.cid == m->cid) {
        it->answers.push_back(std::move(*m));
        break;
      }
    }
  }
  session.device = device.value_or(0);
  if (session.exchanges.empty())
    return unexpected(std::string("the trace holds no CTAPHID packets to replay (record with --trace)"));
  return session;
}

}  // namespace vauth::daemon
