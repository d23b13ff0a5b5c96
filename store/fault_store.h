// A store::Store decorator that asks a FaultPlan before every commit and, when
// a `store` rule fires, fails the commit the way a real disk does — EIO, ENOSPC
// (disk full) or EROFS (read-only) — without passing it on. The inner store
// never sees the batch, so the state stays exactly what it was: the
// authenticator above must answer with a CTAP error and carry on.
#pragma once

#include "store/store.h"
#include "vauth/faults/fault_plan.h"

namespace vauth::store {

class FaultStore final : public Store {
 public:
  FaultStore(Store& inner, faults::FaultPlan& plan) : inner_(inner), plan_(plan) {}
  const State& state() const override { return inner_.state(); }
  void commit(std::span<const Mutation> mutations) override;

 private:
  Store& inner_;
  faults::FaultPlan& plan_;
};

// "PutCredential", "SetSignCount", ...: the command name store rules match,
// taken from the batch's first mutation.
const char* mutation_name(const Mutation& m);

}  // namespace vauth::store
