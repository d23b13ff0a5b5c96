#include "vauth/daemon/virtual_device.h"

#include <boost/asio/post.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "vauth/ctap/pin_policy.h"
#include "vauth/daemon/log.h"
#include "vauth/daemon/upstreams.h"
#include "vauth/daemon/provisioning_json.h"

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

// A golden key (--import): only into a key never used, so that a restart of a
// durable key keeps the credentials made since; an ephemeral key starts as the
// document every time. A bad document stops the daemon, as a bad --pin does.
void preset_import(store::Store& store, const DeviceSettings& s) {
  if (!s.import_file || !unused(store.state())) return;
  std::ifstream in(*s.import_file);
  if (!in) throw std::invalid_argument("--import: cannot read " + s.import_file->string());
  const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw std::invalid_argument("--import: " + s.import_file->string() + " is not JSON");
  auto mutations = device_import_mutations(doc, s.profile);
  if (!mutations) throw std::invalid_argument("--import: " + s.import_file->string() + ": " + mutations.error());
  store.commit(*mutations);
  log_message(LogLevel::Info, "device " + std::to_string(s.index) + ": imported " + s.import_file->string());
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

// Preset fingers, like a preset PIN, go only into a key that has none enrolled.
void preset_fingerprints(store::Store& store, crypto::Rng& rng, const DeviceSettings& s) {
  if (s.preset_fingerprints == 0 || !s.profile.built_in_uv || !store.state().enrollments.empty()) return;
  std::vector<store::Mutation> changes;
  for (size_t i = 0; i < s.preset_fingerprints; ++i) {
    changes.push_back(store::Mutation{store::change::PutEnrollment{{rng.bytes(2), "finger " + std::to_string(i + 1)}}});
  }
  store.commit(changes);
}

}  // namespace

VirtualDevice::VirtualDevice(boost::asio::io_context& io, const Clock& clock, DeviceSettings settings)
    : index_(settings.index),
      events_(settings.events),
      trace_(settings.trace),
      hid_(settings.hid),
      timers_(clock),
      plan_(clock),
      pump_(io, timers_),
      rng_(make_rng(settings.seed)),
      store_(open_store(settings.store)),
      presence_(timers_),
      presence_tracer_(presence_, timers_, events_, index_),
      uv_(timers_),
      fault_store_(*store_, plan_),
      fault_presence_(presence_tracer_, plan_, timers_),
      io_(io) {
  journal_ = dynamic_cast<store::JournalStore*>(store_.get());
  preset_import(*store_, settings);
  preset_pin(*store_, settings);
  preset_fingerprints(*store_, *rng_, settings);
  set_presence(settings.presence);
  set_uv(settings.uv);
  for (auto& rule : settings.faults) plan_.add(std::move(rule));
  plan_.set_listener([this](const faults::FaultPlan::Entry& e, faults::Layer layer, std::string_view command) {
    if (!events_) return;
    events_->publish("fault.fired", {{"device", index_}, {"id", e.id}, {"where", faults::to_string(layer)},
                                     {"action", faults::to_string(e.rule.action)}, {"command", std::string(command)},
                                     {"fired", e.fired}, {"rule", e.rule.text()}});
  });
  // Requests: engine → TracingHandler → DeviceFaults → FaultHandler → Authenticator,
  // which asks FaultPresence → PresenceTracer and commits through FaultStore.
  ctap::Environment env{fault_store_, *rng_, timers_, fault_presence_, std::move(settings.profile), &uv_};
  env.auth_data_faults = &auth_data_faults_;
  authenticator_ = std::make_unique<ctap::Authenticator>(std::move(env));
  if (settings.store.kind == StoreSettings::Kind::Batched) schedule_sync();
  fault_handler_ = std::make_unique<ctap::FaultHandler>(*authenticator_, plan_, timers_, auth_data_faults_);
  device_faults_ = std::make_unique<DeviceFaults>(*fault_handler_, plan_, timers_,
                                                  [this](faults::Action a, Duration d) {
                                                    if (a == faults::Action::Unplug) return unplug_for(d);
                                                    power_cycle();  // power-cycle, and reboot mid-transaction
                                                  });
  tracer_ = std::make_unique<TracingHandler>(*device_faults_, events_, index_, clock, trace_);
  // Reports: engine → CtaphidFaultFilter → the trace (what the host really gets) → the backend's sink.
  fault_filter_ = std::make_unique<transport::CtaphidFaultFilter>(plan_, timers_, [this](const transport::Report& r) {
    if (!sink_) return;
    if (trace_) trace_->packet(index_, false, r);
    sink_(r);
  });
  engine_ = std::make_unique<transport::CtaphidEngine>(*tracer_, timers_, [this](const transport::Report& r) {
    fault_filter_->send(r);
  });
  if (settings.proxy) {
    // A proxied key: the same fault filter and trace, a real key where the engine would be.
    DeviceFaults::Act act = [this](faults::Action a, Duration d) {
      if (a == faults::Action::Unplug) return unplug_for(d);
      power_cycle();
    };
    ProxyContext ctx{plan_, timers_, clock, events_, index_, trace_, std::move(act), [this] { pump_.kick(); }};
    proxy_ = std::make_unique<ProxyLink>(make_upstream(io, *settings.proxy), std::move(ctx),
                                         [this](const transport::Report& r) { fault_filter_->send(r); });
    proxy_->start();
    proxy_upstream_ = settings.proxy->text();
  }
  if (trace_) trace_->device_added(index_, hid_);
}

VirtualDevice::~VirtualDevice() {
  proxy_.reset();
  engine_.reset();  // before the handlers it talks to
  fault_filter_.reset();
  tracer_.reset();
  device_faults_.reset();
  fault_handler_.reset();
  authenticator_.reset();
  if (sync_timer_) timers_.cancel(*sync_timer_);
  if (replug_timer_) timers_.cancel(*replug_timer_);
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
  if (unplugged_ || away_) return;  // nobody there to hear it
  if (trace_) trace_->packet(index_, true, report);
  if (proxy_) {
    proxy_->on_host_report(report);
  } else {
    engine_->on_report(report);
  }
  pump_.kick();  // the engine may have scheduled keepalives or timeouts
}

void VirtualDevice::set_input_sink(InputSink sink) {
  if (unplugged_) {
    unplugged_sink_ = std::move(sink);  // the backend's change applies when the key is back
    return;
  }
  const bool was_attached = static_cast<bool>(sink_);
  sink_ = std::move(sink);
  if (events_ && was_attached != static_cast<bool>(sink_)) {
    events_->publish(sink_ ? "device.attached" : "device.detached",
                     {{"device", index_}, {"transport", location_.transport}});
  }
}

void VirtualDevice::on_host_reset() {
  engine_->reset();
  if (proxy_) proxy_->reset();
  pump_.kick();
}

void VirtualDevice::set_presence(const PresenceSettings& s) {
  presence_settings_ = s;
  presence_.set_mode(s.mode);
  presence_.set_delay(s.delay);
  presence_.set_timeout(s.timeout);
}

void VirtualDevice::set_uv(const UvSettings& s) {
  uv_settings_ = s;
  uv_.set_mode(s.mode);
  uv_.set_timeout(s.timeout);
}

void VirtualDevice::power_cycle() {
  engine_->reset();
  if (proxy_) proxy_->reset();  // a real key behind the proxy keeps its power; only the link forgets
  fault_filter_->reset();
  authenticator_->power_cycle();
  if (events_) events_->publish("device.power-cycle", {{"device", index_}});
  pump_.kick();
}

void VirtualDevice::unplug_for(Duration how_long) {
  if (unplugged_ || away_) return;
  if (hotplug_.unplug && hotplug_.plug) {
    // The backend's unplug closes sessions and destroys device nodes: never from
    // inside the report handler that brought us here. Until then, reports are ignored.
    away_ = true;
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), how_long] {
      if (alive.expired()) return;
      hotplug_.unplug();
      engine_->reset();
      fault_filter_->reset();
      if (events_) events_->publish("fault.unplugged", {{"device", index_}, {"ms", how_long.count()}});
      replug_timer_ = timers_.call_after(how_long, [this] {
        replug_timer_.reset();
        away_ = false;
        hotplug_.plug();  // comes back power-cycled (DeviceManager::plug)
        if (events_) events_->publish("fault.replugged", {{"device", index_}});
      });
      pump_.kick();
    });
    return;
  }
  InputSink sink = sink_;
  set_input_sink(nullptr);
  unplugged_ = true;
  unplugged_sink_ = std::move(sink);
  engine_->reset();
  if (proxy_) proxy_->reset();
  fault_filter_->reset();
  authenticator_->power_cycle();
  if (events_) events_->publish("fault.unplugged", {{"device", index_}, {"ms", how_long.count()}});
  replug_timer_ = timers_.call_after(how_long, [this] {
    replug_timer_.reset();
    unplugged_ = false;
    set_input_sink(std::move(unplugged_sink_));
    unplugged_sink_ = nullptr;
    if (events_) events_->publish("fault.replugged", {{"device", index_}});
  });
  pump_.kick();
}

}  // namespace vauth::daemon
