// vauthd's devices over their lifetime: creates them (at start and when the
// control API asks), plugs them into the daemon's backend and unplugs them,
// and removes them. Every change is an event and, for plugs, a readiness line
// on stdout. Devices keep their index (1, 2, ...) for life; an index is never
// reused while the daemon runs, so "device 3" always means the same key.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vauth/daemon/backend.h"
#include "vauth/daemon/event_bus.h"
#include "vauth/daemon/virtual_device.h"

namespace vauth::daemon {

// What every new device starts from; per-device fields are derived from its index.
struct DeviceDefaults {
  DeviceSettings base;              // index, seed, serial and store.dir are filled in per device
  std::optional<uint64_t> seed;     // device i: seed + i - 1
  std::filesystem::path state_dir;  // device i keeps its journal in state_dir/device-i
  bool suffix_serials = false;      // device i reports serial "<serial>-i" (several devices; always for i > 1)
};

// Per-device choices of POST /v1/devices; unset fields come from DeviceDefaults.
struct DeviceOverrides {
  std::optional<std::string> pin;
  std::optional<std::string> serial;
  std::optional<std::string> name;
  std::optional<PresenceSettings> presence;
  std::optional<StoreSettings::Kind> store;
};

class DeviceManager {
 public:
  using Devices = std::vector<std::unique_ptr<VirtualDevice>>;
  static constexpr size_t kMaxDevices = 64;

  DeviceManager(boost::asio::io_context& io, const Clock& clock, EventBus& events, DeviceDefaults defaults);
  ~DeviceManager();  // unplugs everything (the backend goes before the devices it serves)
  DeviceManager(const DeviceManager&) = delete;
  DeviceManager& operator=(const DeviceManager&) = delete;

  // A new device with the next index, not plugged in yet. Throws what opening
  // its store throws (e.g. the state directory is locked by another daemon).
  VirtualDevice& create(const DeviceOverrides& overrides = {});
  // A new device with exactly these settings (a configured [[device]]); settings.index
  // must be the next index (std::logic_error otherwise).
  VirtualDevice& create(DeviceSettings settings);
  // Switches backends (unplugging every device from the old one); devices are not re-plugged.
  void set_backend(std::unique_ptr<Backend> backend);
  const Backend* backend() const { return backend_.get(); }

  // Shows `d` to the host and prints its readiness line. A device that was
  // unplugged comes back power-cycled, as a real key that lost power: its
  // stored state is intact, PIN tokens and channels are new. Throws if the
  // backend cannot plug it (it stays unplugged). No-op if plugged.
  void plug(VirtualDevice& d);
  void plug_all();
  // The host loses `d` (a pending request is aborted); the device stays. No-op if unplugged.
  void unplug(VirtualDevice& d);
  void unplug_all();
  // Unplugs and destroys `d` (its durable state stays on disk in its directory).
  void remove(VirtualDevice& d);

  const DeviceDefaults& defaults() const { return defaults_; }
  const Devices& devices() const { return devices_; }
  VirtualDevice* find(size_t index) const;
  bool plugged(const VirtualDevice& d) const { return d.location().ready; }

 private:
  DeviceSettings settings_for(size_t index, const DeviceOverrides& overrides) const;

  boost::asio::io_context& io_;
  const Clock& clock_;
  EventBus& events_;
  DeviceDefaults defaults_;
  size_t next_index_ = 1;
  Devices devices_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace vauth::daemon
