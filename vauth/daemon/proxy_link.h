// The middle of a proxied key (vauthd --proxy): host reports go up to an
// Upstream unchanged, the key's reports come back down, and the fault and
// trace machinery watches the traffic in between exactly as it watches the
// emulated authenticator.
//
// Reports are forwarded as they are (channel IDs, INIT, PING, WINK, LOCK,
// CANCEL and KEEPALIVE untouched). A CBOR or MSG request is reassembled
// passively per channel (transports/ctaphid_packet.h) and handed, as a whole
// message, through the same decorators an emulated key has —
// TracingHandler → DeviceFaults → FaultHandler → Forwarder — whose last link
// sends the host's original packets up. The key's answer on that channel is
// reassembled, travels back through the decorators (which may hold, rewrite or
// replace it) and is framed to the host on the same channel. So `ctap` faults
// (status, stall, delay, response rewrites), `u2f` and `device` faults, the
// --trace decoding and the control API's events all apply; `ctaphid` faults
// apply after this, in VirtualDevice's CtaphidFaultFilter. See docs/proxy.md.
//
// While a request is held here rather than at the key (a stall keeps it from
// the key, a delay holds the key's answer), the key sends no keepalives, so the
// link sends KEEPALIVE PROCESSING itself every keepalive interval, as the
// engine does for an emulated key; while the key has the request, its own
// keepalives pass through instead.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "transports/ctaphid.h"
#include "transports/ctaphid_packet.h"
#include "transports/upstream.h"
#include "vauth/base/timer_queue.h"
#include "vauth/ctap/auth_data_faults.h"
#include "vauth/ctap/fault_handler.h"
#include "vauth/daemon/device_faults.h"
#include "vauth/daemon/event_bus.h"
#include "vauth/daemon/protocol_trace.h"
#include "vauth/daemon/tracing_handler.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::daemon {

// What the proxied device lends the link: its fault plan, timers, event and
// trace outputs, how to run a device fault, and how to re-arm its timers.
struct ProxyContext {
  faults::FaultPlan& plan;
  TimerQueue& timers;
  const Clock& clock;
  EventBus* events = nullptr;
  size_t index = 1;
  ProtocolTrace* trace = nullptr;
  DeviceFaults::Act act;
  std::function<void()> kick;
};

class ProxyLink {
 public:
  using Send = std::function<void(const transport::Report&)>;

  // `to_host` receives the reports for the host (before the CTAPHID fault filter).
  ProxyLink(std::unique_ptr<transport::Upstream> upstream, ProxyContext context, Send to_host);
  ~ProxyLink();
  ProxyLink(const ProxyLink&) = delete;
  ProxyLink& operator=(const ProxyLink&) = delete;

  // Opens the upstream; throws what it throws (absent, busy, not FIDO, ...).
  void start();
  std::string describe() const { return upstream_->describe(); }

  // One report from the host. Once the upstream has failed (the key was
  // unplugged, its socket closed), every message the host starts is answered
  // CTAPHID_ERROR ERR_OTHER at once, so clients fail fast instead of waiting.
  void on_host_report(ByteView report);
  bool upstream_failed() const { return failed_; }
  // The host went away, or the device power-cycled / was unplugged: partial
  // messages and the request in flight are forgotten (a late answer is dropped).
  void reset();

 private:
  class Forwarder;
  // A message being collected from its packets, and the packets themselves.
  struct Collecting {
    std::vector<transport::Report> packets;
    transport::ctaphid::Reassembly message;
  };
  // The one request travelling through the decorators.
  struct Pending {
    uint64_t generation = 0;
    uint32_t cid = 0;
    uint8_t cmd = 0;
    std::vector<transport::Report> packets;  // the host's, sent up by the Forwarder
    bool forwarded = false;
    bool answered = false;                       // the key's whole answer is back
    ctap::MessageHandler::Reply upstream_reply;  // the Forwarder's: fed the key's answer
    std::optional<Collecting> answer;            // the key's answer being collected
    std::optional<TimerQueue::TimerId> keepalive;
    // Held by the decorators, not at the key: never sent up, or the answer is back.
    bool held() const { return !forwarded || answered; }
  };

  void on_upstream_report(const transport::Report& r);
  void on_request(uint32_t cid, uint8_t cmd, std::vector<transport::Report> packets, Bytes payload);
  void forward(ctap::MessageHandler::Reply reply);  // the Forwarder's handle_*
  void answer_complete(Bytes response);
  void flush(uint32_t cid);  // sends a partial message's packets up as they were
  void drop_pending();
  void end_pending();  // forgets pending_ and stops its keepalives
  void schedule_keepalive(uint64_t generation);
  void refuse(uint32_t cid);  // CTAPHID_ERROR ERR_OTHER on `cid`

  std::unique_ptr<transport::Upstream> upstream_;
  ProxyContext ctx_;
  Send to_host_;
  ctap::AuthDataFaults auth_data_faults_;  // armed by FaultHandler, but a real key signs: unused
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<ctap::FaultHandler> fault_handler_;
  std::unique_ptr<DeviceFaults> device_faults_;
  std::unique_ptr<TracingHandler> tracer_;
  std::map<uint32_t, Collecting> inbound_;  // host requests being reassembled, per channel
  std::optional<Pending> pending_;
  uint64_t generation_ = 0;
  bool failed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vauth::daemon
