// The benchmark's workloads: each prepares itself on one CTAPHID channel
// (provisioning what it needs with ordinary requests) and returns the
// operation to repeat. An operation returns false when the device answered
// wrongly; the check is cheap (status byte, command, echo) so the client's
// own cost stays small next to the device's, and the first reply of each
// workload is checked in full during preparation.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bench/ctaphid_client.h"

namespace vauth::bench {

struct WorkloadInfo {
  std::string name;
  std::string what;
  bool inproc_only = false;   // needs the store to be filled directly (bulk provisioning)
  size_t resident = 0;        // ga-rk-N: credentials to provision before it runs
};

const std::vector<WorkloadInfo>& all_workloads();

using Operation = std::function<bool()>;

// Prepares `name` on channel `cid`; throws std::runtime_error when preparation
// fails (the device refused a setup request). `resident_rp` names the RP
// with provisioned credentials for ga-rk-N. `pin` is the PIN the device has.
Operation prepare_workload(const std::string& name, CtaphidClient& client, uint32_t cid,
                           const std::string& resident_rp, const std::string& pin);

// PINGs of every length 0..7609 (or every `step`-th, plus the boundaries
// 57/58, 116/117 ... of each continuation packet); returns the mismatches.
uint64_t ping_every_size(CtaphidClient& client, uint32_t cid, size_t step);

}  // namespace vauth::bench
