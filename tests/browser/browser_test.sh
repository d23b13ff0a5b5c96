#!/bin/bash
# browser_test.sh - one browser scenario (tests/browser/passkey_flow.mjs) in
# Debian's Chromium against the test relying party, with vauth as the key.
#
#   browser_test.sh --vauth-run VAUTH   SCENARIO [KEY OPTIONS...]
#       SCENARIO: one of scenarios.mjs's (Chromium through passkey_flow.mjs),
#       "firefox-NAME" (Firefox ESR through firefox_flow.mjs, dialog-free
#       scenarios only), or "selenium" (selenium_flow.py)
#       the kernel-free route: `VAUTH run KEY OPTIONS -- node passkey_flow.mjs`
#   browser_test.sh --uhid VAUTHD       SCENARIO [KEY OPTIONS...]
#       a real kernel (the e2e VM): `VAUTHD --transport uhid KEY OPTIONS &`
#
# Screenshots go to $BROWSER_ARTIFACTS (default: ./browser-artifacts).
# The key gets a private control socket (VAUTH_CONTROL_SOCKET for the flow, which
# runs $VAUTHCTL, default vauthctl on PATH). Scenarios that need Chromium's own
# dialogs run headed under a private Xvfb, answered with xdotool.
# Exit status: 0 all steps as expected, 1 a step failed or a tool is missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '2,/^set -uo/p' "$0" | grep '^#' >&2; exit 2; }
mode=$1 prog=$2 scenario=$3; shift 3
artifacts=${BROWSER_ARTIFACTS:-$PWD/browser-artifacts}
PY=/usr/bin/python3   # Debian's python sees python3-fido2 and flask

for t in node /usr/bin/chromium Xvfb xdotool xwd xwdtopnm pnmtopng; do command -v "$t" >/dev/null || { echo "browser_test: $t missing (scripts/deps.sh installs it)" >&2; exit 1; }; done
[ "${scenario#firefox-}" = "$scenario" ] || command -v firefox-esr >/dev/null || { echo "browser_test: firefox-esr missing (scripts/deps.sh installs it)" >&2; exit 1; }
for m in playwright-core puppeteer-core; do
  [ -d "$here/node_modules/$m" ] || { echo "browser_test: $m missing: run npm ci in $here (scripts/deps.sh does)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/vauth-browser.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

wait_for() {  # wait_for FILE PATTERN SECONDS
  for _ in $(seq $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

"$PY" "$here/rp_server.py" --port 0 >"$work/rp.log" 2>&1 &
pids+=($!)
wait_for "$work/rp.log" "listening on" 20 || { cat "$work/rp.log"; echo "browser_test: the RP did not start" >&2; exit 1; }
rp=$(grep -o 'http://[^ ]*' "$work/rp.log")

export VAUTH_CONTROL_SOCKET="$work/control.sock"
# A fixed screen size keeps Chromium's window and dialog where the flow expects them.
if [ "$scenario" = selenium ]; then   # the simple flow through Selenium 4 + chromedriver instead of Playwright
  flow=("$PY" "$here/selenium_flow.py" "$rp")
elif [ "${scenario#firefox-}" != "$scenario" ]; then   # headless Firefox ESR: no X display needed
  flow=(node "$here/firefox_flow.mjs" --rp "$rp" --scenario "${scenario#firefox-}" --artifacts "$artifacts" --step-timeout "${BROWSER_STEP_TIMEOUT_MS:-60000}")
else
  # Our own Xvfb, which picks a free display itself (-displayfd): `xvfb-run -a`
  # guesses one from lock files, and parallel ctest jobs raced for the same one.
  Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
  pids+=($!)
  wait_for "$work/display" "[0-9]" 30 || { cat "$work/xvfb.log"; echo "browser_test: Xvfb did not start" >&2; exit 1; }
  export DISPLAY=":$(tr -dc 0-9 <"$work/display")"
  flow=(node "$here/passkey_flow.mjs" --rp "$rp" --scenario "$scenario" --artifacts "$artifacts" --step-timeout "${BROWSER_STEP_TIMEOUT_MS:-60000}")
fi
started=$(date +%s.%N)
case "$mode" in
  --vauth-run)
    "$prog" run --control-socket "$VAUTH_CONTROL_SOCKET" "$@" -- "${flow[@]}"
    status=$?
    ;;
  --uhid)
    "$prog" --transport uhid --store ephemeral --control-socket "$VAUTH_CONTROL_SOCKET" "$@" >"$work/vauthd.out" 2>"$work/vauthd.err" &
    pids+=($!)
    wait_for "$work/vauthd.out" "ready" 60 || { cat "$work/vauthd.err"; echo "browser_test: vauthd not ready" >&2; exit 1; }
    "${flow[@]}"
    status=$?
    ;;
  *) echo "browser_test: unknown mode $mode" >&2; exit 2 ;;
esac
echo "browser_test: scenario $scenario via ${mode#--}: exit $status in $(echo "$(date +%s.%N) - $started" | bc) s"
[ "$status" -eq 0 ] || { echo "---- rp log ----"; cat "$work/rp.log"; [ -f "$work/vauthd.err" ] && { echo "---- vauthd ----"; cat "$work/vauthd.err"; }; }
exit "$status"
