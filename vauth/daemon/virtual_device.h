// One virtual key inside vauthd: its state, RNG, presence policy, the
// authenticator and the CTAPHID engine, offered to backends as a HidEndpoint.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "store/store.h"
#include "transports/ctaphid.h"
#include "transports/hid_endpoint.h"
#include "transports/timer_pump.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/authenticator.h"

namespace vauth::daemon {

struct DeviceSettings {
  ctap::Profile profile;
  transport::HidDeviceInfo hid;
  std::optional<uint64_t> seed;          // deterministic RNG when set
  bool deny_presence = false;
  Duration presence_delay{0};
  std::optional<std::string> preset_pin;
};

class VirtualDevice final : public transport::HidEndpoint {
 public:
  VirtualDevice(boost::asio::io_context& io, const Clock& clock, DeviceSettings settings);
  ~VirtualDevice() override;

  const transport::HidDeviceInfo& info() const override { return hid_; }
  void on_output_report(ByteView report) override;
  void set_input_sink(InputSink sink) override { sink_ = std::move(sink); }
  void on_host_reset() override;

  ctap::Authenticator& authenticator() { return *authenticator_; }

 private:
  transport::HidDeviceInfo hid_;
  TimerQueue timers_;
  transport::TimerPump pump_;
  std::unique_ptr<crypto::Rng> rng_;
  store::MemoryStore store_;
  ctap::ControlledPresence presence_;
  std::unique_ptr<ctap::Authenticator> authenticator_;
  std::unique_ptr<transport::CtaphidEngine> engine_;
  InputSink sink_;
};

}  // namespace vauth::daemon
