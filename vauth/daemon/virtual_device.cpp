#include "vauth/daemon/virtual_device.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "vauth/crypto/primitives.h"

namespace vauth::daemon {
namespace {

std::unique_ptr<crypto::Rng> make_rng(const std::optional<uint64_t>& seed) {
  if (seed) return std::make_unique<crypto::SeededRng>(*seed);
  return std::make_unique<crypto::SystemRng>();
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// A preset PIN is stored the way clientPIN setPIN stores one: LEFT(SHA-256(PIN), 16).
store::State initial_state(const DeviceSettings& s) {
  store::State state;
  if (s.preset_pin) {
    if (code_points(*s.preset_pin) < s.profile.min_pin_length || s.preset_pin->size() > 63) {
      throw std::invalid_argument("--pin must have at least " + std::to_string(s.profile.min_pin_length) +
                                  " characters and at most 63 bytes");
    }
    Bytes hash = crypto::sha256(to_bytes(*s.preset_pin));
    hash.resize(16);
    state.pin_hash = hash;
    state.pin_retries = s.profile.max_pin_retries;
  }
  return state;
}

}  // namespace

VirtualDevice::VirtualDevice(boost::asio::io_context& io, const Clock& clock, DeviceSettings settings)
    : index_(settings.index),
      events_(settings.events),
      hid_(settings.hid),
      timers_(clock),
      pump_(io, timers_),
      rng_(make_rng(settings.seed)),
      store_(initial_state(settings)),
      presence_(timers_),
      presence_tracer_(presence_, timers_, events_, index_) {
  set_presence(settings.presence);
  authenticator_ = std::make_unique<ctap::Authenticator>(
      ctap::Environment{store_, *rng_, timers_, presence_tracer_, std::move(settings.profile)});
  tracer_ = std::make_unique<TracingHandler>(*authenticator_, events_, index_, clock);
  engine_ = std::make_unique<transport::CtaphidEngine>(*tracer_, timers_, [this](const transport::Report& r) {
    if (sink_) sink_(r);
  });
}

VirtualDevice::~VirtualDevice() {
  engine_.reset();  // before the authenticator it talks to
  authenticator_.reset();
}

void VirtualDevice::on_output_report(ByteView report) {
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
