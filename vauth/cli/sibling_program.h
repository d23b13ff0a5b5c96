// Finds another vauth program: beside this one (installed layout), else at its
// place in the build tree, else by name on PATH.
#pragma once

#include <filesystem>
#include <string>

namespace vauth::cli {

// `build_dir_relative` is where the program sits relative to the build tree's
// root (e.g. "vauth/daemon/vauthd"); this program is at vauth/cli/ there.
std::string find_sibling_program(const std::string& name, const std::filesystem::path& build_dir_relative);

}  // namespace vauth::cli
