#!/usr/bin/python3
"""The control API and vauthctl, observed through a real client.

Usage: /usr/bin/python3 control_api_test.py /path/to/vauthd /path/to/vauthctl

Starts `vauthd --transport usbip --usbip-listen 127.0.0.1:0 --control-socket
<tmp>/c.sock --seed 1 --presence manual`, drives python-fido2 (Debian's, under
/usr/bin/python3) through the user-space USB/IP client, and presses, denies,
inspects and wipes the key through vauthctl and raw HTTP on the socket.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_http import EventStream  # noqa: E402
from vauthd_process import VauthdProcess, run_suite  # noqa: E402
from test_usbip_python_fido2 import attach, open_fido  # noqa: E402
from usbip_client import UsbipError, devlist as usbip_devlist  # noqa: E402

from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2, CredentialManagement  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402

RP = {"id": "example.org", "name": "Example"}
ES256 = [{"type": "public-key", "alg": -7}]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Daemon(VauthdProcess):
    def __init__(self, vauthd, vauthctl):
        self.dir = tempfile.mkdtemp(prefix="vauth-control-")
        self.socket = os.path.join(self.dir, "c.sock")
        self.start([vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--control-socket", self.socket,
                    "--seed", "1", "--presence", "manual", "--store", "ephemeral"], self.socket, vauthctl)


class Client:
    """A python-fido2 Ctap2 over an imported USB/IP device; calls run in a thread
    so the test can answer presence prompts meanwhile."""

    def __init__(self, daemon):
        self.usbip = attach(daemon)
        self.usbip.enumerate()
        self.ctap = Ctap2(open_fido(self.usbip))

    def start(self, fn, *args, **kwargs):
        result = {}

        def run():
            try:
                result["value"] = fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - handed to the waiting test
                result["error"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, result

    def make_credential(self, user_id, rk=False):
        cdh = hashlib.sha256(b"mc " + user_id).digest()
        user = {"id": user_id, "name": user_id.decode(), "displayName": "User " + user_id.decode()}
        return self.ctap.make_credential(cdh, RP, user, ES256, options={"rk": True} if rk else None)

    def close(self):
        self.usbip.close()


def finish(thread, result, timeout=30):
    thread.join(timeout)
    check(not thread.is_alive(), "the CTAP request did not finish")
    return result


def wait_pending(daemon, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = daemon.api.get("/v1/devices/1")["presence"]["pending"]
        if pending:
            return pending
        time.sleep(0.02)
    raise AssertionError("device 1 never waited for a touch")


def ctap_error(result):
    e = result.get("error")
    check(isinstance(e, CtapError), "wanted a CtapError, got %r" % (result,))
    return e.code


# ---------------------------------------------------------------- the checks

def test_socket_and_listing(d):
    mode = os.stat(d.socket).st_mode
    check(stat.S_ISSOCK(mode), "not a socket")
    check(stat.S_IMODE(mode) == 0o600, "socket mode %o" % stat.S_IMODE(mode))
    d.ctl("wait", "--timeout", "10")
    r = d.ctl("--json", "devices")
    devices = json.loads(r.stdout)
    check(len(devices) == 1, devices)
    dev = devices[0]
    check(dev["index"] == 1 and dev["transport"] == "usbip" and dev["where"] == "1-1", dev)
    check(dev["ready"] and dev["presence"] == "manual" and not dev["pinSet"], dev)
    r = d.ctl("devices")
    check("usbip 1-1" in r.stdout and "presence manual" in r.stdout, r.stdout)
    status = d.api.get("/v1/devices/1")
    check(status["presence"] == {"mode": "manual", "delay_ms": 0, "timeout_ms": 30000, "pending": None}, status)
    check(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", status["aaguid"]), status)


def test_info_is_what_a_client_reads(d):
    """GET /v1/devices/1/info and `vauthctl info` show the getInfo a client reads, by member name."""
    info = d.api.get("/v1/devices/1/info")
    c = Client(d)
    try:
        seen = c.ctap.get_info()  # a real authenticatorGetInfo over USB/IP
    finally:
        c.close()
    check(info["versions"] == seen.versions, (info["versions"], seen.versions))
    check(info["extensions"] == seen.extensions, (info["extensions"], seen.extensions))
    check(info["aaguid"].replace("-", "") == bytes(seen.aaguid).hex(), (info["aaguid"], seen.aaguid))
    check(info["options"] == seen.options, (info["options"], seen.options))
    check(info["maxMsgSize"] == seen.max_msg_size, (info["maxMsgSize"], seen.max_msg_size))
    check(info["pinUvAuthProtocols"] == seen.pin_uv_protocols, (info["pinUvAuthProtocols"], seen.pin_uv_protocols))
    check(info["aaguid"] == d.api.get("/v1/devices/1")["aaguid"], "two AAGUIDs for one key")
    r = d.ctl("info", "1")
    check('"versions"' in r.stdout and "FIDO_2_1" in r.stdout, r.stdout)
    status, body = d.api.call("POST", "/v1/devices/1/info", {})
    check(status == 405, (status, body))
    status, body = d.api.call("GET", "/v1/devices/9/info")
    check(status == 404, (status, body))


def test_touch_completes_and_events(d):
    events = EventStream(d.socket)
    check(events.header[0].startswith("HTTP/1.1 200"), events.header)
    check("Content-Type: text/event-stream" in events.header, events.header)
    c = Client(d)
    try:
        t, result = c.start(c.make_credential, b"touch-user")
        pending = wait_pending(d)
        check(pending["operation"] == "makeCredential" and pending["rpId"] == "example.org", pending)
        time.sleep(0.3)  # still waiting (KEEPALIVE UPNEEDED) until the touch
        check(t.is_alive(), "makeCredential finished without a touch")
        r = d.ctl("touch", "1")
        check("approved the pending makeCredential for example.org" in r.stdout, r.stdout)
        finish(t, result)
        check("value" in result, result)
        check(result["value"].auth_data.is_user_present(), "UP flag")
    finally:
        c.close()
    req = events.wait_for(lambda e: e["type"] == "ctap.request" and e["command"] == "makeCredential")
    prompt = events.wait_for(lambda e: e["type"] == "presence.prompt")
    res = events.wait_for(lambda e: e["type"] == "presence.result")
    resp = events.wait_for(lambda e: e["type"] == "ctap.response" and e["command"] == "makeCredential")
    check(prompt["operation"] == "makeCredential" and prompt["mode"] == "manual" and prompt["device"] == 1, prompt)
    check(res["result"] == "approved" and res["id"] == prompt["id"], res)
    check(resp["status"] == "CTAP2_OK", resp)
    check(req["seq"] < prompt["seq"] < res["seq"] < resp["seq"], "events out of order")
    events.close()
    # Nothing pending any more: 409, and nothing changes.
    status, body = d.api.call("POST", "/v1/devices/1/touch")
    check(status == 409 and body["error"], (status, body))
    d.ctl("touch", "1", expect=1)


def test_deny(d):
    c = Client(d)
    try:
        t, result = c.start(c.make_credential, b"deny-user")
        wait_pending(d)
        r = d.ctl("deny", "1")
        check("denied" in r.stdout, r.stdout)
        finish(t, result)
        check(ctap_error(result) == CtapError.ERR.OPERATION_DENIED, result)
    finally:
        c.close()


def test_timeout(d):
    status, body = d.api.call("PUT", "/v1/devices/1/presence", {"mode": "manual", "timeout_ms": 400})
    check(status == 200 and body["timeout_ms"] == 400, (status, body))
    c = Client(d)
    try:
        start = time.monotonic()
        t, result = c.start(c.make_credential, b"timeout-user")
        finish(t, result)
        check(ctap_error(result) == CtapError.ERR.USER_ACTION_TIMEOUT, result)
        check(time.monotonic() - start >= 0.35, "timed out too early")
    finally:
        c.close()
    d.ctl("presence", "1", "manual", "--timeout", "30000")


def test_conformance_userpresence(d):
    c = Client(d)
    try:
        t, result = c.start(c.make_credential, b"conformance-user")
        wait_pending(d)
        status, body = d.api.call("POST", "/conformance/userpresence")
        check(status == 200 and body["result"] == "approved", (status, body))
        finish(t, result)
        check("value" in result, result)
    finally:
        c.close()
    status, body = d.api.call("POST", "/conformance/powercycle")
    check(status == 200, (status, body))


def test_resident_credentials_and_delete(d):
    d.ctl("presence", "1", "auto")
    c = Client(d)
    try:
        att = c.make_credential(b"rk-user", rk=True)
        cred_id = att.auth_data.credential_data.credential_id
        creds = json.loads(d.ctl("--json", "credentials", "1").stdout)
        check(len(creds) == 1, creds)
        cred = creds[0]
        check(cred["credentialId"] == b64url(cred_id), (cred, b64url(cred_id)))
        check(cred["isResidentCredential"] is True and cred["rpId"] == "example.org", cred)
        check(cred["userHandle"] == b64url(b"rk-user") and cred["userName"] == "rk-user", cred)
        check(cred["userDisplayName"] == "User rk-user" and cred["algorithm"] == -7, cred)
        check(isinstance(cred["signCount"], int), cred)
        check(not any("private" in k.lower() for k in cred), "a private key field leaked: %s" % cred)
        human = d.ctl("credentials", "1").stdout
        check("example.org  rk-user" in human and cred["credentialId"] in human, human)
        check(d.api.get("/v1/devices/1/credentials/" + cred["credentialId"]) == cred, "single credential")
        # The credential works before deletion...
        cdh = hashlib.sha256(b"ga").digest()
        assertion = c.ctap.get_assertion("example.org", cdh)
        check(assertion.credential["id"] == cred_id, assertion.credential)
        r = d.ctl("delete-credential", "1", "--", cred["credentialId"])
        check("deleted credential" in r.stdout, r.stdout)
        check(d.api.get("/v1/devices/1/credentials") == [], "still listed")
        # ...and not after.
        try:
            c.ctap.get_assertion("example.org", cdh)
        except CtapError as e:
            check(e.code == CtapError.ERR.NO_CREDENTIALS, e)
        else:
            raise AssertionError("getAssertion found a deleted credential")
        # Deleting it again: 404, exit 1.
        d.ctl("delete-credential", "1", "--", cred["credentialId"], expect=1)
    finally:
        c.close()


def test_pin_reset_power_cycle(d):
    d.ctl("set-pin", "1", "123456")
    status = d.api.get("/v1/devices/1")
    check(status["pin"] == {"set": True, "retries": 8}, status)
    c = Client(d)
    try:
        check(c.ctap.get_info().options.get("clientPin") is True, "getInfo clientPin after set-pin")
        # A CTAP 2.2 persistent (pcmr, 0x40) token from this PIN...
        client_pin = ClientPin(c.ctap)
        pcmr = CredentialManagement(c.ctap, client_pin.protocol, client_pin.get_pin_token("123456", permissions=0x40))
        pcmr.get_metadata()
    finally:
        c.close()
    # ...dies when the control API sets another PIN, as after changePIN.
    d.ctl("set-pin", "1", "654321")
    c = Client(d)
    try:
        pcmr.ctap = c.ctap
        pcmr.get_metadata()
    except CtapError as e:
        check(e.code == CtapError.ERR.PIN_AUTH_INVALID, e)
    else:
        raise AssertionError("the pcmr token outlived a PIN set through the control API")
    finally:
        c.close()
    d.ctl("set-pin", "1", "12", expect=1)  # too short: refused, PIN unchanged
    d.ctl("power-cycle", "1")
    d.ctl("reset", "1")
    status = d.api.get("/v1/devices/1")
    check(status["pin"]["set"] is False and status["credentialCount"] == 0, status)
    # Clearing a PIN: idempotent without one; with one, the key has none afterwards.
    check("had no PIN" in d.ctl("clear-pin", "1").stdout, "clear-pin without a PIN")
    d.ctl("set-pin", "1", "123456")
    d.ctl("clear-pin", "1")
    check(d.api.get("/v1/devices/1")["pin"]["set"] is False, "clear-pin left a PIN")


def test_bad_requests_change_nothing(d):
    before = d.api.get("/v1/devices/1")
    api = d.api
    cases = [
        ("PUT", "/v1/devices/1/presence", "{not json", 400),
        ("PUT", "/v1/devices/1/presence", "[1, 2]", 400),
        ("PUT", "/v1/devices/1/presence", {"mode": "sometimes"}, 400),
        ("PUT", "/v1/devices/1/presence", {"mode": "deny", "timeout_ms": -5}, 400),
        ("PUT", "/v1/devices/1/presence", {"mode": "deny", "colour": "red"}, 400),
        ("PUT", "/v1/devices/1/pin", {"pin": 1234}, 400),
        ("GET", "/v1/devices/9", None, 404),
        ("POST", "/v1/devices/9/touch", None, 404),
        ("GET", "/v1/devices/x", None, 404),
        ("GET", "/v1/nothing-here", None, 404),
        ("GET", "/", None, 404),
        ("DELETE", "/v1/devices/1/credentials/AAAA", None, 404),
        ("DELETE", "/v1/devices/1/credentials/!!", None, 404),
        ("PUT", "/v1/devices", None, 405),
        ("PUT", "/v1/devices/1", None, 405),
        ("GET", "/v1/devices/1/touch", None, 405),
    ]
    for method, target, body, want in cases:
        status, reply = api.call(method, target, body)
        check(status == want, "%s %s -> %d %s, wanted %d" % (method, target, status, reply, want))
        check(isinstance(reply.get("error"), str) and "detail" in reply, reply)
    status, headers, _ = api.raw("PUT", "/v1/devices")
    check(headers.get("Allow") == "GET, POST", headers)
    # An announced 2 MiB body is refused from its header alone.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(d.socket)
        s.sendall(b"PUT /v1/devices/1/presence HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n")
        reply = s.recv(4096)
        check(reply.startswith(b"HTTP/1.1 413"), reply)
    check(d.api.get("/v1/devices/1") == before, "a bad request changed the device")
    d.ctl("status", "9", expect=1)
    d.ctl("status", "banana", expect=2)
    r = subprocess.run([d.vauthctl, "--socket", os.path.join(d.dir, "nobody.sock"), "devices"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 3 and "cannot reach vauthd" in r.stderr, (r.returncode, r.stderr))


def test_status_and_events_cli(d):
    r = d.ctl("status", "1")
    check("sign count:" in r.stdout and "presence:" in r.stdout and "PIN:          not set" in r.stdout, r.stdout)
    # vauthctl events follows the stream: a presence change shows up as one line.
    proc = subprocess.Popen([d.vauthctl, "--socket", d.socket, "--json", "events"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        d.ctl("presence", "1", "deny", "--delay", "5")
        line = proc.stdout.readline()
        event = json.loads(line)
        check(event["type"] == "presence.mode" and event["mode"] == "deny" and event["delay_ms"] == 5, event)
    finally:
        proc.terminate()
        proc.wait(10)
    d.ctl("presence", "1", "manual", "--delay", "0")


def test_tcp_needs_token(d):
    vauthd = d.proc.args[0]
    token_file = os.path.join(d.dir, "token")
    with open(token_file, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n")
    base = [vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0",
            "--control-socket", os.path.join(d.dir, "t.sock")]
    # Refused at start: TCP without a token, or beyond loopback without --control-allow-remote.
    for extra in (["--control-listen", "127.0.0.1:0"],
                  ["--control-listen", "0.0.0.0:0", "--control-token-file", token_file]):
        r = subprocess.run(base + extra, capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "--control" in r.stderr, (extra, r.returncode, r.stderr))
    proc = subprocess.Popen(base + ["--control-listen", "127.0.0.1:0", "--control-token-file", token_file],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stdout:
            m = re.search(r"control: http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        check(port, "no TCP control line")
        import http.client

        def get(headers):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/v1/devices", headers=headers)
            res = conn.getresponse()
            body = json.loads(res.read())
            conn.close()
            return res.status, body

        status, body = get({})
        check(status == 401 and body["error"] == "unauthorized", (status, body))
        status, body = get({"Authorization": "Bearer wrong-token-wrong-token-wrong-12"})
        check(status == 401, (status, body))
        status, body = get({"Authorization": "Bearer 0123456789abcdef0123456789abcdef"})
        check(status == 200 and body[0]["index"] == 1, (status, body))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


# ---------------------------------------------------------------- run-time devices

def busids(d):
    return [dev["busid"] for dev in usbip_devlist(d.host, d.port)]


def test_hot_added_device(d):
    events = EventStream(d.socket)
    r = d.ctl("add-device")
    check("added device 2 on usbip 1-2" in r.stdout, r.stdout)
    dev2 = d.api.get("/v1/devices/2")
    check(dev2["transport"] == "usbip" and dev2["where"] == "1-2" and dev2["ready"], dev2)
    check(dev2["serial"] != d.api.get("/v1/devices/1")["serial"], "two keys with one serial")
    check(busids(d) == ["1-1", "1-2"], busids(d))
    events.wait_for(lambda e: e["type"] == "device.added" and e["device"] == 2)
    events.wait_for(lambda e: e["type"] == "device.ready" and e["device"] == 2 and e["where"] == "1-2")
    # The new key is importable over USB/IP and answers getInfo; it is its own key.
    d.ctl("presence", "2", "auto")
    with attach(d, "1-2") as c:
        c.enumerate()
        ctap = Ctap2(open_fido(c))
        check("FIDO_2_0" in ctap.get_info().versions, "getInfo")
        ctap.make_credential(hashlib.sha256(b"dev2").digest(), RP, {"id": b"two", "name": "two"}, ES256,
                             options={"rk": True})
    check(d.api.get("/v1/devices/2")["credentialCount"] == 1, "device 2 kept no credential")
    check(d.api.get("/v1/devices/1")["credentialCount"] == 0, "device 1 got device 2's credential")
    # Removed: off the devlist, 404, and its index is never handed out again.
    r = d.ctl("remove-device", "2")
    check("removed device 2" in r.stdout, r.stdout)
    check(busids(d) == ["1-1"], busids(d))
    status, body = d.api.call("GET", "/v1/devices/2")
    check(status == 404 and "1" in body["detail"], (status, body))
    events.wait_for(lambda e: e["type"] == "device.removed" and e["device"] == 2)
    status, body = d.api.call("POST", "/v1/devices", {"pin": "123456", "presence": "deny", "serial": "CI-KEY-3",
                                                      "name": "third key", "store": "ephemeral"})
    check(status == 201 and body["index"] == 3 and body["where"] == "1-3", (status, body))
    check(body["pin"]["set"] and body["presence"]["mode"] == "deny", body)
    check(body["serial"] == "CI-KEY-3" and body["name"] == "third key", body)
    status, body = d.api.call("POST", "/v1/devices", {"plugged": False})
    check(status == 201 and body["index"] == 4 and not body["ready"], (status, body))
    check(busids(d) == ["1-1", "1-3"], busids(d))
    d.ctl("plug", "4")
    check(busids(d) == ["1-1", "1-3", "1-4"], busids(d))
    for n in ("3", "4"):
        d.ctl("remove-device", n)
    check([x["index"] for x in d.api.get("/v1/devices")] == [1], "devices left behind")
    events.close()


def test_unplug_mid_request(d):
    d.ctl("presence", "1", "manual")
    events = EventStream(d.socket)
    c = Client(d)
    try:
        t, result = c.start(c.make_credential, b"unplugged-user")
        wait_pending(d)
        r = d.ctl("unplug", "1")
        check("unplugged device 1" in r.stdout, r.stdout)
        finish(t, result)  # the client sees the device vanish instead of hanging
        check("error" in result, result)
    finally:
        c.close()
    status = d.api.get("/v1/devices/1")
    check(not status["ready"] and status["presence"]["pending"] is None, status)
    events.wait_for(lambda e: e["type"] == "presence.result" and e["result"] == "cancelled")
    events.wait_for(lambda e: e["type"] == "device.unplugged" and e["device"] == 1)
    check(busids(d) == [], busids(d))
    try:
        attach(d, "1-1").close()
    except UsbipError:
        pass
    else:
        raise AssertionError("an unplugged device was importable")
    check(d.proc.poll() is None, "vauthd died")
    # Plugged in again: importable, answering, state intact.
    before = d.api.get("/v1/devices/1")["credentialCount"]
    r = d.ctl("plug", "1")
    check("plugged in device 1 on usbip 1-1" in r.stdout, r.stdout)
    events.wait_for(lambda e: e["type"] == "device.ready" and e["device"] == 1)
    d.ctl("presence", "1", "auto")
    c = Client(d)
    try:
        check("FIDO_2_0" in c.ctap.get_info().versions, "getInfo after plug")
        c.make_credential(b"after-plug")
    finally:
        c.close()
    check(d.api.get("/v1/devices/1")["credentialCount"] == before, "plug lost or invented credentials")
    d.ctl("presence", "1", "manual")
    events.close()


def test_bad_device_requests_change_nothing(d):
    before = d.api.get("/v1/devices")
    cases = [
        ("POST", "/v1/devices", "{bad", 400),
        ("POST", "/v1/devices", "[1]", 400),
        ("POST", "/v1/devices", {"colour": "red"}, 400),
        ("POST", "/v1/devices", {"pin": 1234}, 400),
        ("POST", "/v1/devices", {"pin": "12"}, 400),
        ("POST", "/v1/devices", {"presence": "sometimes"}, 400),
        ("POST", "/v1/devices", {"presence": {"mode": "auto", "delay_ms": -1}}, 400),
        ("POST", "/v1/devices", {"store": "floppy"}, 400),
        ("POST", "/v1/devices", {"plugged": "yes"}, 400),
        ("POST", "/v1/devices", {"serial": ""}, 400),
        ("POST", "/v1/devices", {"name": "x" * 200}, 400),
        ("DELETE", "/v1/devices/99", None, 404),
        ("POST", "/v1/devices/99/unplug", None, 404),
        ("POST", "/v1/devices/1/plug", None, 409),
        ("GET", "/v1/devices/1/unplug", None, 405),
        ("DELETE", "/v1/devices/1/plug", None, 405),
    ]
    for method, target, body, want in cases:
        status, reply = d.api.call(method, target, body)
        check(status == want, "%s %s %r -> %d %s, wanted %d" % (method, target, body, status, reply, want))
        check(isinstance(reply.get("error"), str) and "detail" in reply, reply)
    check(d.api.get("/v1/devices") == before, "a bad request changed the devices")
    check(busids(d) == ["1-1"], busids(d))
    d.ctl("add-device", "colour=red", expect=1)
    d.ctl("add-device", "plugged", expect=2)
    d.ctl("unplug", "x", expect=2)
    # The refused requests used no index: the next device is number 5 (after test_hot_added_device's 2-4).
    status, body = d.api.call("POST", "/v1/devices", {"plugged": False})
    check(status == 201 and body["index"] == 5, (status, body))
    d.ctl("remove-device", "5")
    d.ctl("unplug", "1")
    d.ctl("unplug", "1", expect=1)  # 409: already unplugged
    d.ctl("plug", "1")


TESTS = [test_socket_and_listing, test_info_is_what_a_client_reads, test_touch_completes_and_events, test_deny, test_timeout,
         test_conformance_userpresence, test_resident_credentials_and_delete, test_pin_reset_power_cycle,
         test_bad_requests_change_nothing, test_status_and_events_cli, test_hot_added_device,
         test_unplug_mid_request, test_bad_device_requests_change_nothing, test_tcp_needs_token]


def socket_gone(daemon):
    """After SIGTERM: vauthd removed its control socket (a failure if not); the test's files go."""
    outlived = os.path.exists(daemon.socket)
    if outlived:
        print("FAIL the control socket outlived vauthd")
    shutil.rmtree(daemon.dir, ignore_errors=True)
    return 1 if outlived else 0


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    return run_suite(TESTS, Daemon(argv[1], argv[2]), after_stop=socket_gone)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
