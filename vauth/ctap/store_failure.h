// What the authenticator answers when its store refuses a commit (a failing
// disk, a full disk, a read-only file system — real or injected by a `store`
// fault). The commit changed nothing, so the request fails as a whole:
//   disk full (ENOSPC, EDQUOT)   CTAP2_ERR_KEY_STORE_FULL   / U2F SW 6A84 (not enough memory)
//   any other failure            CTAP1_ERR_OTHER            / U2F SW 6581 (memory failure)
#pragma once

#include <cstdint>

#include "store/store_error.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {

Status store_failure_status(const store::StoreError& e);
uint16_t store_failure_sw(const store::StoreError& e);

}  // namespace vauth::ctap
