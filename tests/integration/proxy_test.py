#!/usr/bin/python3
"""vauthd --proxy end to end, with no kernel device: vauthd A emulates a key
(persona yubikey5) on a SEQPACKET socket or UDP; vauthd B proxies it
(--proxy seqpacket:... / udp:...) and offers the proxied key on its own
SEQPACKET socket; unmodified libfido2 tools reach B through `vauth run
--connect`. Checked: A's getInfo and credentials come through B; faults
injected in B (ctap status, ctaphid, device unplug; by --fault and by the
control API) reach the client and B is healthy after; while a ctap delay or
stall holds an answer, B keeps a python-fido2 client with a short read timeout
waiting with KEEPALIVE PROCESSING, and goes quiet once the answer is out; the
control API shows B's key as a proxy with its upstream, connected then lost;
--trace records the session with timings; --replay answers the same client from the recording
with the same results and refuses a request that diverges; --capture-persona
turns A's getInfo into a persona that vauthd emulates.

Usage: proxy_test.py VAUTHD VAUTH VAUTHCTL"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.hid import STATUS, CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

TIMEOUT = 120
YUBIKEY5_AAGUID = "2fc0579f811347eab116bb5a8db9202a"

# A credential and an assertion, each verified; fixed inputs so a replay sees the same requests.
FLOW = r"""
set -eu
W=$1; dev=$2; tag=$3
printf 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nexample.org\nalice\nYWxpY2UtdXNlci1pZA==\n' >"$W/cred.in"
fido2-cred -M -i "$W/cred.in" -o "$W/cred-$tag.out" "$dev" </dev/null
fido2-cred -V -i "$W/cred-$tag.out" -o "$W/cred-$tag.pub"
echo "made and verified a credential"
{ echo 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8='; echo example.org; head -1 "$W/cred-$tag.pub"; } >"$W/assert-$tag.in"
tail -n +2 "$W/cred-$tag.pub" >"$W/pub-$tag.pem"
fido2-assert -G -i "$W/assert-$tag.in" -o "$W/assert-$tag.out" "$dev" </dev/null
fido2-assert -V -i "$W/assert-$tag.out" "$W/pub-$tag.pem" es256
echo "assertion verified"
"""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Daemon:
    """A vauthd started with `args`, stopped by stop(); waits for its readiness line."""

    def __init__(self, vauthd, args, ready="vauthd: ready: device 1"):
        self.args = args
        self.proc = subprocess.Popen([vauthd] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.out.append(line)
            if ready in line:
                return
        err = self.stop()
        raise AssertionError("vauthd %s did not become ready: %s%s" % (" ".join(args), "".join(self.out), err))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()


def run(vauth, sock, program, timeout=TIMEOUT):
    started = time.monotonic()
    p = subprocess.run([vauth, "run", "--connect", sock, "--"] + program, capture_output=True, text=True,
                       timeout=timeout)
    print("$ vauth run --connect %s -- %s  -> %d (%.1f s)" % (os.path.basename(sock), " ".join(program).replace("\n", " ")[:70],
                                                              p.returncode, time.monotonic() - started))
    for line in (p.stdout + p.stderr).splitlines():
        print("    " + line)
    return p


KEEPALIVE = 0x80 | 0x3b


class SeqpacketConnection(CtapHidConnection):
    """python-fido2 on a vauthd SEQPACKET socket (one 64-byte report per packet),
    with a read timeout as short as an impatient client's, and a log of every
    report it read."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(path)
        self.sock.settimeout(timeout)
        self.reports = []

    def write_packet(self, data):
        self.sock.send(bytes(data))

    def read_packet(self):
        report = self.sock.recv(64)  # socket.timeout when nothing comes in time
        self.reports.append(report)
        return report

    def close(self):
        self.sock.close()

    def keepalives(self):
        return [r[7] for r in self.reports if r[4] == KEEPALIVE]

    def silent_for(self, seconds):
        """True when nothing at all arrives for `seconds`."""
        self.sock.settimeout(seconds)
        try:
            self.sock.recv(64)
            return False
        except socket.timeout:
            return True


def key_a(vauthd, tmp, extra=()):
    return Daemon(vauthd, ["--transport", "seqpacket", "--seqpacket-dir", os.path.join(tmp, "a"), "--store",
                           "ephemeral", "--no-control", "--persona", "yubikey5"] + list(extra))


def proxy_b(vauthd, tmp, upstream, extra=()):
    d = Daemon(vauthd, ["--proxy", upstream, "--transport", "seqpacket", "--seqpacket-dir",
                        os.path.join(tmp, "b"), "--store", "ephemeral", "--no-control"] + list(extra))
    return d, os.path.join(tmp, "b", "device-1.sock")


def a_sock(tmp):
    return "seqpacket:" + os.path.join(tmp, "a", "device-1.sock")


def test_proxied_key_works(vauthd, vauth, vauthctl, tmp):
    a = key_a(vauthd, tmp)
    b, sock = proxy_b(vauthd, tmp, a_sock(tmp), ["--trace", os.path.join(tmp, "b.jsonl")])
    try:
        p = run(vauth, sock, ["sh", "-c", "fido2-token -L && fido2-token -I /dev/hidraw0"])
        check(p.returncode == 0, "fido2-token through the proxy failed")
        check("aaguid: " + YUBIKEY5_AAGUID in p.stdout, "the getInfo is not the upstream key's (yubikey5)")
        check("maxmsgsiz: 1200" in p.stdout, "the upstream's maxMsgSize did not come through")
        p = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "1"])
        check(p.returncode == 0 and "assertion verified" in p.stdout, "credential/assertion through the proxy failed")
        # The upstream goes away: the client gets an error at once instead of waiting forever.
        a.stop()
        started = time.monotonic()
        p = run(vauth, sock, ["fido2-token", "-I", "/dev/hidraw0"], timeout=60)
        check(p.returncode != 0 and time.monotonic() - started < 20, "a proxy without its upstream must fail fast")
    finally:
        b_err = b.stop()
        a.stop()
    check("device 1 lost its upstream" in b_err, "no word on the lost upstream: " + b_err)
    check("forwards to seqpacket " + os.path.join(tmp, "a", "device-1.sock") in b_err, "no word on the upstream: " + b_err)
    # The trace: every packet, and the decoded messages with their timings.
    lines = [json.loads(l) for l in open(os.path.join(tmp, "b.jsonl"))]
    requests = [l["command"] for l in lines if l["type"] == "ctap.request"]
    check("makeCredential" in requests and "getAssertion" in requests, "trace lacks the requests: %s" % requests)
    responses = [l for l in lines if l["type"] == "ctap.response" and l["command"] == "makeCredential"]
    check(responses and responses[0]["status"] == "CTAP2_OK" and "elapsed_ms" in responses[0], "no timed response")
    check(all("time" in l for l in lines), "every trace line carries its time")
    check(any(l["type"] == "ctaphid" and l["dir"] == "in" and l["cmd"] == "INIT" for l in lines if "cmd" in l),
          "INIT answers are traced")


def test_udp_upstream(vauthd, vauth, vauthctl, tmp):
    # A on UDP (the SoloKeys/CanoKey simulator convention) on free ports.
    s1, s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s1.bind(("127.0.0.1", 0))
    s2.bind(("127.0.0.1", 0))
    listen, peer = s1.getsockname()[1], s2.getsockname()[1]
    s1.close()
    s2.close()
    a = Daemon(vauthd, ["--transport", "udp", "--udp-listen", "127.0.0.1:%d" % listen, "--udp-peer",
                        "127.0.0.1:%d" % peer, "--store", "ephemeral", "--no-control", "--persona", "yubikey5"])
    b, sock = proxy_b(vauthd, tmp, "udp:127.0.0.1:%d:%d" % (listen, peer),
                      ["--fault", "ctap:getAssertion:status=OPERATION_DENIED,times=1"])
    try:
        p = run(vauth, sock, ["sh", "-c", "fido2-token -L && fido2-token -I /dev/hidraw0"])
        check(p.returncode == 0 and "aaguid: " + YUBIKEY5_AAGUID in p.stdout, "fido2-token through a UDP upstream")
        p = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "udp1"])
        check(p.returncode != 0 and "made and verified a credential" in p.stdout and
              "FIDO_ERR_OPERATION_DENIED" in p.stdout + p.stderr, "the getAssertion fault was not seen over UDP")
        p = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "udp2"])
        check(p.returncode == 0 and "assertion verified" in p.stdout, "the flow through a UDP upstream failed")
    finally:
        b.stop()
        a.stop()


def test_faults_in_the_proxy(vauthd, vauth, vauthctl, tmp):
    a = key_a(vauthd, tmp)
    control = os.path.join(tmp, "ctl", "b.sock")
    b = Daemon(vauthd, ["--proxy", a_sock(tmp), "--transport", "seqpacket", "--seqpacket-dir", os.path.join(tmp, "b"),
                        "--store", "ephemeral", "--control-socket", control,
                        "--fault", "ctap:makeCredential:status=KEY_STORE_FULL,times=1"])
    sock = os.path.join(tmp, "b", "device-1.sock")
    try:
        # ctap layer (--fault): the forced status reaches the client, once.
        p = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "f1"])
        check(p.returncode != 0 and "FIDO_ERR_KEY_STORE_FULL" in p.stdout + p.stderr, "the ctap fault was not seen")
        p = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "f2"])
        check(p.returncode == 0 and "assertion verified" in p.stdout, "the proxy is not healthy after the fault")
        # ctaphid layer (control API): an INIT answer with a wrong nonce; libfido2 refuses the device.
        ctl = subprocess.run([vauthctl, "--socket", control, "fault", "add", "1", "ctaphid:init:init-nonce,times=1"],
                             capture_output=True, text=True, timeout=30)
        check(ctl.returncode == 0, "vauthctl fault add failed: " + ctl.stdout + ctl.stderr)
        p = run(vauth, sock, ["fido2-token", "-I", "/dev/hidraw0"])
        check(p.returncode != 0, "a wrong INIT nonce went unnoticed by the client")
        p = run(vauth, sock, ["fido2-token", "-I", "/dev/hidraw0"])
        check(p.returncode == 0 and YUBIKEY5_AAGUID in p.stdout, "not healthy after the ctaphid fault")
        # u2f/ctap response rewrite: a bad signature on the assertion fails verification at the client.
        ctl = subprocess.run([vauthctl, "--socket", control, "fault", "add", "1", "ctap:getAssertion:bad-signature,times=1"],
                             capture_output=True, text=True, timeout=30)
        check(ctl.returncode == 0, "vauthctl fault add failed: " + ctl.stdout + ctl.stderr)
        p = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "f3"])
        check(p.returncode != 0 and "made and verified a credential" in p.stdout and "assertion verified" not in p.stdout,
              "a corrupted signature passed verification")
        p = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "f4"])
        check(p.returncode == 0 and "assertion verified" in p.stdout, "not healthy after the bad signature")
        listed = subprocess.run([vauthctl, "--socket", control, "--json", "fault", "list", "1"], capture_output=True,
                                text=True, timeout=30)
        fired = {e["rule"]: e["fired"] for e in json.loads(listed.stdout)}
        check(all(n == 1 for n in fired.values()) and len(fired) == 3, "every rule fired exactly once: %s" % fired)
    finally:
        b.stop()
        a.stop()


def proxy_with_control(vauthd, tmp):
    control = os.path.join(tmp, "ctl", "b.sock")
    b = Daemon(vauthd, ["--proxy", a_sock(tmp), "--transport", "seqpacket", "--seqpacket-dir", os.path.join(tmp, "b"),
                        "--store", "ephemeral", "--control-socket", control])
    return b, control, os.path.join(tmp, "b", "device-1.sock")


def ctl(vauthctl, control, *args):
    p = subprocess.run([vauthctl, "--socket", control, "--json"] + list(args), capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 0, "vauthctl %s failed: %s%s" % (" ".join(args), p.stdout, p.stderr))
    return json.loads(p.stdout)


def test_keepalives_while_held(vauthd, vauth, vauthctl, tmp):
    """A client that reads with a 0.5 s timeout survives a 1.5 s ctap delay and
    a stall until it cancels, because B sends KEEPALIVE PROCESSING while it holds
    the answer (A, which has answered or never saw the request, sends none)."""
    a = key_a(vauthd, tmp)
    b, control, sock = proxy_with_control(vauthd, tmp)
    conn = None
    try:
        conn = SeqpacketConnection(sock, 0.5)
        dev = CtapHidDevice(HidDescriptor(sock, 0x1050, 0x0407, 64, 64), conn)
        ctap = Ctap2(dev)
        rp, user = {"id": "example.org", "name": "Example"}, {"id": b"alice", "name": "alice"}
        es256 = [{"type": "public-key", "alg": -7}]
        cdh = b"\x11" * 32

        ctl(vauthctl, control, "fault", "add", "1", "ctap:makeCredential:delay=1500,times=1")
        conn.reports.clear()
        statuses = []
        started = time.monotonic()
        cred = ctap.make_credential(cdh, rp, user, es256, on_keepalive=statuses.append)
        took = time.monotonic() - started
        kas = conn.keepalives()
        print("delay=1500: answered after %.2f s, %d keepalives %s" % (took, len(kas), sorted(set(kas))))
        check(took >= 1.5 - 0.01, "the delay did not hold the answer (%.2f s)" % took)
        check(len(kas) >= 8 and set(kas) == {1} and statuses == [STATUS.PROCESSING],
              "held answer: want KEEPALIVE PROCESSING every 100 ms, got %s (callback %s)" % (kas, statuses))
        check(conn.silent_for(0.5), "keepalives after the answer")

        ctl(vauthctl, control, "fault", "add", "1", "ctap:getAssertion:stall,times=1")
        conn.sock.settimeout(0.5)
        conn.reports.clear()
        cancel = threading.Event()
        threading.Timer(1.0, cancel.set).start()
        cred_id = cred.auth_data.credential_data.credential_id
        try:
            ctap.get_assertion("example.org", cdh, [{"type": "public-key", "id": cred_id}], event=cancel)
            raise AssertionError("a stalled getAssertion was answered")
        except CtapError as e:
            check(e.code == CtapError.ERR.KEEPALIVE_CANCEL, "stall + cancel: %r" % e)
        kas = conn.keepalives()
        print("stall, cancel after 1 s: %d keepalives %s" % (len(kas), sorted(set(kas))))
        check(len(kas) >= 5 and set(kas) == {1}, "stalled request: want KEEPALIVE PROCESSING, got %s" % kas)
        check(conn.silent_for(0.5), "keepalives after the cancelled request's answer")

        # Healthy after: an undisturbed assertion, no keepalives needed.
        ctap.get_assertion("example.org", cdh, [{"type": "public-key", "id": cred_id}])
    finally:
        if conn:
            conn.close()
        b.stop()
        a.stop()


def test_device_json(vauthd, vauth, vauthctl, tmp):
    a = key_a(vauthd, tmp)
    b, control, sock = proxy_with_control(vauthd, tmp)
    upstream = a_sock(tmp)
    try:
        want = {"upstream": upstream, "state": "connected"}
        listed = ctl(vauthctl, control, "devices")
        check(listed[0].get("proxy") == want, "GET /v1/devices: %s" % listed[0])
        detail = ctl(vauthctl, control, "raw", "GET", "/v1/devices/1")
        check(detail.get("proxy") == want, "GET /v1/devices/1: %s" % detail)
        # And for people: vauthctl's own lines name the upstream.
        for args in (["devices"], ["status", "1"]):
            human = subprocess.run([vauthctl, "--socket", control] + args, capture_output=True, text=True, timeout=30)
            check(upstream in human.stdout and "(connected)" in human.stdout,
                  "vauthctl %s does not show the proxy: %s" % (" ".join(args), human.stdout))
        # A key added through the control API is an emulated one: no proxy object.
        added = ctl(vauthctl, control, "add-device", "store=ephemeral")
        check("proxy" not in added and "proxy" not in ctl(vauthctl, control, "raw", "GET", "/v1/devices/2"),
              "an emulated key shows a proxy: %s" % added)
        # The upstream goes away: B notices at once (its SEQPACKET connection closes).
        a.stop()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            detail = ctl(vauthctl, control, "raw", "GET", "/v1/devices/1")
            if detail["proxy"]["state"] == "lost":
                break
            time.sleep(0.1)
        check(detail["proxy"] == {"upstream": upstream, "state": "lost"}, "after A stopped: %s" % detail["proxy"])
        check(ctl(vauthctl, control, "devices")[0]["proxy"]["state"] == "lost", "the list still says connected")
    finally:
        b.stop()
        a.stop()


def test_record_and_replay(vauthd, vauth, vauthctl, tmp):
    trace = os.path.join(tmp, "session.jsonl")
    a = key_a(vauthd, tmp)
    b, sock = proxy_b(vauthd, tmp, a_sock(tmp), ["--trace", trace])
    try:
        rec_info = run(vauth, sock, ["fido2-token", "-I", "/dev/hidraw0"])
        rec_flow = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "rec"])
        check(rec_info.returncode == 0 and rec_flow.returncode == 0, "the recorded session failed")
    finally:
        b.stop()
        a.stop()
    # No key at all now: the recording answers.
    c = Daemon(vauthd, ["--replay", trace, "--transport", "seqpacket", "--seqpacket-dir", os.path.join(tmp, "c"),
                        "--store", "ephemeral", "--no-control"])
    sock = os.path.join(tmp, "c", "device-1.sock")
    try:
        info = run(vauth, sock, ["fido2-token", "-I", "/dev/hidraw0"])
        check(info.returncode == 0 and info.stdout == rec_info.stdout, "replayed getInfo differs from the recording")
        flow = run(vauth, sock, ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "rep"])
        check(flow.returncode == 0 and "assertion verified" in flow.stdout, "the replayed flow failed")
        for name in ("cred-%s.out", "assert-%s.out"):
            same = open(os.path.join(tmp, name % "rec"), "rb").read() == open(os.path.join(tmp, name % "rep"), "rb").read()
            check(same, "the replayed %s differs from the recorded one" % (name % ""))
        # The recording is over: a further request is refused, and vauthd says so.
        more = run(vauth, sock, ["fido2-token", "-I", "/dev/hidraw0"])
        check(more.returncode != 0, "a request beyond the recording was answered")
    finally:
        err = c.stop()
    check("after the end of the recording" in err, "no word on the request beyond the recording: " + err)

    # A client that asks something else than was recorded gets an error and a precise log line.
    c = Daemon(vauthd, ["--replay", trace, "--transport", "seqpacket", "--seqpacket-dir", os.path.join(tmp, "c"),
                        "--store", "ephemeral", "--no-control"])
    try:
        info = run(vauth, sock, ["fido2-token", "-I", "/dev/hidraw0"])
        check(info.returncode == 0, "replayed getInfo failed")
        cred_in = os.path.join(tmp, "other.in")
        with open(cred_in, "w") as f:
            f.write("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nexample.com\nbob\nYm9iLXVzZXItaWQ=\n")
        p = run(vauth, sock, ["sh", "-c", "fido2-cred -M -i %s -o %s/other.out /dev/hidraw0 </dev/null" % (cred_in, tmp)])
        check(p.returncode != 0, "a diverging makeCredential was answered")
    finally:
        err = c.stop()
    check(re.search(r"replay: message \d+ differs from the recording \(trace line \d+\): expected CBOR of \d+ bytes "
                    r"\(makeCredential\), got CBOR of \d+ bytes \(makeCredential\); first difference at byte \d+", err),
          "no precise divergence message: " + err)

    # Unreadable recordings are refused at start with the reason.
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"type":"ctaphid","device":1,"dir":"out","hex":"00"}\n')
    p = subprocess.run([vauthd, "--replay", bad, "--transport", "seqpacket", "--seqpacket-dir",
                        os.path.join(tmp, "c"), "--store", "ephemeral", "--no-control"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and "trace line 1: hex must be one 64-byte report" in p.stderr, "bad trace: " + p.stderr)


def test_capture_persona(vauthd, vauth, vauthctl, tmp):
    persona = os.path.join(tmp, "captured.toml")
    a = key_a(vauthd, tmp)
    try:
        p = subprocess.run([vauthd, "--proxy", a_sock(tmp), "--capture-persona", persona, "--capture-persona-name",
                            "our-users-key"], capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "--capture-persona failed: " + p.stderr)
        check("wrote persona \"our-users-key\"" in p.stderr, "no word on the written persona: " + p.stderr)
        original = run(vauth, os.path.join(tmp, "a", "device-1.sock"), ["fido2-token", "-I", "/dev/hidraw0"])
    finally:
        a.stop()
    text = open(persona).read()
    print(text)
    check("[personas.our-users-key]" in text and "2fc0579f-8113-47ea-b116-bb5a8db9202a" in text, "persona file")
    d = Daemon(vauthd, ["--config", persona, "--persona", "our-users-key", "--transport", "seqpacket",
                        "--seqpacket-dir", os.path.join(tmp, "d"), "--store", "ephemeral", "--no-control"])
    try:
        emulated = run(vauth, os.path.join(tmp, "d", "device-1.sock"), ["fido2-token", "-I", "/dev/hidraw0"])
        flow = run(vauth, os.path.join(tmp, "d", "device-1.sock"), ["sh", "-c", FLOW, "flow", tmp, "/dev/hidraw0", "d"])
        check(flow.returncode == 0 and "assertion verified" in flow.stdout, "the captured persona cannot sign in")
    finally:
        d.stop()
    check(emulated.returncode == 0, "the captured persona does not run")
    fields = ("version strings", "extension strings", "transport strings", "algorithms", "aaguid", "options",
              "fwversion", "maxmsgsiz", "maxcredcntlst", "maxcredlen", "remaining rk(s)", "pin protocols")
    for field in fields:
        want = re.search(r"^%s: .*$" % re.escape(field), original.stdout, re.M)
        got = re.search(r"^%s: .*$" % re.escape(field), emulated.stdout, re.M)
        check(want is not None and got is not None and want.group(0) == got.group(0),
              "%s: the key says %r, its persona %r" % (field, want and want.group(0), got and got.group(0)))


def test_clear_errors(vauthd, vauth, vauthctl, tmp):
    cases = [
        (["--proxy", "usb:1209"], 2, "usb: wants VID:PID[:SERIAL] in hex"),
        (["--proxy", "tcp:1.2.3.4:5"], 2, "unknown upstream \"tcp\""),
        (["--proxy", "udp:127.0.0.1:1", "--devices", "2"], 2, "leave --devices at 1"),
        (["--capture-persona", os.path.join(tmp, "x.toml")], 2, "--capture-persona needs --proxy"),
        (["--proxy", "seqpacket:" + os.path.join(tmp, "nothing.sock")], 1, "nothing.sock: No such file or directory"),
        # No key with these IDs here (an unused pid.codes test ID).
        (["--proxy", "usb:1209:0001"], 1, "no USB device 1209:0001 is plugged in"),
    ]
    for args, status, message in cases:
        p = subprocess.run([vauthd] + args + ["--transport", "seqpacket", "--seqpacket-dir", os.path.join(tmp, "e"),
                                              "--store", "ephemeral", "--no-control"],
                           capture_output=True, text=True, timeout=30)
        print("$ vauthd %s -> %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        check(p.returncode == status and message in p.stderr, "%s: want %d and %r" % (args, status, message))


TESTS = [test_proxied_key_works, test_udp_upstream, test_faults_in_the_proxy, test_keepalives_while_held,
         test_device_json, test_record_and_replay, test_capture_persona, test_clear_errors]


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    vauthd, vauth, vauthctl = argv[1:]
    for tool in ("fido2-token", "fido2-cred", "fido2-assert"):
        if not shutil.which(tool):
            print("missing %s (scripts/deps.sh installs fido2-tools)" % tool)
            return 1
    only = os.environ.get("PROXY_TEST")
    failed = 0
    ran = 0
    for t in TESTS:
        if only and only != t.__name__:
            continue
        ran += 1
        tmp = tempfile.mkdtemp(prefix="vauth-proxy-test-")
        started = time.monotonic()
        try:
            t(vauthd, vauth, vauthctl, tmp)
            print("PASS %s (%.1f s)" % (t.__name__, time.monotonic() - started))
        except Exception as e:  # report every test, then fail
            failed += 1
            print("FAIL", t.__name__, "-", e)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d of %d passed" % (ran - failed, ran))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
