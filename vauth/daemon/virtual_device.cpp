#include "vauth/daemon/virtual_device.h"

#include <iostream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "vauth/ctap/pin_policy.h"
#include "vauth/daemon/log.h"

namespace vauth::daemon {
namespace {

std::unique_ptr<crypto::Rng> make_rng(const std::optional<uint64_t>& seed) {
  if (seed) return std::make_unique<crypto::SeededRng>(*seed);
  return std::make_unique<crypto::SystemRng>();
}

std::unique_ptr<store::Store> open_store(const StoreSettings& s) {
  if (s.kind == StoreSettings::Kind::Ephemeral) return std::make_unique<store::MemoryStore>();
  store::JournalOptions o;
  o.durability = s.kind == StoreSettings::Kind::Batched ? store::Durability::batched : store::Durability::durable;
  o.passphrase = s.passphrase;
  o.warn = [](std::string_view w) { log_message(LogLevel::Warning, "store: " + std::string(w)); };
  return std::make_unique<store::JournalStore>(s.dir, std::move(o));
}

// A preset PIN is stored the way clientPIN setPIN stores one, and only into a
// store that has no PIN yet: a PIN the user changed is kept.
void preset_pin(store::Store& store, const DeviceSettings& s) {
  if (!s.preset_pin || store.state().pin_hash) return;
  if (!ctap::pin_meets_policy(*s.preset_pin, s.profile)) {
    throw std::invalid_argument("--pin must have at least " + std::to_string(s.profile.min_pin_length) +
                                " characters and at most 63 bytes");
  }
  store.commit(store::Mutation{store::change::SetPin{ctap::pin_hash(*s.preset_pin), s.profile.max_pin_retries}});
}

}  // namespace

VirtualDevice::VirtualDevice(boost::asio::io_context& io, const Clock& clock, DeviceSettings settings)
    : index_(settings.index),
      events_(settings.events),
      trace_(settings.trace),
      hid_(settings.hid),
      timers_(clock),
      pump_(io, timers_),
      rng_(make_rng(settings.seed)),
      store_(open_store(settings.store)),
      presence_(timers_),
      presence_tracer_(presence_, timers_, events_, index_) {
  journal_ = dynamic_cast<store::JournalStore*>(store_.get());
  preset_pin(*store_, settings);
  set_presence(settings.presence);
  authenticator_ = std::make_unique<ctap::Authenticator>(
      ctap::Environment{*store_, *rng_, timers_, presence_tracer_, std::move(settings.profile)});
  if (settings.store.kind == StoreSettings::Kind::Batched) schedule_sync();
  tracer_ = std::make_unique<TracingHandler>(*authenticator_, events_, index_, clock, trace_);
  engine_ = std::make_unique<transport::CtaphidEngine>(*tracer_, timers_, [this](const transport::Report& r) {
    if (!sink_) return;
    if (trace_) trace_->packet(index_, false, r);
    sink_(r);
  });
  if (trace_) trace_->device_added(index_, hid_);
}

VirtualDevice::~VirtualDevice() {
  engine_.reset();  // before the authenticator it talks to
  authenticator_.reset();
  if (sync_timer_) timers_.cancel(*sync_timer_);
}

// Batched durability: the journal syncs on commit when enough is waiting; this
// timer makes sure a quiet device's last commits reach the disk soon too.
void VirtualDevice::schedule_sync() {
  sync_timer_ = timers_.call_after(Duration(100), [this] {
    if (journal_ && journal_->sync_due()) journal_->sync();
    schedule_sync();
  });
}

void VirtualDevice::on_output_report(ByteView report) {
  if (trace_) trace_->packet(index_, true, report);
  engine_->on_report(report);
  pump_.kick();  // the engine may have scheduled keepalives or timeouts
}

void VirtualDevice::set_input_sink(InputSink sink) {
  const bool was_attached = static_cast<bool>(sink_);
  sink_ = std::move(sink);
  if (events_ && was_attached != static_cast<bool>(sink_)) {
    events_->publish(sink_ ? "device.attached" : "device.detached",
                     {{"device", index_}, {"transport", location_.transport}});
  }
}

void VirtualDevice::on_host_reset() {
  engine_->reset();
  pump_.kick();
}

void VirtualDevice::set_presence(const PresenceSettings& s) {
  presence_settings_ = s;
  presence_.set_mode(s.mode);
  presence_.set_delay(s.delay);
  presence_.set_timeout(s.timeout);
}

void VirtualDevice::power_cycle() {
  engine_->reset();
  authenticator_->power_cycle();
  if (events_) events_->publish("device.power-cycle", {{"device", index_}});
  pump_.kick();
}

}  // namespace vauth::daemon
