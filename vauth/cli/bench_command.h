// `vauth bench [ARGS...]`: the benchmark suite (bench/vauth_bench.cpp), run as
// its own program so the CLI does not link the benchmark's clients.
#pragma once

#include <string>
#include <vector>

namespace vauth::cli {

// Replaces this process with vauth-bench; returns 127 only if it cannot be started.
int bench_command(const std::vector<std::string>& args);

}  // namespace vauth::cli
