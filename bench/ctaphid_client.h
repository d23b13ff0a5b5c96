// The host side of CTAPHID (CTAP 2.1 §11.2) over a ReportPipe: INIT for a
// channel, one message out, one message back (KEEPALIVEs skipped). Reports
// for other channels that arrive meanwhile are kept for them, so several
// channels can share one pipe and each response is checked against its own
// channel (cross-talk shows up as a wrong CID, command or payload).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "bench/report_pipe.h"

namespace vauth::bench {

struct Message {
  uint32_t cid = 0;
  uint8_t cmd = 0;  // without the init bit; transport::ctaphid_cmd::kError for errors
  Bytes payload;
};

class CtaphidClient {
 public:
  explicit CtaphidClient(ReportPipe& pipe) : pipe_(pipe) {}

  // Broadcast INIT; the allocated CID, or nullopt (timeout, nonce mismatch).
  std::optional<uint32_t> open_channel(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends one message (all its reports in one write).
  void send(uint32_t cid, uint8_t cmd, ByteView payload);
  // The next whole message on `cid`, KEEPALIVEs skipped; nullopt on timeout or
  // a broken sequence.
  std::optional<Message> receive(uint32_t cid, std::chrono::milliseconds timeout);
  std::optional<Message> transact(uint32_t cid, uint8_t cmd, ByteView payload,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    send(cid, cmd, payload);
    return receive(cid, timeout);
  }
  // Reports received for channels nobody has read yet (cross-talk, if a test expects none).
  size_t parked() const {
    size_t n = 0;
    for (const auto& [cid, q] : parked_) n += q.size();
    return n;
  }
  void clear_parked() { parked_.clear(); }
  // Reports exchanged so far (both directions).
  uint64_t reports() const { return reports_; }
  ReportPipe& pipe() { return pipe_; }

 private:
  std::optional<Report> next_for(uint32_t cid, std::chrono::steady_clock::time_point deadline);

  ReportPipe& pipe_;
  std::map<uint32_t, std::deque<Report>> parked_;  // reports for channels not being read
  std::vector<Report> framed_;                     // reused: no allocation per message
  uint64_t reports_ = 0;
  uint64_t nonce_ = 0x0123456789abcdefULL;
};

}  // namespace vauth::bench
