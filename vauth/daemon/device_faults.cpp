#include "vauth/daemon/device_faults.h"

#include <memory>

#include "vauth/ctap/command_names.h"

namespace vauth::daemon {

using faults::Action;

DeviceFaults::~DeviceFaults() {
  for (TimerQueue::TimerId id : timers_pending_) timers_.cancel(id);
}

void DeviceFaults::schedule(Action action, Duration duration) {
  auto id = std::make_shared<TimerQueue::TimerId>(0);
  *id = timers_.call_after(Duration(0), [this, id, action, duration] {
    std::erase(timers_pending_, *id);
    act_(action, duration);
  });
  timers_pending_.push_back(*id);
}

bool DeviceFaults::intercept(const std::string& command, Reply& reply) {
  if (!plan_.has_rules(faults::Layer::Device)) return false;
  faults::Call call;
  call.command = command;
  const std::vector<faults::Fired> fired = plan_.consult(faults::Layer::Device, call);
  if (fired.empty()) return false;
  const faults::Fired& f = fired.front();
  if (f.action == Action::PowerCycle) {
    // Answer first, then lose the volatile state.
    reply = [this, reply = std::move(reply)](Bytes response) {
      reply(std::move(response));
      schedule(Action::PowerCycle, Duration(0));
    };
    return false;
  }
  // Reboot / unplug: the request dies with the device; its reply is never sent.
  schedule(f.action, Duration(f.value.value_or(1000)));
  return true;
}

void DeviceFaults::handle_cbor(ByteView request, Reply reply) {
  if (intercept(request.empty() ? "(empty)" : ctap::command_name(request[0]), reply)) return;
  inner_.handle_cbor(request, std::move(reply));
}

void DeviceFaults::handle_msg(ByteView apdu, Reply reply) {
  if (intercept(ctap::u2f_instruction_name(apdu), reply)) return;
  inner_.handle_msg(apdu, std::move(reply));
}

}  // namespace vauth::daemon
