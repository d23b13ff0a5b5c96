#!/bin/bash
# browser_uhid_e2e.sh - a browser scenario (tests/browser) against a vauth key
# that a real kernel shows as a UHID device. Runs INSIDE the test VM
# (tests/vm/run-in-vm.sh), as root:
#
#   browser_uhid_e2e.sh VAUTHD VAUTHCTL SCENARIO [vauthd options...]
#
# The VM boots without udevd, and browsers only use hidraw nodes that udev has
# initialised (they ask libudev, which reads /run/udev/data). So while the
# scenario runs, this script plays udevd's part for hidraw nodes: for each
# /sys/class/hidraw/hidrawN it writes the database entry udevd would write (the
# initialisation time and the hidraw properties). Everything else — the uhid
# device, hid-generic, the hidraw node, the browser's enumeration and I/O — is
# the real thing.
set -uo pipefail
[ $# -ge 3 ] || { sed -n '2,/^set -uo/p' "$0" | grep '^#' >&2; exit 2; }
vauthd=$1 vauthctl=$2 scenario=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p /run/udev/data
play_udevd() {
  while :; do
    for dev in /sys/class/hidraw/hidraw*; do
      [ -e "$dev/dev" ] || continue
      entry=/run/udev/data/c$(cat "$dev/dev")
      [ -e "$entry" ] && continue
      printf 'I:%s\nE:SUBSYSTEM=hidraw\nE:DEVNAME=/dev/%s\nG:uaccess\n' \
        "$(($(date +%s%N) / 1000))" "$(basename "$dev")" >"$entry.tmp" && mv "$entry.tmp" "$entry"
      echo "browser_uhid_e2e: udev entry for $(basename "$dev") ($(cat "$dev/device/uevent" | grep HID_NAME))"
    done
    sleep 0.2
  done
}
play_udevd &
udevd=$!
trap 'kill $udevd 2>/dev/null' EXIT

# Chromium starts slowly under software emulation: give each step minutes.
export BROWSER_STEP_TIMEOUT_MS=${BROWSER_STEP_TIMEOUT_MS:-240000} VAUTHCTL=$vauthctl
"$here/../browser/browser_test.sh" --uhid "$vauthd" "$scenario" "$@"
