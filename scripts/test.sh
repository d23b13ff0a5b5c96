#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every unit and
# integration test with CTest. Exits non-zero on any failure.
#   scripts/test.sh                 the whole suite (labels unit + integration)
#   scripts/test.sh -L unit         any ctest arguments are passed on
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VAUTH_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" "$build"
cd "$build"
if [ $# -eq 0 ]; then set -- -LE e2e; fi
ctest --output-on-failure -j "$(nproc)" "$@"
