#!/usr/bin/python3
"""Every fault action of docs/faults.md, observed by a real client (python-fido2
0.9.1 over vauthd's USB/IP server): the error it raises, the timeout it runs
into, the stale reply it reads, the signature or certificate chain that fails to
verify. Each check ends with the key answering a normal request. The match
options (nth, times, cid, sub, ext, after/until) are checked the same way.
fault_injection_test.py covers the fault API itself (--fault, vauthctl,
events, bad rules) and the actions it already proves.

Usage: /usr/bin/python3 fault_actions_test.py /path/to/vauthd /path/to/vauthctl
"""

import hashlib
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_http import EventStream  # noqa: E402
from fault_injection_test import CDH, ES256, FAULTS, RP, Daemon, check, ctap_error, drain  # noqa: E402
from test_usbip_python_fido2 import VID, PID, UsbipHidConnection, attach  # noqa: E402
from usbip_client import UsbipError  # noqa: E402
from vauthd_process import run_suite  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from fido2.attestation.base import InvalidSignature as ChainBroken, verify_x509_chain  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap1 import ApduError, Ctap1  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402
from fido2.hid import CtapHidDevice  # noqa: E402
from fido2.hid.base import HidDescriptor  # noqa: E402

KEEPALIVE = 0x80 | 0x3B
UP, UV = 0x01, 0x04
# The daemon's timers count whole milliseconds: a wait may end up to 1 ms early.
SLACK = 0.005


class WatchedConnection(UsbipHidConnection):
    """python-fido2's view of the device, with a read timeout short enough to
    observe a missing answer, and a log of every report it read."""

    def __init__(self, client, timeout):
        super().__init__(client)
        self.timeout = timeout
        self.reports = []

    def read_packet(self):
        report = self.client.interrupt_in(timeout=self.timeout)
        self.reports.append(report)
        return report

    def keepalives(self):
        return sum(1 for r in self.reports if r[4] == KEEPALIVE)


class Key:
    def __init__(self, daemon, timeout=10):
        self.usbip = attach(daemon)
        self.usbip.enumerate()
        self.conn = WatchedConnection(self.usbip, timeout)
        self.dev = CtapHidDevice(HidDescriptor("usbip://1-1", VID, PID, 64, 64), self.conn)
        self.ctap = Ctap2(self.dev)

    def channel(self):
        """Another CTAPHID channel on the same device (CTAPHID_INIT again)."""
        return CtapHidDevice(HidDescriptor("usbip://1-1", VID, PID, 64, 64), self.conn)

    def make(self, user=b"alice", rk=False, **kw):
        return self.ctap.make_credential(CDH, RP, {"id": user, "name": user.decode(), "displayName": "A"}, ES256,
                                         options={"rk": True} if rk else None, **kw)

    def assertion(self, cred, **kw):
        cd = cred.auth_data.credential_data
        return self.ctap.get_assertion(RP["id"], CDH, [{"type": "public-key", "id": cd.credential_id}], **kw)

    def healthy(self):
        cred = self.make(b"healthy")
        self.assertion(cred).verify(CDH, cred.auth_data.credential_data.public_key)
        return cred

    def close(self):
        self.usbip.close()


def raises(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except Exception as e:  # noqa: BLE001 - python-fido2 raises plain Exception for framing errors
        return e
    raise AssertionError("%s succeeded despite the fault" % getattr(fn, "__name__", fn))


def with_key(daemon, body, timeout=10):
    key = Key(daemon, timeout)
    try:
        body(key)
        drain(key.usbip)
        key.healthy()
    finally:
        key.close()
        daemon.clear()


def presence(daemon, **body):
    status, reply = daemon.api.call("PUT", "/v1/devices/1/presence", body)
    check(status == 200, reply)


# ---------------------------------------------------------------- ctaphid

def test_ctaphid_drop(daemon):
    def body(key):
        daemon.add("ctaphid:ping:drop,times=1")
        check(isinstance(raises(key.dev.ping, b"lost"), TimeoutError), "a dropped answer is a timeout")
        check(key.dev.ping(b"next") == b"next", "the next ping")
        # drop=1: continuation 0 is missing, python-fido2 reads continuation 1 next.
        daemon.add("ctaphid:cbor:drop=1,times=1")
        e = raises(key.ctap.get_info)
        check("Wrong sequence number" in str(e), repr(e))
        # drop=0: the init packet is missing, a continuation arrives first.
        drain(key.usbip)
        daemon.add("ctaphid:cbor:drop=0,times=1")
        e = raises(key.ctap.get_info)
        check(isinstance(e, CtapError) and e.code == CtapError.ERR.INVALID_COMMAND, repr(e))
    with_key(daemon, body, timeout=1.5)


def test_ctaphid_duplicate_reads_stale_answers(daemon):
    def body(key):
        daemon.add("ctaphid:ping:duplicate,times=1")
        check(key.dev.ping(b"first") == b"first", "the first answer")
        check(key.dev.ping(b"second") == b"first", "the duplicate is read as the next answer")
    with_key(daemon, body)


def test_ctaphid_reorder_corrupt_truncate(daemon):
    def body(key):
        daemon.add("ctaphid:cbor:reorder,times=1")
        e = raises(key.ctap.get_info)  # getInfo takes several continuations
        check("Wrong sequence number" in str(e), repr(e))
        drain(key.usbip)
        daemon.add("ctaphid:ping:corrupt,times=1")
        check(key.dev.ping(b"abcd") == b"abc" + bytes([ord("d") ^ 0xFF]), "the last byte inverted")
        daemon.add("ctaphid:ping:corrupt=1,times=1")
        check(key.dev.ping(b"abcd") == b"a" + bytes([ord("b") ^ 0xFF]) + b"cd", "byte 1 inverted")
        daemon.add("ctaphid:ping:truncate=3,times=1")
        check(key.dev.ping(b"x" * 100) == b"xxx", "BCNT cut to 3")
        daemon.add("ctaphid:cbor:truncate,times=1")
        e = raises(key.ctap.get_info)
        check(not isinstance(e, CtapError), "a short CBOR message fails to decode: %r" % e)
    with_key(daemon, body)


def test_ctaphid_delay_and_pace(daemon):
    def body(key):
        daemon.add("ctaphid:ping:delay=400,times=1")
        start = time.monotonic()
        check(key.dev.ping(b"slow") == b"slow", "a delayed answer")
        took = time.monotonic() - start
        check(took >= 0.4 - SLACK, "delay=400 answered in %.3f s" % took)
        # pace: each of getInfo's packets 100 ms after the one before.
        daemon.add("ctaphid:cbor:pace=100,times=1")
        before = len(key.conn.reports)
        start = time.monotonic()
        check("FIDO_2_0" in key.ctap.get_info().versions, "paced getInfo")
        took = time.monotonic() - start
        packets = len(key.conn.reports) - before
        check(packets >= 3 and took >= 0.1 * packets - SLACK, "%d packets in %.3f s" % (packets, took))
    with_key(daemon, body)


def test_ctaphid_keepalives_dropped_and_flooded(daemon):
    cred = {}

    def body(key):
        cred["c"] = key.make()
        presence(daemon, mode="auto", delay_ms=450)
        seen = []
        key.assertion(cred["c"], on_keepalive=seen.append)
        normal = key.conn.keepalives()
        check(normal >= 3 and seen, "normally ~4 keepalives in 450 ms, saw %d" % normal)
        daemon.add("ctaphid:keepalive:drop")
        seen = []
        key.assertion(cred["c"], on_keepalive=seen.append)
        check(key.conn.keepalives() == normal and not seen, "keepalives while dropped")
        daemon.clear()
        daemon.add("ctaphid:keepalive:duplicate=20")
        key.assertion(cred["c"])
        flood = key.conn.keepalives() - normal
        check(flood >= 10 * normal, "a flood: %d keepalives, normally %d" % (flood, normal))
        presence(daemon, mode="auto", delay_ms=0)
    with_key(daemon, body)


# ---------------------------------------------------------------- ctap / u2f

def test_ctap_stall_until_cancel(daemon):
    def body(key):
        daemon.add("ctap:makeCredential:stall,times=1")
        cancel = threading.Event()
        threading.Timer(0.6, cancel.set).start()
        start = time.monotonic()
        e = raises(key.make, event=cancel)
        took = time.monotonic() - start
        check(isinstance(e, CtapError) and e.code == CtapError.ERR.KEEPALIVE_CANCEL, repr(e))
        check(took >= 0.6 - SLACK and key.conn.keepalives() >= 4, "stalled %.2f s, %d keepalives"
              % (took, key.conn.keepalives()))
    with_key(daemon, body)


def test_ctap_delay_is_slow_crypto(daemon):
    def body(key):
        daemon.add("ctap:makeCredential:delay=500,times=1")
        statuses = []
        start = time.monotonic()
        key.make(on_keepalive=statuses.append)
        took = time.monotonic() - start
        check(took >= 0.5 - SLACK, "answered in %.3f s" % took)
        check(key.conn.keepalives() >= 3 and statuses, "keepalives while slow: %d" % key.conn.keepalives())
    with_key(daemon, body)


def test_ctap_authdata_flags_and_counters(daemon):
    def body(key):
        cred = key.make()
        pub = cred.auth_data.credential_data.public_key
        a = key.assertion(cred)
        check(a.auth_data.flags & UP and not a.auth_data.flags & UV, "normal flags %#x" % a.auth_data.flags)
        last = a.auth_data.counter
        daemon.add("ctap:getAssertion:flip-up,times=1")
        a = key.assertion(cred)
        a.verify(CDH, pub)
        check(not a.auth_data.flags & UP, "UP still set")
        daemon.add("ctap:getAssertion:flip-uv,times=1")
        a = key.assertion(cred)
        a.verify(CDH, pub)
        check(a.auth_data.flags & UV and a.auth_data.flags & UP, "UV not set: %#x" % a.auth_data.flags)
        last = a.auth_data.counter
        daemon.add("ctap:getAssertion:counter-freeze,times=1")
        a = key.assertion(cred)
        a.verify(CDH, pub)
        check(a.auth_data.counter == last, "counter %d after %d" % (a.auth_data.counter, last))
        daemon.add("ctap:makeCredential:flip-up,times=1")
        att = key.make(b"bob")
        check(not att.auth_data.flags & UP, "makeCredential UP still set")
    with_key(daemon, body)


def test_ctap_extra_extension(daemon):
    def body(key):
        cred = key.make()
        daemon.add("ctap:getAssertion:extra-extension,times=1")
        a = key.assertion(cred)
        a.verify(CDH, cred.auth_data.credential_data.public_key)
        check(a.auth_data.flags & 0x80 and a.auth_data.extensions, "no extension output: %r" % a.auth_data.extensions)
        check("credProtect" in a.auth_data.extensions, a.auth_data.extensions)
        daemon.add("ctap:makeCredential:extra-extension,times=1")
        att = key.make(b"bob")
        check(att.auth_data.extensions.get("hmac-secret") is True, att.auth_data.extensions)
    with_key(daemon, body)


def test_ctap_broken_responses(daemon):
    def body(key):
        daemon.add("ctap:getInfo:malformed-cbor,times=1")
        e = raises(key.ctap.get_info)
        check(not isinstance(e, CtapError), "malformed CBOR decoded? %r" % e)
        daemon.add("ctap:getInfo:noncanonical-cbor,times=1")
        e = raises(key.ctap.get_info)
        check("Non-canonical CBOR" in str(e), repr(e))
        daemon.add("ctap:makeCredential:missing-field,times=1")
        e = raises(key.make)
        check(not isinstance(e, CtapError), repr(e))
        raw = key.ctap.send_cbor(Ctap2.CMD.GET_INFO)
        check(1 in raw, "getInfo versions present again")
        daemon.add("ctap:getInfo:missing-field,times=1")
        check(1 not in key.ctap.send_cbor(Ctap2.CMD.GET_INFO), "versions (key 1) not left out")
    with_key(daemon, body)


def test_ctap_broken_chain(daemon):
    with open(daemon.ca_path, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)

    def body(key):
        att = key.make()
        verify_x509_chain(att.att_statement["x5c"] + [ca])  # the normal chain verifies
        daemon.add("ctap:makeCredential:broken-chain,times=1")
        att = key.make(b"bob")
        check(isinstance(raises(verify_x509_chain, att.att_statement["x5c"] + [ca]), ChainBroken), "chain verified")
        # The leaf's key still signs: only the chain is broken.
        leaf = x509.load_der_x509_certificate(att.att_statement["x5c"][0])
        leaf.public_key().verify(att.att_statement["sig"], bytes(att.auth_data) + CDH, ec.ECDSA(hashes.SHA256()))
    with_key(daemon, body)


def test_u2f_faults(daemon):
    app = hashlib.sha256(b"https://example.org").digest()

    def body(key):
        ctap1 = Ctap1(key.dev)
        daemon.add("u2f:u2fRegister:status=0x6985,times=1")
        e = raises(ctap1.register, CDH, app)
        check(isinstance(e, ApduError) and e.code == 0x6985, repr(e))
        reg = ctap1.register(CDH, app)
        reg.verify(app, CDH)
        daemon.add("u2f:u2fAuthenticate:bad-signature,times=1")
        sig = ctap1.authenticate(CDH, app, reg.key_handle)
        check(isinstance(raises(sig.verify, app, CDH, reg.public_key), InvalidSignature), "U2F signature verified")
        ctap1.authenticate(CDH, app, reg.key_handle).verify(app, CDH, reg.public_key)
    with_key(daemon, body)


# ---------------------------------------------------------------- presence / store

def test_presence_timeout_approve_two_touches(daemon):
    events = EventStream(daemon.socket)

    def body(key):
        daemon.add("presence:makeCredential:timeout=300,times=1")
        start = time.monotonic()
        check(ctap_error(key.make) == CtapError.ERR.USER_ACTION_TIMEOUT, "USER_ACTION_TIMEOUT")
        check(time.monotonic() - start >= 0.3 - SLACK, "timed out too early")
        # approve=MS touches the key even in manual mode.
        presence(daemon, mode="manual")
        daemon.add("presence:makeCredential:approve=300,times=1")
        start = time.monotonic()
        key.make(b"bob")
        check(time.monotonic() - start >= 0.3 - SLACK, "approved too early")
        presence(daemon, mode="auto")
        daemon.add("presence:makeCredential:two-touches,times=1")
        key.make(b"carol")
        # Events arrive on their own connection: wait for the second prompt's result.
        events.wait_for(lambda e: e["type"] == "presence.result" and
                        len([p for p in events.seen if p["type"] == "presence.prompt"]) >= 2)
        prompts = [e for e in events.events() if e["type"] == "presence.prompt"]
        check(len(prompts) >= 2 and prompts[-1]["id"] != prompts[-2]["id"], prompts[-2:])
    try:
        with_key(daemon, body)
    finally:
        presence(daemon, mode="auto")
        events.close()


def test_store_read_only(daemon):
    def body(key):
        cred = key.make()
        first = key.assertion(cred).auth_data.counter
        before = daemon.api.get("/v1/devices/1")["signCount"]
        daemon.add("store:SetSignCount:read-only,times=1")
        check(ctap_error(key.assertion, cred) == CtapError.ERR.OTHER, "CTAP1_ERR_OTHER on EROFS")
        check(daemon.api.get("/v1/devices/1")["signCount"] == before, "the counter moved on a failed commit")
        check(key.assertion(cred).auth_data.counter == first + 1, "the next counter")
    with_key(daemon, body)


# ---------------------------------------------------------------- device

def test_device_reboot(daemon):
    events = EventStream(daemon.socket)
    key = Key(daemon, timeout=1.5)
    try:
        key.make()
        daemon.add("device:makeCredential:reboot,times=1")
        check(isinstance(raises(key.make, b"bob"), TimeoutError), "a rebooted key answers nothing")
        events.wait_for(lambda e: e["type"] == "device.power-cycle")
        # The old channel is gone with the reboot: a client that opens a new one goes on.
        check(isinstance(raises(key.dev.ping, b"old channel"), CtapError), "the old channel still works")
    finally:
        key.close()
        events.close()
    with_key(daemon, lambda key: None)


def test_device_unplug_is_real(daemon):
    events = EventStream(daemon.socket)
    key = Key(daemon)
    try:
        before = daemon.api.get("/v1/devices/1")["credentialCount"]
        key.make(b"kept", rk=True)
        daemon.add("device:makeCredential:unplug=1500,times=1")
        e = raises(key.make, b"bob")
        check(isinstance(e, UsbipError) and "closed" in str(e), "the host sees a disconnect: %r" % e)
        events.wait_for(lambda e: e["type"] == "fault.unplugged")
        events.wait_for(lambda e: e["type"] == "device.unplugged")
        check(isinstance(raises(attach, daemon), UsbipError), "an unplugged key was importable")
        check(not daemon.api.get("/v1/devices/1")["ready"], "the control API says it is plugged in")
        events.wait_for(lambda e: e["type"] == "fault.replugged", timeout=5)
        events.wait_for(lambda e: e["type"] == "device.ready")
    finally:
        key.close()
        events.close()
    check(daemon.api.get("/v1/devices/1")["credentialCount"] == before + 1, "stored state lost on unplug")
    with_key(daemon, lambda key: None)


def test_device_power_cycle_reopens_reset_window(daemon):
    # A key whose reset window (1 s) has closed: a power-cycle fault opens it again.
    d = Daemon(daemon.vauthd, daemon.vauthctl, fault=None, extra=["--reset-window", "1"])
    try:
        key = Key(d)
        try:
            cred = key.make(b"kept", rk=True)
            time.sleep(1.2)
            check(ctap_error(key.ctap.reset) == CtapError.ERR.NOT_ALLOWED, "reset after the window")
            d.add("device:getInfo:power-cycle,times=1")
            key.ctap.get_info()  # answered, then the key power-cycles
        finally:
            key.close()
        key = Key(d)
        try:
            key.assertion(cred)  # stored state survives a power cycle
            key.ctap.reset()
            check(ctap_error(key.assertion, cred) == CtapError.ERR.NO_CREDENTIALS, "reset did not reset")
        finally:
            key.close()
    finally:
        d.stop()


# ---------------------------------------------------------------- match options

def test_match_nth_times_window(daemon):
    def body(key):
        daemon.add("ctap:getInfo:status=OTHER,nth=2")
        key.ctap.get_info()
        check(ctap_error(key.ctap.get_info) == CtapError.ERR.OTHER, "the 2nd call")
        key.ctap.get_info()
        daemon.clear()
        daemon.add("ctap:getInfo:status=OTHER,times=2")
        check(ctap_error(key.ctap.get_info) == CtapError.ERR.OTHER, "1st of 2")
        check(ctap_error(key.ctap.get_info) == CtapError.ERR.OTHER, "2nd of 2")
        key.ctap.get_info()
        daemon.clear()
        daemon.add("ctap:getInfo:status=OTHER,after=400,until=900")
        key.ctap.get_info()  # before the window
        time.sleep(0.5)
        check(ctap_error(key.ctap.get_info) == CtapError.ERR.OTHER, "inside the window")
        time.sleep(0.5)
        key.ctap.get_info()  # after it
        listed = daemon.api.get(FAULTS)
        # Only calls inside the window match: the ones before and after are not counted.
        check(listed[0]["matched"] == 1 and listed[0]["fired"] == 1, listed)
    with_key(daemon, body)


def test_match_channel_subcommand_extension(daemon):
    def body(key):
        other = key.channel()
        cid = key.dev._channel_id
        daemon.add("ctaphid:ping:error=CHANNEL_BUSY,cid=%#x" % cid)
        e = raises(key.dev.ping, b"x")
        check(isinstance(e, CtapError) and e.code == CtapError.ERR.CHANNEL_BUSY, repr(e))
        check(other.ping(b"y") == b"y", "another channel is not matched")
        daemon.clear()
        pin = ClientPin(key.ctap)
        daemon.add("ctap:clientPIN:status=PIN_BLOCKED,sub=1")  # getPINRetries only
        check(ctap_error(pin.get_pin_retries) == CtapError.ERR.PIN_BLOCKED, "getPINRetries")
        pin._get_shared_secret()  # getKeyAgreement (2) is not matched
        daemon.clear()
        daemon.add("ctap:makeCredential:status=UNSUPPORTED_EXTENSION,ext=hmac-secret")
        e = raises(key.make, b"bob", extensions={"hmac-secret": True})
        check(isinstance(e, CtapError) and e.code == CtapError.ERR.UNSUPPORTED_EXTENSION, repr(e))
        key.make(b"bob")
    with_key(daemon, body)


def test_probability_same_seed_across_daemons(daemon):
    # The same plan in a second daemon fires exactly as in the first.
    def pattern(d):
        d.add("ctap:getInfo:status=OTHER,p=0.3,seed=42")
        key = Key(d)
        out = []
        try:
            for _ in range(30):
                try:
                    key.ctap.get_info()
                    out.append(".")
                except CtapError:
                    out.append("x")
        finally:
            key.close()
            d.clear()
        return "".join(out)

    first = pattern(daemon)
    second_daemon = Daemon(daemon.vauthd, daemon.vauthctl, fault=None)
    try:
        second = pattern(second_daemon)
    finally:
        second_daemon.stop()
    print("p=0.3 seed=42:", first)
    check(first == second, "two daemons: %s vs %s" % (first, second))
    check(0 < first.count("x") < 30, first)


TESTS = [test_ctaphid_drop, test_ctaphid_duplicate_reads_stale_answers, test_ctaphid_reorder_corrupt_truncate,
         test_ctaphid_delay_and_pace, test_ctaphid_keepalives_dropped_and_flooded, test_ctap_stall_until_cancel,
         test_ctap_delay_is_slow_crypto, test_ctap_authdata_flags_and_counters, test_ctap_extra_extension,
         test_ctap_broken_responses, test_ctap_broken_chain, test_u2f_faults, test_presence_timeout_approve_two_touches,
         test_store_read_only, test_device_reboot, test_device_unplug_is_real,
         test_device_power_cycle_reopens_reset_window, test_match_nth_times_window,
         test_match_channel_subcommand_extension, test_probability_same_seed_across_daemons]


def back_to_normal(daemon):
    """After a failed check: no fault rules left and presence answering at once,
    so the next check starts from a key that behaves."""
    daemon.clear()
    presence(daemon, mode="auto", delay_ms=0)


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    only = argv[3:]
    tests = [t for t in TESTS if not only or t.__name__ in only]
    return run_suite(tests, Daemon(argv[1], argv[2], fault=None, export_ca=True), after_failure=back_to_normal)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
