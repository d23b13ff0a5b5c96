// Runs vauth-rss-floor (bench/rss_floor.cpp) and reads its memory once it is
// ready: the floor that vauthd's idle RSS is compared with in the same run.
#pragma once

#include <optional>
#include <string>

#include "bench/daemon_process.h"

namespace vauth::bench {

// vauth-rss-floor beside this executable, or empty when it is not there.
std::string find_rss_floor();
// The floor program's memory after `settle` idle milliseconds (vauthd's idle
// RSS is read after the same wait), or nullopt if it did not start.
std::optional<DaemonProcess::Memory> measure_memory_floor(const std::string& program, int settle_ms);

}  // namespace vauth::bench
