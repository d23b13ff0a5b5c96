#include "vauth/daemon/device_manager.h"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vauth::daemon {

DeviceManager::DeviceManager(boost::asio::io_context& io, const Clock& clock, EventBus& events, DeviceDefaults defaults)
    : io_(io), clock_(clock), events_(events), defaults_(std::move(defaults)) {}

DeviceManager::~DeviceManager() {
  // Backends hold references to the devices they serve: they go first.
  set_backend(nullptr);
}

DeviceSettings DeviceManager::settings_for(size_t index, const DeviceOverrides& o) const {
  DeviceSettings s = defaults_.base;
  s.index = index;
  s.events = &events_;
  // Several keys, or one added later, must not share a serial: hosts tell keys apart by it.
  if (defaults_.suffix_serials || index > 1) s.hid.serial += "-" + std::to_string(index);
  if (defaults_.seed) s.seed = *defaults_.seed + index - 1;
  s.store.dir = defaults_.state_dir / ("device-" + std::to_string(index));
  if (o.pin) s.preset_pin = o.pin;
  if (o.serial) s.hid.serial = *o.serial;
  if (o.name) s.hid.name = *o.name;
  if (o.presence) s.presence = *o.presence;
  if (o.store) s.store.kind = *o.store;
  return s;
}

VirtualDevice& DeviceManager::create(const DeviceOverrides& overrides) {
  return create(settings_for(next_index_, overrides));
}

VirtualDevice& DeviceManager::create(DeviceSettings settings) {
  if (devices_.size() >= kMaxDevices) {
    throw std::length_error("vauthd serves at most " + std::to_string(kMaxDevices) + " devices");
  }
  if (settings.index != next_index_) throw std::logic_error("devices are created in index order");
  settings.events = &events_;
  auto device = std::make_unique<VirtualDevice>(io_, clock_, std::move(settings));
  next_index_ += 1;  // only once the device exists: a failed create uses no index
  // A device:...:unplug fault pulls the key out for real, as the control API's unplug does.
  VirtualDevice& d = *device;
  d.set_hotplug({[this, &d] { unplug(d); },
                 [this, &d] {
                   if (!backend_) return;
                   try {
                     plug(d);
                   } catch (const std::exception& e) {
                     std::cerr << "vauthd: device " << d.index() << " could not be plugged back in: " << e.what()
                               << std::endl;
                   }
                 }});
  devices_.push_back(std::move(device));
  return *devices_.back();
}

void DeviceManager::set_backend(std::unique_ptr<Backend> backend) {
  if (backend_) {
    for (auto& d : devices_) {
      unplug(*d);
      backend_->forget(*d);
    }
  }
  backend_ = std::move(backend);
}

void DeviceManager::plug(VirtualDevice& d) {
  if (plugged(d)) return;
  if (!backend_) throw std::logic_error("no backend to plug devices into");
  const bool replug = !d.location().transport.empty();
  Plugged p = backend_->plug(d);
  // A key that lost power comes back with fresh volatile state.
  if (replug) d.power_cycle();
  p.location.ready = true;
  d.set_location(p.location);
  events_.publish("device.ready",
                  {{"device", d.index()}, {"transport", p.location.transport}, {"where", p.location.where}});
  std::cout << "vauthd: ready: device " << d.index() << " " << p.readiness << std::endl;
}

void DeviceManager::plug_all() {
  for (auto& d : devices_) plug(*d);
}

void DeviceManager::unplug(VirtualDevice& d) {
  if (!plugged(d)) return;
  backend_->unplug(d);
  DeviceLocation where = d.location();
  where.ready = false;
  d.set_location(where);
  events_.publish("device.unplugged", {{"device", d.index()}, {"transport", where.transport}});
}

void DeviceManager::unplug_all() {
  for (auto& d : devices_) unplug(*d);
}

void DeviceManager::remove(VirtualDevice& d) {
  const size_t index = d.index();
  unplug(d);
  if (backend_) backend_->forget(d);
  std::erase_if(devices_, [&d](const auto& p) { return p.get() == &d; });
  events_.publish("device.removed", {{"device", index}});
}

VirtualDevice* DeviceManager::find(size_t index) const {
  for (const auto& d : devices_) {
    if (d->index() == index) return d.get();
  }
  return nullptr;
}

}  // namespace vauth::daemon
