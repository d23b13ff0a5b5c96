// `vauth run [options] -- PROGRAM [ARGS...]`: runs PROGRAM (and its children)
// so that it sees vauth's keys as /dev/hidraw devices without uhid, USB or
// root: a umockdev test bed (kernelfree/) shows the devices, vauthd's
// SEQPACKET sockets carry the reports. See docs/kernel-free.md.
#pragma once

#include <string>
#include <vector>

namespace vauth::cli {

// `args` are the words after "run". Returns the program's exit status
// (128+N when it was killed by signal N), 125 for vauth run's own errors,
// 126/127 when the program cannot be executed / found.
int run_command(const std::vector<std::string>& args);

}  // namespace vauth::cli
