#include "vauth/faults/fault_plan.h"

#include <algorithm>
#include <array>
#include <utility>

namespace vauth::faults {
namespace {

constexpr unsigned bit(Layer l) { return 1u << static_cast<unsigned>(l); }

// (A bit set of layers, not an initializer_list: a list member would dangle.)
struct ActionInfo {
  Action action;
  const char* name;
  unsigned layers;
};

using L = Layer;
constexpr std::array kActions = {
    ActionInfo{Action::Drop, "drop", bit(L::Ctaphid)},
    ActionInfo{Action::Duplicate, "duplicate", bit(L::Ctaphid)},
    ActionInfo{Action::Reorder, "reorder", bit(L::Ctaphid)},
    ActionInfo{Action::Corrupt, "corrupt", bit(L::Ctaphid)},
    ActionInfo{Action::WrongCid, "wrong-cid", bit(L::Ctaphid)},
    ActionInfo{Action::WrongSeq, "wrong-seq", bit(L::Ctaphid)},
    ActionInfo{Action::Truncate, "truncate", bit(L::Ctaphid)},
    ActionInfo{Action::Error, "error", bit(L::Ctaphid)},
    ActionInfo{Action::InitNonce, "init-nonce", bit(L::Ctaphid)},
    ActionInfo{Action::Pace, "pace", bit(L::Ctaphid)},
    ActionInfo{Action::Delay, "delay", bit(L::Ctaphid) | bit(L::Ctap) | bit(L::U2f)},
    ActionInfo{Action::Status, "status", bit(L::Ctap) | bit(L::U2f)},
    ActionInfo{Action::Stall, "stall", bit(L::Ctap) | bit(L::U2f)},
    ActionInfo{Action::BadSignature, "bad-signature", bit(L::Ctap) | bit(L::U2f)},
    ActionInfo{Action::BadRpIdHash, "bad-rpid-hash", bit(L::Ctap)},
    ActionInfo{Action::FlipUp, "flip-up", bit(L::Ctap)},
    ActionInfo{Action::FlipUv, "flip-uv", bit(L::Ctap)},
    ActionInfo{Action::CounterFreeze, "counter-freeze", bit(L::Ctap)},
    ActionInfo{Action::CounterBack, "counter-back", bit(L::Ctap)},
    ActionInfo{Action::ExtraExtension, "extra-extension", bit(L::Ctap)},
    ActionInfo{Action::MalformedCbor, "malformed-cbor", bit(L::Ctap)},
    ActionInfo{Action::NonCanonicalCbor, "noncanonical-cbor", bit(L::Ctap)},
    ActionInfo{Action::MissingField, "missing-field", bit(L::Ctap)},
    ActionInfo{Action::BrokenChain, "broken-chain", bit(L::Ctap)},
    ActionInfo{Action::Timeout, "timeout", bit(L::Presence)},
    ActionInfo{Action::Deny, "deny", bit(L::Presence)},
    ActionInfo{Action::Approve, "approve", bit(L::Presence)},
    ActionInfo{Action::TwoTouches, "two-touches", bit(L::Presence)},
    ActionInfo{Action::Eio, "eio", bit(L::Store)},
    ActionInfo{Action::Full, "full", bit(L::Store)},
    ActionInfo{Action::ReadOnly, "read-only", bit(L::Store)},
    ActionInfo{Action::Unplug, "unplug", bit(L::Device)},
    ActionInfo{Action::PowerCycle, "power-cycle", bit(L::Device)},
    ActionInfo{Action::Reboot, "reboot", bit(L::Device)},
};

constexpr std::array<std::pair<Layer, const char*>, 6> kLayers = {{{L::Ctaphid, "ctaphid"},
                                                                   {L::Ctap, "ctap"},
                                                                   {L::U2f, "u2f"},
                                                                   {L::Presence, "presence"},
                                                                   {L::Store, "store"},
                                                                   {L::Device, "device"}}};

// splitmix64: tiny, well-distributed, and fully determined by its state.
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool matches(const Match& m, const Call& call, Duration age) {
  if (!m.command.empty() && m.command != "*" && m.command != call.command) return false;
  if (m.subcommand && call.subcommand != m.subcommand) return false;
  if (m.channel && call.channel != m.channel) return false;
  if (!m.extension.empty() &&
      std::find(call.extensions.begin(), call.extensions.end(), m.extension) == call.extensions.end()) {
    return false;
  }
  if (m.after && age < *m.after) return false;
  if (m.until && age >= *m.until) return false;
  return true;
}

}  // namespace

const char* to_string(Layer l) {
  for (const auto& [layer, name] : kLayers) {
    if (layer == l) return name;
  }
  return "?";
}

const char* to_string(Action a) {
  for (const auto& info : kActions) {
    if (info.action == a) return info.name;
  }
  return "?";
}

std::optional<Layer> layer_from_string(std::string_view s) {
  for (const auto& [layer, name] : kLayers) {
    if (s == name) return layer;
  }
  return std::nullopt;
}

std::optional<Action> action_from_string(std::string_view s) {
  for (const auto& info : kActions) {
    if (s == info.name) return info.action;
  }
  return std::nullopt;
}

bool layer_supports(Layer layer, Action action) {
  for (const auto& info : kActions) {
    if (info.action == action) return (info.layers & bit(layer)) != 0;
  }
  return false;
}

uint64_t FaultPlan::add(Rule rule) {
  Entry e;
  e.id = next_id_++;
  e.rng_state = rule.match.seed;
  e.rule = std::move(rule);
  e.added = clock_.now();
  entries_.push_back(std::move(e));
  return entries_.back().id;
}

bool FaultPlan::remove(uint64_t id) {
  return std::erase_if(entries_, [id](const Entry& e) { return e.id == id; }) > 0;
}

void FaultPlan::clear() { entries_.clear(); }

bool FaultPlan::has_rules(Layer layer) const {
  return std::any_of(entries_.begin(), entries_.end(), [layer](const Entry& e) { return e.rule.layer == layer; });
}

std::vector<Fired> FaultPlan::consult(Layer layer, const Call& call) {
  std::vector<Fired> fired;
  const TimePoint now = clock_.now();
  // Listeners run after the loop: they may look at the plan but must see it whole.
  std::vector<size_t> hits;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    const Rule& r = e.rule;
    if (r.layer != layer || !matches(r.match, call, now - e.added)) continue;
    ++e.matched;
    if (r.match.nth != 0 && e.matched != r.match.nth) continue;
    if (r.times != 0 && e.fired >= r.times) continue;
    if (r.match.probability < 1.0) {
      // 53 random bits as a double in [0, 1): one draw per matching call, so
      // the firing pattern depends only on the seed and the call sequence.
      const double u = static_cast<double>(next_random(e.rng_state) >> 11) * 0x1.0p-53;
      if (u >= r.match.probability) continue;
    }
    ++e.fired;
    fired.push_back(Fired{e.id, r.action, r.value});
    hits.push_back(i);
  }
  if (listener_) {
    for (size_t i : hits) listener_(entries_[i], layer, call.command);
  }
  return fired;
}

const Fired* find(const std::vector<Fired>& fired, Action action) {
  for (const Fired& f : fired) {
    if (f.action == action) return &f;
  }
  return nullptr;
}

}  // namespace vauth::faults
