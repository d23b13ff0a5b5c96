// A FaultPlan: the list of deliberate misbehaviours a device should show, and
// the bookkeeping of which fired. Each layer (CTAPHID, CTAP2, U2F, presence,
// store, device) asks the plan at one named hook — "this call is happening,
// should anything go wrong?" — and applies the actions it gets back. The plan
// itself knows no protocol: it matches names and numbers the layers give it.
//
// Deterministic: a rule with a probability draws from its own generator seeded
// by its `seed`, so the same seed and the same sequence of calls fire the same
// faults, run after run.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vauth/base/clock.h"

namespace vauth::faults {

enum class Layer { Ctaphid, Ctap, U2f, Presence, Store, Device };

enum class Action {
  // ctaphid (a whole response message: init packet + continuations)
  Drop, Duplicate, Reorder, Corrupt, WrongCid, WrongSeq, Truncate, Error, InitNonce, Pace,
  // ctaphid, ctap, u2f
  Delay,
  // ctap, u2f
  Status, Stall, BadSignature,
  // ctap (authData is changed before it is signed, so the signature stays valid)
  BadRpIdHash, FlipUp, FlipUv, CounterFreeze, CounterBack, ExtraExtension,
  // ctap (the encoded response)
  MalformedCbor, NonCanonicalCbor, MissingField, BrokenChain,
  // presence
  Timeout, Deny, Approve, TwoTouches,
  // store
  Eio, Full, ReadOnly,
  // device
  Unplug, PowerCycle, Reboot,
};

const char* to_string(Layer l);
const char* to_string(Action a);
std::optional<Layer> layer_from_string(std::string_view s);
std::optional<Action> action_from_string(std::string_view s);
// Whether `layer` knows how to perform `action`.
bool layer_supports(Layer layer, Action action);

// Which calls a rule applies to. Empty / unset fields match everything.
struct Match {
  std::string command;                   // the layer's name for the call ("makeCredential", "cbor", "commit", ...)
  std::optional<uint64_t> subcommand;    // clientPIN / credentialManagement subCommand
  std::string extension;                 // a request extension the call must carry ("hmac-secret")
  std::optional<uint32_t> channel;       // CTAPHID channel ID
  uint64_t nth = 0;                      // 0: every matching call; N: only the Nth (1-based)
  double probability = 1.0;              // fire with this probability (deterministic, see seed)
  uint64_t seed = 1;
  std::optional<Duration> after;         // only this long after the rule was added ...
  std::optional<Duration> until;         // ... and before this long after
};

struct Rule {
  Layer layer = Layer::Ctap;
  Match match;
  Action action = Action::Status;
  std::optional<int64_t> value;  // the action's argument (status code, milliseconds, index, ...)
  uint64_t times = 0;            // how often it may fire; 0: forever

  // The compact text form (docs/faults.md) that parse_rule() reads back.
  std::string text() const;
};

// What a layer tells the plan about the call it is about to make.
struct Call {
  std::string_view command;
  std::optional<uint64_t> subcommand;
  std::vector<std::string> extensions;
  std::optional<uint32_t> channel;
};

// One rule that fired for a call.
struct Fired {
  uint64_t rule_id = 0;
  Action action = Action::Status;
  std::optional<int64_t> value;
};

class FaultPlan {
 public:
  struct Entry {
    uint64_t id = 0;
    Rule rule;
    uint64_t matched = 0;  // calls that matched
    uint64_t fired = 0;    // times the action fired
    TimePoint added;
    uint64_t rng_state = 0;
  };
  // Called for every fault that fires, after the hit is counted.
  using Listener = std::function<void(const Entry& entry, Layer layer, std::string_view command)>;

  explicit FaultPlan(const Clock& clock) : clock_(clock) {}

  uint64_t add(Rule rule);
  bool remove(uint64_t id);
  void clear();
  const std::vector<Entry>& entries() const { return entries_; }
  void set_listener(Listener l) { listener_ = std::move(l); }

  // The hook every layer calls: counts the call against each matching rule of
  // `layer` and returns the actions that fire, in rule order.
  std::vector<Fired> consult(Layer layer, const Call& call);
  // Cheap check so a layer can skip building a Call.
  bool has_rules(Layer layer) const;

 private:
  const Clock& clock_;
  std::vector<Entry> entries_;
  uint64_t next_id_ = 1;
  Listener listener_;
};

// The first fired action of a kind, if any.
const Fired* find(const std::vector<Fired>& fired, Action action);

}  // namespace vauth::faults
