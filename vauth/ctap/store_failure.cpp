#include "vauth/ctap/store_failure.h"

#include <cerrno>

namespace vauth::ctap {
namespace {

bool disk_full(const store::StoreError& e) {
  const auto* io = dynamic_cast<const store::StoreIoError*>(&e);
  return io && (io->error_number() == ENOSPC || io->error_number() == EDQUOT);
}

}  // namespace

Status store_failure_status(const store::StoreError& e) {
  return disk_full(e) ? Status::KeyStoreFull : Status::Other;
}

uint16_t store_failure_sw(const store::StoreError& e) { return disk_full(e) ? 0x6a84 : 0x6581; }

}  // namespace vauth::ctap
