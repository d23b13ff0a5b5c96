#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for a bounded
# time on a scratch copy of its seed corpus in fuzz/corpus/<target>/.
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default 30 s, all targets)
# A crash leaves its reproducer in build-fuzz/artifacts/ and fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VAUTH_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${1:-30}
shift || true
"$root/scripts/deps.sh" clang libclang-rt-14-dev
CC=clang CXX=clang++ "$root/scripts/build.sh" "$build" -DVAUTH_FUZZ=ON -DVAUTH_SANITIZE=ON -DBUILD_TESTING=OFF

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$root"/fuzz/*_fuzzer.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  [ -d "$root/fuzz/corpus/$t" ] && cp -r "$root/fuzz/corpus/$t/." "$scratch/"
  echo "fuzz: $t for ${seconds}s" >&2
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/artifacts/$t-" "$scratch" 2>"$build/artifacts/$t.log"; then
    echo "fuzz: $t FAILED (see $build/artifacts/$t.log)" >&2
    tail -40 "$build/artifacts/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units" "$build/artifacts/$t.log" | sed "s/^/fuzz: $t /" >&2 || true
  fi
  rm -rf "$scratch"
done
exit $status
