// One virtual key inside vauthd: its state, RNG, presence policy, the
// authenticator and the CTAPHID engine, offered to backends as a HidEndpoint.
// Requests travel engine → TracingHandler → Authenticator, and the
// authenticator asks PresenceTracer → ControlledPresence, so the control API
// can watch both and answer presence prompts.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "store/fault_store.h"
#include "store/journal_store.h"
#include "store/store.h"
#include "transports/ctaphid.h"
#include "transports/ctaphid_faults.h"
#include "transports/hid_endpoint.h"
#include "transports/timer_pump.h"
#include "transports/upstream_spec.h"
#include "vauth/crypto/rng.h"
#include "vauth/ctap/authenticator.h"
#include "vauth/ctap/fault_handler.h"
#include "vauth/ctap/fault_presence.h"
#include "vauth/ctap/user_verifier.h"
#include "vauth/daemon/device_faults.h"
#include "vauth/daemon/event_bus.h"
#include "vauth/daemon/presence_tracer.h"
#include "vauth/daemon/protocol_trace.h"
#include "vauth/daemon/proxy_link.h"
#include "vauth/daemon/tracing_handler.h"

namespace vauth::daemon {

// How the device answers "touch the key": mode plus its delay (auto/deny) and
// timeout (manual; 0 = wait forever).
struct PresenceSettings {
  ctap::ControlledPresence::Mode mode = ctap::ControlledPresence::Mode::Approve;
  Duration delay{0};
  Duration timeout{30'000};
};

// The simulated fingerprint sensor: its mode and, in manual mode, how long a
// reading waits for the control API (0 = forever).
struct UvSettings {
  ctap::ControlledUserVerifier::Mode mode = ctap::ControlledUserVerifier::Mode::Match;
  Duration timeout{30'000};
};

// Where a device keeps its state (see docs/store.md).
struct StoreSettings {
  enum class Kind { Durable, Batched, Ephemeral } kind = Kind::Durable;
  std::filesystem::path dir;               // the device's own directory (journal, lock)
  std::optional<std::string> passphrase;   // seal the journal at rest
};

struct DeviceSettings {
  size_t index = 1;                      // 1-based, as the control API and readiness lines count
  ctap::Profile profile;
  transport::HidDeviceInfo hid;
  std::optional<uint64_t> seed;          // deterministic RNG when set
  StoreSettings store;
  PresenceSettings presence;
  std::optional<std::string> preset_pin;
  // A device document (provisioning_json.h) the key starts as while it is unused.
  std::optional<std::filesystem::path> import_file;
  UvSettings uv;
  size_t preset_fingerprints = 0;        // enrolled at start when the state has none
  std::vector<faults::Rule> faults;      // the fault plan to start with (--fault)
  EventBus* events = nullptr;            // where requests and prompts are reported (optional)
  ProtocolTrace* trace = nullptr;        // --trace/--pcap: every report and message (optional)
  // --proxy: forward every report to this upstream instead of the emulated
  // authenticator, with the same faults and trace in between (docs/proxy.md).
  std::optional<transport::UpstreamSpec> proxy;
};

// Where the device is plugged in, for humans and the control API.
struct DeviceLocation {
  std::string transport;  // "uhid", "usbip", "" before it is plugged in
  std::string where;      // USB/IP bus ID ("1-1") or "uhid"
  std::string detail;     // e.g. "127.0.0.1:3240"
  bool ready = false;
};

class VirtualDevice final : public transport::HidEndpoint {
 public:
  VirtualDevice(boost::asio::io_context& io, const Clock& clock, DeviceSettings settings);
  ~VirtualDevice() override;

  const transport::HidDeviceInfo& info() const override { return hid_; }
  void on_output_report(ByteView report) override;
  void set_input_sink(InputSink sink) override;
  void on_host_reset() override;

  size_t index() const { return index_; }
  ctap::Authenticator& authenticator() { return *authenticator_; }
  const ctap::Authenticator& authenticator() const { return *authenticator_; }
  store::Store& store() { return *store_; }
  const store::State& state() const { return store_->state(); }
  crypto::Rng& rng() { return *rng_; }
  PresenceTracer& presence() { return presence_tracer_; }
  const PresenceTracer& presence() const { return presence_tracer_; }
  const PresenceSettings& presence_settings() const { return presence_settings_; }
  void set_presence(const PresenceSettings& s);
  ctap::ControlledUserVerifier& user_verifier() { return uv_; }
  const ctap::ControlledUserVerifier& user_verifier() const { return uv_; }
  const UvSettings& uv_settings() const { return uv_settings_; }
  void set_uv(const UvSettings& s);
  TimePoint now() const { return timers_.now(); }

  // Unplug and re-plug without the host noticing a new device: transactions
  // aborted, channels forgotten, volatile authenticator state (PIN token, ...) new.
  void power_cycle();
  // The device vanishes for `how_long`, transactions aborted, then it is back
  // with fresh volatile state. With a Hotplug (the device manager sets one) it
  // really leaves the host: UHID destroys the kernel device, USB/IP drops the
  // session and the devlist entry. Without one (a device nobody manages) it is
  // a "soft" unplug: the backend's device node stays, no reports either way.
  void unplug_for(Duration how_long);
  // How a managed device leaves the host and comes back: the backend's unplug()
  // and plug(). Both run from the io_context, never inside a report's handling.
  struct Hotplug {
    std::function<void()> unplug;
    std::function<void()> plug;
  };
  void set_hotplug(Hotplug h) { hotplug_ = std::move(h); }

  // The device's fault plan (docs/faults.md): every layer's hook asks it.
  faults::FaultPlan& faults() { return plan_; }
  const faults::FaultPlan& faults() const { return plan_; }
  // Call after changing anything from outside a report (the control API):
  // runs due timers and re-arms the loop's timer.
  void kick() { pump_.kick(); }

  const DeviceLocation& location() const { return location_; }
  void set_location(DeviceLocation l) { location_ = std::move(l); }
  bool attached() const { return static_cast<bool>(sink_); }
  // The upstream a proxied key forwards to ("udp 127.0.0.1:8111", ...); nullptr when emulated.
  const ProxyLink* proxy() const { return proxy_.get(); }
  // The --proxy spec in its canonical text ("usb:1050:0407:SERIAL"); empty when emulated.
  const std::string& proxy_upstream() const { return proxy_upstream_; }

 private:
  void schedule_sync();

  size_t index_;
  EventBus* events_;
  ProtocolTrace* trace_;  // null unless --trace/--pcap: then every report is written
  transport::HidDeviceInfo hid_;
  TimerQueue timers_;
  faults::FaultPlan plan_;  // before every layer that holds a reference to it
  transport::TimerPump pump_;
  std::unique_ptr<crypto::Rng> rng_;
  std::unique_ptr<store::Store> store_;
  store::JournalStore* journal_ = nullptr;  // store_ when it is a journal
  std::optional<TimerQueue::TimerId> sync_timer_;
  ctap::ControlledPresence presence_;
  PresenceTracer presence_tracer_;
  PresenceSettings presence_settings_;
  ctap::ControlledUserVerifier uv_;
  UvSettings uv_settings_;
  // The fault layers around the authenticator (each a pass-through without rules).
  store::FaultStore fault_store_;
  ctap::FaultPresence fault_presence_;
  ctap::AuthDataFaults auth_data_faults_;
  std::unique_ptr<ctap::Authenticator> authenticator_;
  std::unique_ptr<ctap::FaultHandler> fault_handler_;
  std::unique_ptr<DeviceFaults> device_faults_;
  std::unique_ptr<TracingHandler> tracer_;
  std::unique_ptr<transport::CtaphidFaultFilter> fault_filter_;
  std::unique_ptr<transport::CtaphidEngine> engine_;
  std::unique_ptr<ProxyLink> proxy_;  // --proxy: in the engine's place
  std::string proxy_upstream_;
  InputSink sink_;
  // While unplugged: the sink to restore, and the timer that plugs back in.
  bool unplugged_ = false;
  InputSink unplugged_sink_;
  std::optional<TimerQueue::TimerId> replug_timer_;
  Hotplug hotplug_;
  bool away_ = false;  // between a Hotplug unplug fault and the replug
  boost::asio::io_context& io_;
  // Posted work checks this is still alive: the device may be removed before it runs.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  DeviceLocation location_;
};

}  // namespace vauth::daemon
