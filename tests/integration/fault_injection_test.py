#!/usr/bin/python3
"""Fault injection observed by a real client: python-fido2 over vauthd's USB/IP
server, faults set on the command line (--fault), through the control API
(POST /v1/devices/1/faults) and vauthctl, and every fired fault seen as a
`fault.fired` event. After each fault the key must still answer a normal
request.

Usage: /usr/bin/python3 fault_injection_test.py /path/to/vauthd /path/to/vauthctl
"""

import hashlib
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_http import EventStream  # noqa: E402
from vauthd_process import VauthdProcess, run_suite  # noqa: E402
from test_usbip_python_fido2 import attach, open_fido  # noqa: E402

from cryptography.exceptions import InvalidSignature  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402

RP = {"id": "example.org", "name": "Example"}
ES256 = [{"type": "public-key", "alg": -7}]
CDH = hashlib.sha256(b"client data").digest()
FAULTS = "/v1/devices/1/faults"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Daemon(VauthdProcess):
    # `fault`: a --fault rule to start with; `export_ca`: write the attestation CA to self.ca_path.
    def __init__(self, vauthd, vauthctl, fault="ctap:makeCredential:status=KEY_STORE_FULL,times=1",
                 export_ca=False, extra=()):
        self.dir = tempfile.mkdtemp(prefix="vauth-faults-")
        self.socket = os.path.join(self.dir, "c.sock")
        self.ca_path = os.path.join(self.dir, "ca.pem")
        self.vauthd = vauthd
        args = [vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--control-socket", self.socket,
                "--seed", "1", "--store", "ephemeral", *extra]
        if fault:
            args += ["--fault", fault]
        if export_ca:
            args += ["--export-attestation-ca", self.ca_path]
        self.start(args, self.socket, vauthctl)

    def add(self, rule):
        status, body = self.api.call("POST", FAULTS, {"rule": rule})
        check(status == 201, (rule, status, body))
        return body["id"]

    def clear(self):
        status, _ = self.api.call("DELETE", FAULTS)
        check(status == 200, "DELETE faults")

    def stop(self):
        status = super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return status


class Key:
    """python-fido2 on the imported device, reopened per test."""

    def __init__(self, daemon):
        self.usbip = attach(daemon)
        self.usbip.enumerate()
        self.dev = open_fido(self.usbip)
        self.ctap = Ctap2(self.dev)

    def make(self, user=b"alice", rk=False):
        return self.ctap.make_credential(CDH, RP, {"id": user, "name": user.decode()}, ES256,
                                         options={"rk": True} if rk else None)

    def assertion(self, cred):
        cd = cred.auth_data.credential_data
        return self.ctap.get_assertion(RP["id"], CDH, [{"type": "public-key", "id": cd.credential_id}])

    def close(self):
        self.usbip.close()


def ctap_error(fn, *args):
    try:
        fn(*args)
    except CtapError as e:
        return e.code
    raise AssertionError("%s succeeded despite the fault" % fn.__name__)


def drain(usbip):
    n = 0
    while True:
        try:
            usbip.interrupt_in(timeout=0.3)
            n += 1
        except TimeoutError:
            return n


def healthy(key):
    """A normal registration and a verifying assertion."""
    cred = key.make(b"healthy")
    a = key.assertion(cred)
    a.verify(CDH, cred.auth_data.credential_data.public_key)
    return cred


# ---------------------------------------------------------------- the checks

def test_command_line_fault(daemon):
    # --fault ctap:makeCredential:status=KEY_STORE_FULL,times=1 fires on the first registration only.
    listed = daemon.api.get(FAULTS)
    check(len(listed) == 1 and listed[0]["rule"] == "ctap:makeCredential:status=KEY_STORE_FULL,times=1", listed)
    events = EventStream(daemon.socket)
    key = Key(daemon)
    try:
        check(ctap_error(key.make) == CtapError.ERR.KEY_STORE_FULL, "KEY_STORE_FULL")
        e = events.wait_for(lambda e: e["type"] == "fault.fired")
        check(e["where"] == "ctap" and e["action"] == "status" and e["command"] == "makeCredential", e)
        healthy(key)
        listed = daemon.api.get(FAULTS)
        check(listed[0]["fired"] == 1 and listed[0]["matched"] == 2, listed)
    finally:
        key.close()
        events.close()
    daemon.clear()


def test_bad_signature(daemon):
    key = Key(daemon)
    try:
        cred = key.make()
        status, body = daemon.api.call("POST", FAULTS, {"where": "ctap", "command": "getAssertion",
                                                        "action": "bad-signature", "times": 1})
        check(status == 201, body)
        a = key.assertion(cred)
        try:
            a.verify(CDH, cred.auth_data.credential_data.public_key)
        except InvalidSignature:
            pass
        else:
            raise AssertionError("the faulted assertion verified")
        key.assertion(cred).verify(CDH, cred.auth_data.credential_data.public_key)
    finally:
        key.close()
    daemon.clear()


def test_authdata_faults(daemon):
    key = Key(daemon)
    try:
        cred = key.make()
        first = key.assertion(cred).auth_data.counter
        daemon.add("ctap:getAssertion:counter-back,times=1")
        daemon.add("ctap:getAssertion:bad-rpid-hash,times=1")
        a = key.assertion(cred)
        a.verify(CDH, cred.auth_data.credential_data.public_key)  # signed as sent: the signature is fine
        check(a.auth_data.counter < first, "counter went %d -> %d" % (first, a.auth_data.counter))
        check(a.auth_data.rp_id_hash != hashlib.sha256(b"example.org").digest(), "rpIdHash unchanged")
        check(key.assertion(cred).auth_data.counter > first, "the real counter goes on")
    finally:
        key.close()
    daemon.clear()


def test_ctaphid_error_and_recovery(daemon):
    key = Key(daemon)
    try:
        daemon.add("ctaphid:cbor:error=CHANNEL_BUSY,times=1")
        check(ctap_error(key.ctap.get_info) == CtapError.ERR.CHANNEL_BUSY, "CHANNEL_BUSY")
        check("FIDO_2_0" in key.ctap.get_info().versions, "getInfo after the fault")
    finally:
        key.close()
    daemon.clear()


def test_ctaphid_framing_faults(daemon):
    # Each framing fault is caught by python-fido2's own checks; a fresh channel then works.
    for rule, message in [("ctaphid:init:init-nonce,times=1", "Wrong nonce"),
                          ("ctaphid:cbor:wrong-seq,times=1", "Wrong sequence number"),
                          ("ctaphid:cbor:wrong-cid,times=1", "Wrong channel")]:
        daemon.clear()
        usbip = attach(daemon)
        try:
            usbip.enumerate()
            daemon.add(rule)
            try:
                dev = open_fido(usbip)
                Ctap2(dev).get_info()  # long enough for continuation packets
            except Exception as e:  # noqa: BLE001 - python-fido2 raises plain Exception here
                check(message in str(e), "%s: %r" % (rule, e))
            else:
                raise AssertionError("%s went unnoticed" % rule)
            # python-fido2 gives up at the first bad packet; the rest of the faulted
            # message is still on its way. A client recovers by discarding it.
            stale = drain(usbip)
            print("%s: %d stale report(s) discarded" % (rule, stale))
            check("FIDO_2_0" in Ctap2(open_fido(usbip)).get_info().versions, "recovery after " + rule)
        finally:
            usbip.close()
    daemon.clear()


def test_presence_and_store_faults(daemon):
    key = Key(daemon)
    try:
        daemon.add("presence:makeCredential:deny,times=1")
        check(ctap_error(key.make) == CtapError.ERR.OPERATION_DENIED, "OPERATION_DENIED")
        before = daemon.api.get("/v1/devices/1/credentials")
        daemon.add("store:PutCredential:full,times=1")
        check(ctap_error(key.make, b"bob", True) == CtapError.ERR.KEY_STORE_FULL, "KEY_STORE_FULL on disk full")
        daemon.add("store:eio,times=1")
        check(ctap_error(key.make, b"bob", True) == CtapError.ERR.OTHER, "CTAP1_ERR_OTHER on EIO")
        check(daemon.api.get("/v1/devices/1/credentials") == before, "a failed commit changed the credentials")
        key.make(b"bob", True)
        check(len(daemon.api.get("/v1/devices/1/credentials")) == len(before) + 1, "the retry is stored")
        healthy(key)
    finally:
        key.close()
    daemon.clear()


def test_device_power_cycle(daemon):
    events = EventStream(daemon.socket)
    key = Key(daemon)
    try:
        daemon.add("device:getInfo:power-cycle,times=1")
        check("FIDO_2_0" in key.ctap.get_info().versions, "the request is answered before the power cycle")
        events.wait_for(lambda e: e["type"] == "device.power-cycle")
    finally:
        key.close()
        events.close()
    key = Key(daemon)  # a host re-opens the device after it went away
    try:
        healthy(key)
    finally:
        key.close()
    daemon.clear()


def test_same_seed_same_firing(daemon):
    def pattern():
        daemon.clear()
        daemon.add("ctap:getInfo:status=OTHER,p=0.5,seed=7")
        out = []
        for _ in range(24):
            try:
                key.ctap.get_info()
                out.append(False)
            except CtapError as e:
                check(e.code == CtapError.ERR.OTHER, e)
                out.append(True)
        return out

    key = Key(daemon)
    try:
        first, second = pattern(), pattern()
        print("firing:", "".join("x" if f else "." for f in first))
        check(first == second, "two runs with seed 7 differ")
        check(0 < sum(first) < 24, "p=0.5 fired %d of 24 times" % sum(first))
    finally:
        key.close()
    daemon.clear()


def test_vauthctl_and_bad_rules(daemon):
    r = daemon.ctl("fault", "add", "1", "ctap:getAssertion:status=NO_CREDENTIALS,nth=2")
    check("added fault" in r.stdout, r.stdout)
    r = daemon.ctl("fault", "list", "1")
    check("ctap:getAssertion:status=NO_CREDENTIALS,nth=2" in r.stdout and "matched 0, fired 0" in r.stdout, r.stdout)
    r = daemon.ctl("fault", "add", "1", "ctap:getAssertion:explode", expect=1)
    check("unknown action" in r.stderr, r.stderr)
    status, body = daemon.api.call("POST", FAULTS, {"where": "store", "action": "drop"})
    check(status == 400 and "no action drop" in body["detail"], body)
    status, body = daemon.api.call("DELETE", FAULTS + "/999")
    check(status == 404, body)
    r = daemon.ctl("fault", "clear", "1")
    check("cleared 1" in r.stdout, r.stdout)
    check(daemon.api.get(FAULTS) == [], "faults left after clear")


TESTS = [test_command_line_fault, test_bad_signature, test_authdata_faults, test_ctaphid_error_and_recovery,
         test_ctaphid_framing_faults, test_presence_and_store_faults, test_device_power_cycle,
         test_same_seed_same_firing, test_vauthctl_and_bad_rules]


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    return run_suite(TESTS, Daemon(argv[1], argv[2]), after_failure=Daemon.clear,
                     after_stop=lambda daemon: shutil.rmtree(daemon.dir, ignore_errors=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
