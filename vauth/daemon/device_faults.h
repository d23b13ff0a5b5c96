// The device fault layer: a MessageHandler decorator that asks the FaultPlan
// (layer "device", command = the CTAP2 command or U2F instruction name) when a
// request arrives, and makes the whole device misbehave:
//   power-cycle   the request is answered, then the key power-cycles (PIN
//                 token, key agreement, getNextAssertion state gone);
//   reboot        the key reboots mid-transaction: no answer ever comes;
//   unplug[=MS]   the key is pulled out for MS ms (default 1000) mid-transaction:
//                 no answer; a managed device leaves the host for real (see
//                 VirtualDevice::unplug_for), then it is back.
// What "power cycle" and "unplug" do to the device is VirtualDevice's business;
// this layer only decides when.
#pragma once

#include <functional>

#include "vauth/base/timer_queue.h"
#include "vauth/ctap/message_handler.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::daemon {

class DeviceFaults final : public ctap::MessageHandler {
 public:
  // Runs a device action (PowerCycle, Reboot or Unplug with its milliseconds) from the timer queue.
  using Act = std::function<void(faults::Action action, Duration duration)>;

  DeviceFaults(ctap::MessageHandler& inner, faults::FaultPlan& plan, TimerQueue& timers, Act act)
      : inner_(inner), plan_(plan), timers_(timers), act_(std::move(act)) {}
  ~DeviceFaults() override;

  void handle_cbor(ByteView request, Reply reply) override;
  void handle_msg(ByteView apdu, Reply reply) override;
  void cancel() override { inner_.cancel(); }
  bool waiting_for_user() const override { return inner_.waiting_for_user(); }
  void wink() override { inner_.wink(); }
  bool supports_cbor() const override { return inner_.supports_cbor(); }
  bool supports_msg() const override { return inner_.supports_msg(); }

 private:
  // True when a rule took the request over (it is not passed on).
  bool intercept(const std::string& command, Reply& reply);
  // Runs the action from the timer queue: never from inside the engine's call into us.
  void schedule(faults::Action action, Duration duration);

  ctap::MessageHandler& inner_;
  faults::FaultPlan& plan_;
  TimerQueue& timers_;
  Act act_;
  std::vector<TimerQueue::TimerId> timers_pending_;
};

}  // namespace vauth::daemon
