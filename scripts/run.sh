#!/usr/bin/env bash
# Builds vauth and starts vauthd with sensible defaults. Any arguments are
# passed to vauthd (see `vauthd --help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VAUTH_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" "$build" >&2
exec "$build/vauth/daemon/vauthd" "$@"
