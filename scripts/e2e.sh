#!/usr/bin/env bash
# Real-kernel end-to-end tests (CTest label "e2e"): boots Debian's kernel under
# qemu with uhid / vhci-hcd and runs stock clients against a freshly built vauthd.
# Needs root; the kernel is downloaded once into /var/cache/kernel-vm.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VAUTH_BUILD_DIR:-$root/build}
"$root/scripts/deps.sh" qemu-system-x86 cpio kmod xz-utils usbip
"$root/scripts/build.sh" "$build"
cd "$build"
ctest --output-on-failure -L e2e "$@"
