#!/bin/bash
# proxy_e2e.sh - `vauthd --proxy usb:VID:PID` against a real kernel and real
# clients. Runs INSIDE the test VM (tests/vm/run-in-vm.sh), as root:
#
#   tests/vm/run-in-vm.sh tests/vm/proxy_e2e.sh build/vauth/daemon/vauthd build/vauth/cli/vauthctl
#
# A "physical" key: vauthd A (persona yubikey5, USB IDs 1050:0407) over USB/IP,
# attached through vhci-hcd, so the kernel's usbhid binds it and libusb sees a
# real USB device. vauthd B proxies it with libusb (--proxy usb:1050:0407) and
# shows the proxied key through UHID (1209:7a01).
# Steps: B detaches usbhid from A (A's hidraw node goes) and its own node
# appears; fido2-token -L/-I, fido2-cred -M/-V and fido2-assert -G/-V through B
# see A's getInfo and work; a ctap fault and a ctaphid fault added to B through
# vauthctl reach the client, and B is healthy after; B's exit gives A back to
# usbhid (A's node returns); a second B records a session (--trace) that a
# third vauthd (--replay, no key at all) answers to the same client with the
# same results; B refuses a key that is busy (claimed by another B) and an
# absent one, with a clear message.
#
# usage: proxy_e2e.sh VAUTHD VAUTHCTL
set -uo pipefail

[ $# -ge 2 ] || { sed -n '2,/^set -uo/p' "$0" | grep '^#' >&2; exit 2; }
VAUTHD=$1 VAUTHCTL=$2
PORT=3240

failures=0
t0=$(date +%s%N)
elapsed() { local d=$((($(date +%s%N) - t0) / 100000000)); printf '%3d.%ds' $((d / 10)) $((d % 10)); }
pass() { echo "PASS [$(elapsed)]: $*"; }
fail() { echo "FAIL [$(elapsed)]: $*"; failures=$((failures + 1)); }
show() { sed 's/^/    | /' "$1"; }

W=$(mktemp -d /tmp/proxy-e2e.XXXXXX)
keyd= proxyd=
cleanup() {
  local p
  for d in $proxyd $keyd; do kill -KILL "$d" 2>/dev/null; done
  p=$(attached_port); [ -n "$p" ] && timeout 60 usbip detach -p "$p" >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT

finish() {
  for f in a.err b.err b2.err c.err; do [ -s "$W/$f" ] && { echo "---- $f ----"; show "$W/$f"; }; done
  echo "---- kernel log (usb, hid) ----"; dmesg 2>/dev/null | grep -Ei 'usb|hid|vhci' | tail -30 | sed 's/^/    | /'
  echo "proxy_e2e: finished in $(elapsed)"
  if [ "$failures" -eq 0 ]; then echo "proxy_e2e: ALL PASSED"; exit 0; fi
  echo "proxy_e2e: $failures FAILED"; exit 1
}

# The hidraw node of the HID device with these IDs; "" if none.
find_hidraw() {   # VID PID
  local want u h
  want=$(printf '0003:%08X:%08X' "0x$1" "0x$2")
  for u in /sys/class/hidraw/hidraw*/device/uevent; do
    [ -e "$u" ] || continue
    if grep -qx "HID_ID=$want" "$u"; then h=${u%/device/uevent}; echo "/dev/${h##*/}"; return; fi
  done
}
wait_hidraw() {   # VID PID SECONDS
  local d
  for _ in $(seq $(($3 * 10))); do
    d=$(find_hidraw "$1" "$2"); [ -n "$d" ] && [ -c "$d" ] && { echo "$d"; return 0; }
    sleep 0.1
  done
  return 1
}
wait_no_hidraw() {   # VID PID SECONDS
  for _ in $(seq $(($3 * 10))); do [ -z "$(find_hidraw "$1" "$2")" ] && return 0; sleep 0.1; done
  return 1
}
attached_port() {
  cat /sys/devices/platform/vhci_hcd.*/status 2>/dev/null | awk '$3 == "006" { print $2 + 0; exit }'
}
wait_ready() {    # PID OUTFILE
  for _ in $(seq 300); do
    grep -q 'ready: device 1' "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
start_proxy() {   # NAME ARGS...: starts a proxying vauthd over UHID; sets $proxyd
  local name=$1; shift
  "$VAUTHD" --proxy usb:1050:0407 --transport uhid --store ephemeral "$@" >"$W/$name.out" 2>"$W/$name.err" &
  proxyd=$!
  wait_ready "$proxyd" "$W/$name.out"
}
stop() {          # PID: SIGTERM, and the exit status
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1"
}

# Fixed client inputs, so a replay sees the very requests that were recorded.
printf 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nexample.org\nalice\nYWxpY2UtdXNlci1pZA==\n' >"$W/cred.in"
flow() {          # DEV TAG: credential + assertion, each verified by the client
  timeout 60 fido2-cred -M -i "$W/cred.in" -o "$W/cred-$2.out" "$1" </dev/null >"$W/m-$2.log" 2>&1 &&
  timeout 30 fido2-cred -V -i "$W/cred-$2.out" -o "$W/cred-$2.pub" >>"$W/m-$2.log" 2>&1 &&
  { echo 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8='; echo example.org; head -1 "$W/cred-$2.pub"; } >"$W/assert-$2.in" &&
  tail -n +2 "$W/cred-$2.pub" >"$W/pub-$2.pem" &&
  timeout 60 fido2-assert -G -i "$W/assert-$2.in" -o "$W/assert-$2.out" "$1" </dev/null >>"$W/m-$2.log" 2>&1 &&
  timeout 30 fido2-assert -V -i "$W/assert-$2.out" "$W/pub-$2.pem" es256 >>"$W/m-$2.log" 2>&1
}

# ------------------------------------------------------------------ prerequisites
[ -d /sys/devices/platform/vhci_hcd.0 ] || modprobe vhci-hcd 2>/dev/null
[ -e /dev/uhid ] || modprobe uhid 2>/dev/null
[ -d /sys/devices/platform/vhci_hcd.0 ] && [ -e /dev/uhid ] || { fail "vhci-hcd or uhid is not available"; finish; }
for t in usbip fido2-token fido2-cred fido2-assert timeout; do
  command -v $t >/dev/null || { fail "$t not installed (apt-get install usbip fido2-tools)"; finish; }
done

# ------------------------------------------------------------------ the "physical" key
"$VAUTHD" --transport usbip --usbip-listen 127.0.0.1:$PORT --store ephemeral --seed 11 --persona yubikey5 \
  --no-control >"$W/a.out" 2>"$W/a.err" &
keyd=$!
wait_ready "$keyd" "$W/a.out" || { fail "key A never became ready"; finish; }
timeout 60 usbip attach -r 127.0.0.1 -b 1-1 >"$W/attach.log" 2>&1 || { fail "usbip attach"; show "$W/attach.log"; finish; }
if devA=$(wait_hidraw 1050 0407 30); then
  pass "key A (1050:0407) attached over USB/IP: usbhid gave it $devA"
else
  fail "key A has no hidraw node"; finish
fi
[ -n "$(ls /dev/bus/usb/*/* 2>/dev/null)" ] && pass "libusb's device nodes exist (/dev/bus/usb)" || fail "no /dev/bus/usb nodes"

# ------------------------------------------------------------------ proxy B
if start_proxy b --control-socket "$W/b.sock"; then
  pass "proxy B ready: $(grep -m1 ready "$W/b.out"); $(grep -m1 'forwards to' "$W/b.err")"
else
  fail "proxy B did not start"; finish
fi
wait_no_hidraw 1050 0407 10 && pass "usbhid was detached from key A while proxied ($devA gone)" ||
  fail "key A's hidraw node is still there while proxied"
if devB=$(wait_hidraw 1209 7a01 30); then pass "proxy B's UHID node: $devB"; else fail "proxy B has no hidraw node"; finish; fi
if timeout 20 fido2-token -L >"$W/L.log" 2>&1 && grep -q "^$devB: vendor=0x1209, product=0x7a01" "$W/L.log"; then
  pass "fido2-token -L lists the proxied key"
else
  fail "fido2-token -L"; show "$W/L.log"
fi
if timeout 20 fido2-token -I "$devB" >"$W/I.log" 2>&1 && grep -q "^aaguid: 2fc0579f811347eab116bb5a8db9202a" "$W/I.log"; then
  pass "fido2-token -I through the proxy shows key A's getInfo (yubikey5 AAGUID)"
else
  fail "fido2-token -I through the proxy"; show "$W/I.log"
fi
flow "$devB" b1 && pass "fido2-cred -M/-V and fido2-assert -G/-V through the proxy" ||
  { fail "credential/assertion through the proxy"; show "$W/m-b1.log"; }

ctl() { timeout 20 "$VAUTHCTL" --socket "$W/b.sock" "$@"; }
ctl fault add 1 'ctap:makeCredential:status=KEY_STORE_FULL,times=1' >/dev/null
if ! flow "$devB" f1 && grep -q FIDO_ERR_KEY_STORE_FULL "$W/m-f1.log"; then
  pass "ctap fault in the proxy reached the client (FIDO_ERR_KEY_STORE_FULL)"
else
  fail "ctap fault not seen"; show "$W/m-f1.log"
fi
flow "$devB" f2 && pass "healthy after the ctap fault" || { fail "not healthy after the ctap fault"; show "$W/m-f2.log"; }
ctl fault add 1 'ctaphid:init:init-nonce,times=1' >/dev/null
if ! timeout 20 fido2-token -I "$devB" >"$W/I2.log" 2>&1; then
  pass "ctaphid fault (INIT nonce) in the proxy refused by the client"
else
  fail "ctaphid fault not seen"; show "$W/I2.log"
fi
timeout 20 fido2-token -I "$devB" >"$W/I3.log" 2>&1 && pass "healthy after the ctaphid fault" ||
  { fail "not healthy after the ctaphid fault"; show "$W/I3.log"; }

# A second proxy finds the key busy.
if timeout 20 "$VAUTHD" --proxy usb:1050:0407 --transport uhid --store ephemeral --no-control >"$W/busy.out" 2>"$W/busy.err"; then
  fail "a second proxy claimed a busy key"
else
  grep -q "is busy" "$W/busy.err" && pass "a second proxy: $(tail -1 "$W/busy.err")" || { fail "busy: unclear error"; show "$W/busy.err"; }
fi

stop "$proxyd"; rc=$?; proxyd=
[ "$rc" = 0 ] && pass "proxy B exited 0 on SIGTERM" || fail "proxy B exited $rc"
wait_no_hidraw 1209 7a01 10 && pass "proxy B's node went away" || fail "proxy B's node is still there"
if dev=$(wait_hidraw 1050 0407 20); then pass "key A is back with usbhid after the proxy released it ($dev)"; else
  fail "usbhid did not get key A back"; fi

# ------------------------------------------------------------------ record, then replay without a key
if start_proxy b2 --no-control --trace "$W/session.jsonl"; then
  devB=$(wait_hidraw 1209 7a01 30)
  timeout 20 fido2-token -I "$devB" >"$W/rec-info.log" 2>&1 && flow "$devB" rec && pass "session recorded through the proxy" ||
    { fail "recording session failed"; show "$W/m-rec.log"; }
  stop "$proxyd" >/dev/null; proxyd=
  wait_no_hidraw 1209 7a01 10
else
  fail "proxy B2 did not start"
fi
"$VAUTHD" --replay "$W/session.jsonl" --transport uhid --store ephemeral --no-control >"$W/c.out" 2>"$W/c.err" &
proxyd=$!
if wait_ready "$proxyd" "$W/c.out" && devC=$(wait_hidraw 1209 7a01 30); then
  pass "replay C ready on $devC"
  if timeout 20 fido2-token -I "$devC" >"$W/rep-info.log" 2>&1 && cmp -s <(sed "s|$devC|DEV|" "$W/rep-info.log") <(sed "s|$devB|DEV|" "$W/rec-info.log"); then
    pass "replayed fido2-token -I prints what the recording printed"
  else
    fail "replayed fido2-token -I differs"; diff "$W/rec-info.log" "$W/rep-info.log" | sed 's/^/    | /'
  fi
  if flow "$devC" rep && cmp -s "$W/cred-rec.out" "$W/cred-rep.out" && cmp -s "$W/assert-rec.out" "$W/assert-rep.out"; then
    pass "replayed credential and assertion are byte for byte the recorded ones, and verify"
  else
    fail "replayed flow differs"; show "$W/m-rep.log"
  fi
  stop "$proxyd" >/dev/null; proxyd=
else
  fail "replay C did not start"
fi

# ------------------------------------------------------------------ clear errors
kill -TERM "$keyd"; wait "$keyd"; keyd=
p=$(attached_port); [ -n "$p" ] && timeout 60 usbip detach -p "$p" >/dev/null 2>&1
wait_no_hidraw 1050 0407 20
if timeout 20 "$VAUTHD" --proxy usb:1050:0407 --transport uhid --no-control --store ephemeral >/dev/null 2>"$W/absent.err"; then
  fail "a proxy started without its key"
else
  grep -q "no USB device 1050:0407 is plugged in" "$W/absent.err" && pass "absent key: $(tail -1 "$W/absent.err")" ||
    { fail "absent key: unclear error"; show "$W/absent.err"; }
fi
finish
