#include "vauth/cli/sibling_program.h"

#include <unistd.h>

#include <system_error>

namespace vauth::cli {

std::string find_sibling_program(const std::string& name, const std::filesystem::path& build_dir_relative) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto build_root = self.parent_path().parent_path().parent_path();  // build/vauth/cli/vauth → build
    for (const auto& candidate : {self.parent_path() / name, build_root / build_dir_relative}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return name;
}

}  // namespace vauth::cli
