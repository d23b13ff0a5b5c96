#!/usr/bin/python3
"""vauthd --reset-window: authenticatorReset only within the window after power-up.

Usage: /usr/bin/python3 reset_window_test.py /path/to/vauthd

python-fido2 (Debian's) sends authenticatorReset over vauthd's USB/IP server
(user-space client, no kernel). Checks: a reset inside the window succeeds;
after it, CTAP2_ERR_NOT_ALLOWED and nothing is wiped; a power cycle through the
control API opens a new window; `off` allows a reset at any time; the default
window is 10 s; bad values are refused at start.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_usbip_python_fido2 import Daemon, attach, check, open_fido  # noqa: E402
from vauthd_process import VauthdProcess  # noqa: E402

from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402

RP = {"id": "example.org", "name": "Example"}
ES256 = [{"type": "public-key", "alg": -7}]


def start(vauthd, *extra):
    return Daemon(vauthd, 5, store_args=("--store", "ephemeral", *extra))


def reset(daemon):
    """authenticatorReset on a fresh import; returns None or the CTAP error code."""
    with attach(daemon) as c:
        c.enumerate()
        ctap = Ctap2(open_fido(c))
        try:
            ctap.reset()
            return None
        except CtapError as e:
            return e.code


def make_resident(daemon):
    with attach(daemon) as c:
        c.enumerate()
        ctap = Ctap2(open_fido(c))
        user = {"id": b"window-user", "name": "w"}
        ctap.make_credential(hashlib.sha256(b"mc").digest(), RP, user, ES256, options={"rk": True})


def assertion_count(daemon):
    with attach(daemon) as c:
        c.enumerate()
        ctap = Ctap2(open_fido(c))
        try:
            return ctap.get_assertion("example.org", hashlib.sha256(b"ga").digest()).number_of_credentials or 1
        except CtapError as e:
            check(e.code == CtapError.ERR.NO_CREDENTIALS, e)
            return 0


def control_daemon(vauthd, *extra):
    """vauthd with a private control socket (Daemon passes --no-control)."""
    sock = os.path.join(tempfile.mkdtemp(prefix="vauth-reset-window-"), "c.sock")
    d = VauthdProcess()
    d.start([vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--seed", "5", "--store", "ephemeral",
             "--control-socket", sock, *extra], sock)
    return d, d.api


def test_window_closes_and_power_cycle_reopens(vauthd):
    d, api = control_daemon(vauthd, "--reset-window", "3")
    try:
        status, _ = api.call("POST", "/v1/devices/1/power-cycle")  # the window starts now
        check(status == 200, status)
        check(reset(d) is None, "a reset inside the window was refused")
        make_resident(d)
        time.sleep(3.5)
        code = reset(d)
        check(code == CtapError.ERR.NOT_ALLOWED, "reset 3.5 s after power-up: %r, wanted NOT_ALLOWED" % code)
        check(assertion_count(d) == 1, "a refused reset wiped the credential")
        status, _ = api.call("POST", "/v1/devices/1/power-cycle")
        check(status == 200, status)
        check(reset(d) is None, "a reset right after a power cycle was refused")
        check(assertion_count(d) == 0, "the reset did not wipe the credential")
    finally:
        d.stop()


def test_off_allows_any_time(vauthd):
    d = start(vauthd, "--reset-window", "off")
    try:
        time.sleep(2.5)
        check(reset(d) is None, "--reset-window off refused a reset")
    finally:
        d.stop()


def test_default_is_ten_seconds(vauthd):
    d = start(vauthd)
    try:
        started = time.monotonic()
        check(reset(d) is None, "the default window refused a reset right after start")
        time.sleep(max(0.0, 10.5 - (time.monotonic() - started)))
        code = reset(d)
        check(code == CtapError.ERR.NOT_ALLOWED, "reset after 10.5 s: %r, wanted NOT_ALLOWED" % code)
    finally:
        d.stop()


def test_bad_values_refused(vauthd):
    for value in ("0", "-1", "ten", "3601", "1.5", ""):
        r = subprocess.run([vauthd, "--transport", "usbip", "--no-control", "--store", "ephemeral",
                            "--reset-window", value], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "--reset-window" in r.stderr, (value, r.returncode, r.stderr))


TESTS = [test_bad_values_refused, test_window_closes_and_power_cycle_reopens, test_off_allows_any_time,
         test_default_is_ten_seconds]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    failures = 0
    for test in TESTS:
        begun = time.monotonic()
        try:
            test(argv[1])
            print("PASS %s (%.2f s)" % (test.__name__, time.monotonic() - begun))
        except Exception:  # noqa: BLE001 - report every failure, then go on
            failures += 1
            print("FAIL %s" % test.__name__)
            traceback.print_exc(file=sys.stdout)
    print("%d of %d failed" % (failures, len(TESTS)) if failures else "ALL PASSED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
