#!/bin/bash
# usbip_e2e.sh - end-to-end test of the USB/IP server against a real kernel
# (vhci-hcd + usbhid) and real clients. Runs INSIDE the test VM
# (tests/vm/run-in-vm.sh), as root:
#
#   tests/vm/run-in-vm.sh tests/vm/usbip_e2e.sh build/vauth/daemon/vauthd build/vauth/cli/vauthctl
#
# It also works on any Linux host with vhci-hcd, usbhid and the usbip tool (as
# root) that has nothing else on 127.0.0.1:3240.
#
# usage: usbip_e2e.sh VAUTHD VAUTHCTL [EXTRA VAUTHD ARGS...]
# Steps: load vhci-hcd, start vauthd --transport usbip, `usbip attach`, the
# hidraw node appears, `fido2-token -L` lists it, fido2-cred -M/-V and
# fido2-assert -G/-V, `usbip detach` (the node goes), attach again and the old
# credential still asserts; then `vauthctl unplug` closes the kernel's session
# (the node goes, the bus ID leaves `usbip list`) and `vauthctl plug` lets it
# attach again. Every step is bounded by a timeout; each prints its time.
set -uo pipefail

[ $# -ge 2 ] || { sed -n '2,/^set -uo/p' "$0" | grep '^#' >&2; exit 2; }
VAUTHD=$1 VAUTHCTL=$2; shift 2
VID=1209 PID=7a01
PORT=3240   # the VM has its own network namespace; the usbip tool's default port

failures=0
t0=$(date +%s%N)
elapsed() { local d=$((($(date +%s%N) - t0) / 100000000)); printf '%3d.%ds' $((d / 10)) $((d % 10)); }
pass() { echo "PASS [$(elapsed)]: $*"; }
fail() { echo "FAIL [$(elapsed)]: $*"; failures=$((failures + 1)); }
info() { echo "info: $*"; }
show() { sed 's/^/    | /' "$1"; }

W=$(mktemp -d /tmp/usbip-e2e.XXXXXX)
daemon=
cleanup() {
  local p
  p=$(attached_port); [ -n "$p" ] && timeout 60 usbip detach -p "$p" >/dev/null 2>&1
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -KILL "$daemon" 2>/dev/null; fi
  rm -rf "$W"
}
trap cleanup EXIT

finish() {
  echo "---- vauthd log ----"; show "$W/daemon.out"; show "$W/daemon.err"
  echo "---- kernel log (usb, hid) ----"; dmesg 2>/dev/null | grep -Ei 'usb|hid|vhci' | tail -40 | sed 's/^/    | /'
  echo "usbip_e2e: finished in $(elapsed)"
  if [ "$failures" -eq 0 ]; then echo "usbip_e2e: ALL PASSED"; exit 0; fi
  echo "usbip_e2e: $failures FAILED"; exit 1
}

ctl() { timeout 20 "$VAUTHCTL" --socket "$W/c.sock" "$@"; }

# Our hidraw node: the one whose HID parent has our bus/vendor/product; "" if none.
find_hidraw() {
  local want u h
  want=$(printf '0003:%08X:%08X' "0x$VID" "0x$PID")
  for u in /sys/class/hidraw/hidraw*/device/uevent; do
    [ -e "$u" ] || continue
    if grep -qx "HID_ID=$want" "$u"; then h=${u%/device/uevent}; echo "/dev/${h##*/}"; return; fi
  done
}
wait_hidraw() {   # SECONDS: prints the node once it exists
  local d
  for _ in $(seq $(($1 * 10))); do
    d=$(find_hidraw); [ -n "$d" ] && [ -c "$d" ] && { echo "$d"; return 0; }
    sleep 0.1
  done
  return 1
}
wait_gone() {     # NODE SECONDS
  for _ in $(seq $(($2 * 10))); do [ -e "$1" ] || [ -n "$(find_hidraw)" ] || return 0; sleep 0.1; done
  [ ! -e "$1" ] && [ -z "$(find_hidraw)" ]
}
attach() {        # attach 1-1 and wait for its hidraw node; sets $dev
  dev=
  if ! timeout 60 usbip attach -r 127.0.0.1 -b 1-1 >"$W/attach.log" 2>&1; then
    fail "usbip attach -r 127.0.0.1 -b 1-1 ($1)"; show "$W/attach.log"; return 1
  fi
  if dev=$(wait_hidraw 30); then
    pass "usbip attach ($1): $dev appeared"
  else
    fail "usbip attach ($1): no hidraw node within 30 s"; cat /sys/devices/platform/vhci_hcd.*/status | sed 's/^/    | /'; return 1
  fi
}
# The vhci port our device sits on, from the driver's status files (`usbip port`
# reads the whole usb.ids database first, which takes many seconds over 9p under TCG).
# Lines: "hs  0000 006 002 00010002 000003 1-1": hub, port, status (6 = in use), ...
attached_port() {
  cat /sys/devices/platform/vhci_hcd.*/status 2>/dev/null | awk '$3 == "006" { print $2 + 0; exit }'
}
detach_all() {
  local p
  p=$(attached_port)
  [ -n "$p" ] || { fail "no vhci port is in use"; cat /sys/devices/platform/vhci_hcd.*/status | sed 's/^/    | /'; return 1; }
  timeout 60 usbip detach -p "$p" >"$W/detach.log" 2>&1 || { fail "usbip detach -p $p"; show "$W/detach.log"; return 1; }
}
cdh() { head -c 32 /dev/urandom | base64 -w0; echo; }

# ------------------------------------------------------------------ prerequisites
[ -d /sys/devices/platform/vhci_hcd.0 ] || modprobe vhci-hcd 2>"$W/modprobe.log"
if [ -d /sys/devices/platform/vhci_hcd.0 ]; then
  pass "vhci-hcd loaded ($(ls -d /sys/devices/platform/vhci_hcd.* | wc -l) controller(s))"
else
  fail "vhci-hcd is not available"; show "$W/modprobe.log"; exit 1
fi
for t in usbip fido2-token fido2-cred fido2-assert base64 timeout; do
  command -v $t >/dev/null || { fail "$t not installed (apt-get install usbip fido2-tools)"; exit 1; }
done
[ -x "$VAUTHD" ] && [ -x "$VAUTHCTL" ] || { fail "$VAUTHD / $VAUTHCTL not executable (build them first)"; exit 1; }

# ------------------------------------------------------------------ start the key
"$VAUTHD" --transport usbip --usbip-listen 127.0.0.1:$PORT --control-socket "$W/c.sock" --store ephemeral \
  --seed 11 "$@" >"$W/daemon.out" 2>"$W/daemon.err" &
daemon=$!
for _ in $(seq 300); do
  grep -q 'ready: device 1' "$W/daemon.out" 2>/dev/null && break
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
if grep -q 'busid 1-1' "$W/daemon.out"; then
  pass "vauthd ready: $(grep -m1 ready "$W/daemon.out")"
else
  fail "vauthd never printed its readiness line"; finish
fi
if timeout 60 usbip list -r 127.0.0.1 >"$W/list.log" 2>&1 && grep -q "1-1: .*($VID:$PID)" "$W/list.log"; then
  pass "usbip list -r 127.0.0.1 shows 1-1 ($VID:$PID)"
else
  fail "usbip list -r 127.0.0.1"; show "$W/list.log"
fi

# ------------------------------------------------------------------ attach, use
attach "first" || finish
if timeout 20 fido2-token -L >"$W/L.log" 2>&1 && grep -qi "^$dev: vendor=0x$VID, product=0x$PID" "$W/L.log"; then
  pass "fido2-token -L lists $dev"
else
  fail "fido2-token -L does not list $dev"
fi
show "$W/L.log"

{ cdh; echo example.org; echo alice; head -c 16 /dev/urandom | base64 -w0; echo; } >"$W/cred.in"
if timeout 60 fido2-cred -M -i "$W/cred.in" -o "$W/cred.out" "$dev" </dev/null >"$W/m.log" 2>&1 &&
   timeout 30 fido2-cred -V -i "$W/cred.out" -o "$W/cred.pub" >"$W/v.log" 2>&1; then
  pass "fido2-cred -M made a credential over USB/IP; fido2-cred -V verified its attestation"
else
  fail "fido2-cred -M | -V"; show "$W/m.log"; show "$W/v.log"
fi
assert_ok() {   # LABEL
  if [ ! -s "$W/cred.pub" ]; then fail "fido2-assert ($1) skipped: no credential"; return; fi
  { cdh; echo example.org; head -1 "$W/cred.pub"; } >"$W/assert.in"
  tail -n +2 "$W/cred.pub" >"$W/pub.pem"
  if timeout 60 fido2-assert -G -i "$W/assert.in" -o "$W/assert.out" "$dev" </dev/null >"$W/g.log" 2>&1 &&
     timeout 30 fido2-assert -V -i "$W/assert.out" "$W/pub.pem" es256 >"$W/av.log" 2>&1; then
    pass "fido2-assert -G / -V ($1): the assertion verifies with the credential key"
  else
    fail "fido2-assert -G | -V ($1)"; show "$W/g.log"; show "$W/av.log"
  fi
}
assert_ok "first attach"

# ------------------------------------------------------------------ detach, reattach
old=$dev
if detach_all && wait_gone "$old" 20; then
  pass "usbip detach: $old went away"
else
  fail "usbip detach: $old is still there"
fi
kill -0 "$daemon" 2>/dev/null && pass "vauthd still running after the detach" || fail "vauthd died on detach"
attach "again after detach" && assert_ok "after reattach (same key, same credential)"

# ------------------------------------------------------------------ unplug / plug through the control API
old=$dev
if ctl unplug 1 >"$W/unplug.log" 2>&1 && wait_gone "$old" 20; then
  pass "vauthctl unplug 1: the kernel saw the device go ($old removed)"
else
  fail "vauthctl unplug 1"; show "$W/unplug.log"
fi
if timeout 60 usbip list -r 127.0.0.1 >"$W/list2.log" 2>&1; grep -q '1-1:' "$W/list2.log"; then
  fail "1-1 still in usbip list after unplug"; show "$W/list2.log"
else
  pass "1-1 left usbip list after unplug"
fi
for _ in $(seq 100); do [ -z "$(attached_port)" ] && break; sleep 0.2; done
[ -z "$(attached_port)" ] && pass "the vhci port was freed after unplug" || fail "the vhci port is still in use after unplug"
if ctl plug 1 >"$W/plug.log" 2>&1; then
  pass "vauthctl plug 1: $(cat "$W/plug.log")"
  attach "after vauthctl plug" && assert_ok "after unplug + plug"
else
  fail "vauthctl plug 1"; show "$W/plug.log"
fi

# ------------------------------------------------------------------ the unplug fault is a real unplug
# device:...:unplug (docs/faults.md) pulls the key out mid-request exactly as
# `vauthctl unplug` does: the kernel sees the disconnect, and the key is back
# (on the devlist, attachable, its credential intact) once the time is up.
old=$dev
if ctl fault add 1 "device:getInfo:unplug=4000,times=1" >"$W/fault.log" 2>&1; then
  # In the background: the key must be seen going while the client waits.
  timeout 20 fido2-token -I "$dev" >"$W/finfo.log" 2>&1 &
  client=$!
  wait_gone "$old" 20 && pass "the unplug fault: the kernel saw $old go" || fail "the unplug fault: $old is still there"
  # CTAPHID_INIT was answered, getInfo never is: libfido2 then takes the key
  # for a U2F-only one (caps "nocbor", no version strings) rather than failing.
  wait "$client"
  if grep -q 'FIDO_2_0' "$W/finfo.log" || ! grep -q 'nocbor' "$W/finfo.log"; then
    fail "fido2-token -I got a getInfo answer despite the unplug fault"; show "$W/finfo.log"
  else
    pass "fido2-token -I got no getInfo answer (libfido2 fell back to U2F: nocbor)"
  fi
  back=
  for _ in $(seq 150); do
    timeout 20 usbip list -r 127.0.0.1 >"$W/list3.log" 2>&1 && grep -q '1-1:' "$W/list3.log" && { back=1; break; }
    sleep 0.2
  done
  [ -n "$back" ] && pass "1-1 is back on the devlist after the unplug fault" || fail "1-1 never came back"
  for _ in $(seq 100); do [ -z "$(attached_port)" ] && break; sleep 0.2; done
  attach "after the unplug fault" && assert_ok "after the unplug fault (same credential)"
else
  fail "vauthctl fault add (unplug)"; show "$W/fault.log"
fi

# ------------------------------------------------------------------ shutdown
detach_all >/dev/null 2>&1
kill -TERM "$daemon"
for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$daemon" 2>/dev/null; then
  fail "vauthd still running 10 s after SIGTERM"
else
  wait "$daemon"; rc=$?; daemon=
  [ "$rc" = 0 ] && pass "vauthd exited 0 on SIGTERM" || fail "vauthd exited $rc on SIGTERM"
fi
finish
