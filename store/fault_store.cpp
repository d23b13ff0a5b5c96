#include "store/fault_store.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "store/store_error.h"

namespace vauth::store {

namespace {

struct MutationName {
  const char* operator()(const change::SetMasterSecret&) const { return "SetMasterSecret"; }
  const char* operator()(const change::SetAttestation&) const { return "SetAttestation"; }
  const char* operator()(const change::PutCredential&) const { return "PutCredential"; }
  const char* operator()(const change::DeleteCredential&) const { return "DeleteCredential"; }
  const char* operator()(const change::SetPin&) const { return "SetPin"; }
  const char* operator()(const change::SetPinRetries&) const { return "SetPinRetries"; }
  const char* operator()(const change::SetSignCount&) const { return "SetSignCount"; }
  const char* operator()(const change::Reset&) const { return "Reset"; }
  const char* operator()(const change::SetLargeBlobArray&) const { return "SetLargeBlobArray"; }
  const char* operator()(const change::SetPersistentToken&) const { return "SetPersistentToken"; }
  const char* operator()(const change::SetUvCountSincePinEntry&) const { return "SetUvCountSincePinEntry"; }
  // Mutations added later match as "mutation" until they are named here.
  const char* operator()(const auto&) const { return "mutation"; }
};

}  // namespace

const char* mutation_name(const Mutation& m) { return std::visit(MutationName{}, m.change); }

void FaultStore::commit(std::span<const Mutation> mutations) {
  if (!mutations.empty() && plan_.has_rules(faults::Layer::Store)) {
    faults::Call call;
    call.command = mutation_name(mutations.front());
    for (const faults::Fired& f : plan_.consult(faults::Layer::Store, call)) {
      const int err = f.action == faults::Action::Full ? ENOSPC : f.action == faults::Action::ReadOnly ? EROFS : EIO;
      throw StoreIoError(std::string("injected fault: commit failed: ") + std::strerror(err), err);
    }
  }
  inner_.commit(mutations);
}

}  // namespace vauth::store
