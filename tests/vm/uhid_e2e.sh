#!/bin/bash
# uhid_e2e.sh - end-to-end test of the UHID backend against a real kernel and
# real clients. Runs INSIDE the test VM (tests/vm/run-in-vm.sh), as root:
#
#   tests/vm/run-in-vm.sh tests/vm/uhid_e2e.sh build/vauth/daemon/vauthd --transport uhid
#   tests/vm/run-in-vm.sh tests/vm/uhid_e2e.sh build/vauth/daemon/vauthd --transport uhid --seed 7
#
# It also works on any Linux host with uhid and hid-generic (as root); it finds
# its own hidraw node by vendor/product ID, so other keys plugged in do no harm.
#
# usage: uhid_e2e.sh PROGRAM [ARGS...]   (ARGS default: --transport uhid --reset-window off)
# The program must print a line containing "ready" once the device exists and
# must remove the device and exit 0 on SIGTERM.
#
# environment: VAUTH_VID=1209 VAUTH_PID=7a01 (hex, no 0x)
#              VAUTH_AAGUID=5b7c1d2e8a3f4c619e072f4b8d6a1c35 (empty: any)
set -uo pipefail

[ $# -ge 1 ] || { sed -n '2,/^set -uo/p' "$0" | grep '^#' >&2; exit 2; }
PROG=$1; shift
[ $# -gt 0 ] || set -- --transport uhid --reset-window off
VID=${VAUTH_VID:-1209}
PID=${VAUTH_PID:-7a01}
AAGUID=${VAUTH_AAGUID-5b7c1d2e8a3f4c619e072f4b8d6a1c35}
PY=/usr/bin/python3   # Debian's python sees python3-fido2; a pyenv python3 on PATH does not

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
info() { echo "info: $*"; }
show() { sed 's/^/    | /' "$1"; }   # indent a captured output under its verdict

W=$(mktemp -d /tmp/uhid-e2e.XXXXXX)
daemon=
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -KILL "$daemon" 2>/dev/null; fi
  rm -rf "$W"
}
trap cleanup EXIT

finish() {
  echo "---- program log ----"; show "$W/daemon.out"; show "$W/daemon.err"
  if [ "$failures" -eq 0 ]; then echo "uhid_e2e: ALL PASSED"; exit 0; fi
  echo "uhid_e2e: $failures FAILED"; exit 1
}

# ------------------------------------------------------------------ prerequisites
[ -e /dev/uhid ] || modprobe uhid 2>/dev/null || true
[ -e /dev/uhid ] || { fail "/dev/uhid missing and modprobe uhid failed"; exit 1; }
for t in fido2-token fido2-cred fido2-assert base64 timeout setsid; do
  command -v $t >/dev/null || { fail "$t not installed (apt-get install fido2-tools)"; exit 1; }
done
[ -x "$PROG" ] || { fail "$PROG is not an executable (build it first)"; exit 1; }

# ------------------------------------------------------------------ start the key
"$PROG" "$@" >"$W/daemon.out" 2>"$W/daemon.err" &
daemon=$!
for _ in $(seq 300); do   # 30 s: the program starts slowly under TCG
  grep -q ready "$W/daemon.out" 2>/dev/null && break
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
if grep -q ready "$W/daemon.out"; then
  pass "program ready: $(grep -m1 ready "$W/daemon.out")"
else
  fail "program never printed 'ready'"; finish
fi

# Our hidraw node: the one whose HID parent has our bus/vendor/product. The
# node appears once hid-generic binds (loaded by MODALIAS, i.e. udev or the VM's loader).
want_id=$(printf '0003:%08X:%08X' "0x$VID" "0x$PID")
dev= name=
for _ in $(seq 100); do
  for u in /sys/class/hidraw/hidraw*/device/uevent; do
    [ -e "$u" ] || continue
    if grep -qx "HID_ID=$want_id" "$u"; then
      h=${u%/device/uevent}; dev=/dev/${h##*/}
      name=$(sed -n 's/^HID_NAME=//p' "$u")
    fi
  done
  [ -n "$dev" ] && [ -c "$dev" ] && break
  sleep 0.1
done
if [ -n "$dev" ] && [ -c "$dev" ]; then
  pass "hidraw node $dev appeared (HID_NAME=\"$name\")"
else
  fail "no /dev/hidraw* for HID_ID=$want_id within 10 s"; finish
fi
if [ -n "$name" ] && grep -m1 ready "$W/daemon.out" | grep -qF "$name"; then
  pass "kernel device name \"$name\" matches the ready line"
else
  fail "kernel device name \"$name\" is not in the ready line"
fi

# ------------------------------------------------------------------ libfido2
# libfido2 1.12 takes manufacturer/product strings from a USB parent device,
# which a UHID device does not have, so -L shows "( )"; the name is checked above
# through the kernel (where Chromium and hidapi read it).
if timeout 20 fido2-token -L >"$W/list" 2>&1 && grep -qi "^$dev: vendor=0x$VID, product=0x$PID" "$W/list"; then
  pass "fido2-token -L lists $dev (vendor 0x$VID product 0x$PID)"
else
  fail "fido2-token -L does not list $dev"
fi
show "$W/list"

if timeout 20 fido2-token -I "$dev" >"$W/info" 2>&1; then
  ok=1
  grep -q 'U2F_V2' "$W/info" || { ok=; fail "fido2-token -I: no U2F_V2"; }
  grep -q 'FIDO_2_0' "$W/info" || { ok=; fail "fido2-token -I: no FIDO_2_0"; }
  got=$(sed -n 's/^aaguid: //p' "$W/info")
  if ! [[ $got =~ ^[0-9a-f]{32}$ ]] || { [ -n "$AAGUID" ] && [ "$got" != "$AAGUID" ]; }; then
    ok=; fail "fido2-token -I: aaguid '$got' (want ${AAGUID:-any})"
  fi
  [ -n "$ok" ] && pass "fido2-token -I: U2F_V2, FIDO_2_0, aaguid $got"
else
  fail "fido2-token -I $dev failed"
fi
show "$W/info"

cdh() { head -c 32 /dev/urandom | base64 -w0; echo; }
{ cdh; echo example.org; echo alice; head -c 16 /dev/urandom | base64 -w0; echo; } >"$W/cred.in"
if timeout 30 fido2-cred -M -i "$W/cred.in" -o "$W/cred.out" "$dev" </dev/null >"$W/m.log" 2>&1 &&
   timeout 30 fido2-cred -V -i "$W/cred.out" -o "$W/cred.pub" >"$W/v.log" 2>&1; then
  pass "fido2-cred -M made a $(sed -n 3p "$W/cred.out") credential; fido2-cred -V verified its attestation"
else
  fail "fido2-cred -M | -V"; show "$W/m.log"; show "$W/v.log"
fi

if [ -s "$W/cred.pub" ]; then
  { cdh; echo example.org; head -1 "$W/cred.pub"; } >"$W/assert.in"
  tail -n +2 "$W/cred.pub" >"$W/pub.pem"
  if timeout 30 fido2-assert -G -i "$W/assert.in" -o "$W/assert.out" "$dev" </dev/null >"$W/g.log" 2>&1 &&
     timeout 30 fido2-assert -V -i "$W/assert.out" "$W/pub.pem" es256 >"$W/av.log" 2>&1; then
    pass "fido2-assert -G got an assertion; fido2-assert -V verified it with the credential key"
  else
    fail "fido2-assert -G | -V"; show "$W/g.log"; show "$W/av.log"
  fi
else
  fail "fido2-assert skipped: no verified credential"
fi

# ------------------------------------------------------------------ python-fido2
# Before the PIN is set: Fido2Client would otherwise need the PIN.
cat >"$W/pyfido2.py" <<'EOF'
import sys
from fido2.hid import CtapHidDevice
from fido2.client import Fido2Client
from fido2.server import Fido2Server

path, vid, pid = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
devs = [d for d in CtapHidDevice.list_devices() if d.descriptor.vid == vid and d.descriptor.pid == pid]
print("listed:", [d.descriptor.path for d in devs])
dev = next(d for d in devs if d.descriptor.path == path)
client = Fido2Client(dev, "https://example.org")
server = Fido2Server({"id": "example.org", "name": "Example"}, attestation="direct")
user = {"id": b"user-0001", "name": "alice"}
opts, state = server.register_begin(user, user_verification="discouraged")
att = client.make_credential(opts["publicKey"])
auth_data = server.register_complete(state, att.client_data, att.attestation_object)
print("registered, fmt:", att.attestation_object.fmt)
creds = [auth_data.credential_data]
opts, state = server.authenticate_begin(creds, user_verification="discouraged")
sel = client.get_assertion(opts["publicKey"])
a = sel.get_response(0)
server.authenticate_complete(state, creds, a.credential_id, a.client_data, a.authenticator_data, a.signature)
print("authenticated")
EOF
if timeout 120 $PY "$W/pyfido2.py" "$dev" "$VID" "$PID" >"$W/py.log" 2>&1; then
  pass "python-fido2 lists $dev, registers and authenticates (Fido2Server verified both)"
else
  fail "python-fido2 list/register/authenticate"
fi
show "$W/py.log"

# ------------------------------------------------------------------ feature reports
# CTAPHID has no feature reports; the kernel still forwards HIDIOC[GS]FEATURE to
# the device and, without a reply, blocks the caller for 5 s. The backend must refuse at once.
cat >"$W/feature.py" <<'EOF'
import errno, fcntl, os, sys, time
def ioc(nr, size): return (3 << 30) | (size << 16) | (ord('H') << 8) | nr   # _IOC(R|W, 'H', nr, size)
fd = os.open(sys.argv[1], os.O_RDWR)
ok = True
for label, nr in (("HIDIOCGFEATURE (GET_REPORT)", 0x07), ("HIDIOCSFEATURE (SET_REPORT)", 0x06)):
    buf = bytearray(65)
    t = time.monotonic()
    try:
        fcntl.ioctl(fd, ioc(nr, len(buf)), buf)
        result = "succeeded"
    except OSError as e:
        result = errno.errorcode.get(e.errno, str(e.errno))
    took = time.monotonic() - t
    print("%s: %s after %.2f s" % (label, result, took))
    ok = ok and result == "EIO" and took < 2.0
sys.exit(0 if ok else 1)
EOF
if timeout 60 $PY "$W/feature.py" "$dev" >"$W/feature.log" 2>&1; then
  pass "feature report requests are refused at once with EIO"
else
  fail "feature report requests (want EIO in < 2 s)"
fi
show "$W/feature.log"

# ------------------------------------------------------------------ PIN
# The CLIs read the PIN from a tty if there is one, else stdin: detach from any tty.
if timeout 30 setsid sh -c "printf '1234\n1234\n' | fido2-token -S $dev" </dev/null >"$W/pin.log" 2>&1 &&
   timeout 20 fido2-token -I "$dev" >"$W/info2" 2>&1 && grep -q '^options:.* clientPin' "$W/info2"; then
  pass "fido2-token -S set a PIN; getInfo now reports clientPin"
else
  fail "fido2-token -S (set PIN)"; show "$W/pin.log"; show "$W/info2"
fi
{ cdh; echo example.org; echo bob; head -c 16 /dev/urandom | base64 -w0; echo; } >"$W/cred2.in"
if timeout 30 setsid sh -c "printf '1234\n' | fido2-cred -M -i $W/cred2.in -o $W/cred2.out $dev" </dev/null >"$W/m2.log" 2>&1 &&
   timeout 30 fido2-cred -V -i "$W/cred2.out" -o "$W/cred2.pub" >"$W/v2.log" 2>&1; then
  pass "fido2-cred -M with the PIN made a credential that verifies"
else
  fail "fido2-cred -M with PIN"; show "$W/m2.log"; show "$W/v2.log"
fi

# ------------------------------------------------------------------ reset
# authenticatorReset is refused more than --reset-window (default 10 s) after
# power-up; this script runs longer, so CTest starts the key with --reset-window off.
if timeout 30 fido2-token -R "$dev" </dev/null >"$W/reset.log" 2>&1 &&
   timeout 20 fido2-token -I "$dev" >"$W/info3" 2>&1 && grep -q '^options:.* noclientPin' "$W/info3"; then
  pass "fido2-token -R reset the key; getInfo reports noclientPin again"
else
  fail "fido2-token -R (reset; vauthd needs --reset-window off this late)"; show "$W/reset.log"; show "$W/info3"
fi

# ------------------------------------------------------------------ the unplug fault is a real unplug
# device:...:unplug (docs/faults.md) destroys the UHID device mid-request, as
# `vauthctl unplug` does, and creates it again when the time is up.
VAUTHCTL=$(dirname "$PROG")/../cli/vauthctl
our_node() {   # the hidraw node with our HID_ID, or ""
  local u
  for u in /sys/class/hidraw/hidraw*/device/uevent; do
    [ -e "$u" ] && grep -qx "HID_ID=$want_id" "$u" && { u=${u%/device/uevent}; echo "/dev/${u##*/}"; return; }
  done
}
if [ -x "$VAUTHCTL" ] && timeout 20 "$VAUTHCTL" fault add 1 "device:getInfo:unplug=4000,times=1" >"$W/fault.log" 2>&1; then
  # In the background: the key must be seen going while the client waits.
  timeout 20 fido2-token -I "$dev" >"$W/finfo.log" 2>&1 &
  client=$!
  gone=
  for _ in $(seq 200); do [ -z "$(our_node)" ] && { gone=1; break; }; sleep 0.02; done
  [ -n "$gone" ] && pass "the unplug fault destroyed the UHID device ($dev went away)" || fail "$dev never went away"
  # CTAPHID_INIT was answered, getInfo never is: libfido2 then takes the key
  # for a U2F-only one (caps "nocbor", no version strings) rather than failing.
  wait "$client"
  if grep -q 'FIDO_2_0' "$W/finfo.log" || ! grep -q 'nocbor' "$W/finfo.log"; then
    fail "fido2-token -I got a getInfo answer despite the unplug fault"; show "$W/finfo.log"
  else
    pass "fido2-token -I got no getInfo answer (libfido2 fell back to U2F: nocbor)"
  fi
  dev=
  for _ in $(seq 200); do dev=$(our_node); [ -n "$dev" ] && [ -c "$dev" ] && break; sleep 0.1; done
  if [ -n "$dev" ] && timeout 20 fido2-token -I "$dev" >"$W/info4" 2>&1 && grep -q 'FIDO_2_0' "$W/info4"; then
    pass "the key came back as $dev and answers fido2-token -I"
  else
    fail "the key did not come back after the unplug fault"; show "$W/info4" 2>/dev/null
  fi
else
  fail "vauthctl fault add (unplug)"; show "$W/fault.log"
fi

# ------------------------------------------------------------------ shutdown
kill -TERM "$daemon"
rc=
for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$daemon" 2>/dev/null; then
  fail "program still running 10 s after SIGTERM"
else
  wait "$daemon"; rc=$?; daemon=
  [ "$rc" = 0 ] && pass "program exited 0 on SIGTERM" || fail "program exited $rc on SIGTERM"
fi
for _ in $(seq 50); do [ -e "$dev" ] || break; sleep 0.1; done
if [ -e "$dev" ]; then fail "$dev still exists after shutdown"; else pass "$dev disappeared after shutdown"; fi

# Which form the kernel delivered output reports in (informational; see uhid_device.cpp).
grep -h 'first output report' "$W/daemon.err" 2>/dev/null | sed 's/^/info: /'
finish
