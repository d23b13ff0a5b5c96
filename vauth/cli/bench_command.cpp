#include "vauth/cli/bench_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "vauth/cli/sibling_program.h"

namespace vauth::cli {

int bench_command(const std::vector<std::string>& args) {
  const std::string program = find_sibling_program("vauth-bench", "bench/vauth-bench");
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(program.c_str(), argv.data());
  std::cerr << "vauth bench: cannot start " << program << ": " << std::strerror(errno) << "\n";
  return 127;
}

}  // namespace vauth::cli
