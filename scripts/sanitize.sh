#!/usr/bin/env bash
# Builds the whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included) under clang and runs it. Any report fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VAUTH_SANITIZE_BUILD_DIR:-$root/build-sanitize}
"$root/scripts/deps.sh" clang libclang-rt-14-dev
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
CC=clang CXX=clang++ "$root/scripts/build.sh" "$build" -DVAUTH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cd "$build"
ctest --output-on-failure -j "$(nproc)" -LE e2e "$@"
