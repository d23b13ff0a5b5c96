// Where an authenticator's State lives. The authenticator reads state() and
// changes it only through commit(), which returns once the change is as durable
// as the store promises (the in-memory store: never; the journal: on disk).
#pragma once

#include <initializer_list>
#include <span>

#include "store/state.h"

namespace vauth::store {

class Store {
 public:
  virtual ~Store() = default;
  virtual const State& state() const = 0;
  // Applies the mutations atomically: after a crash, all of them or none.
  virtual void commit(std::span<const Mutation> mutations) = 0;
  void commit(const Mutation& m) { commit(std::span<const Mutation>(&m, 1)); }
};

// Memory only: the `ephemeral` mode, and the store of unit tests.
class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  explicit MemoryStore(State initial) : state_(std::move(initial)) {}
  const State& state() const override { return state_; }
  void commit(std::span<const Mutation> mutations) override {
    for (const Mutation& m : mutations) apply(state_, m);
    ++commits_;
  }
  size_t commit_count() const { return commits_; }

 private:
  State state_;
  size_t commits_ = 0;
};

}  // namespace vauth::store
