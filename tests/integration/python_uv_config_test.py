#!/usr/bin/python3
"""Built-in UV, bio enrollment and authenticatorConfig with python-fido2 0.9.1
over vauthd's USB/IP server, the sensor driven through the control API.

Usage: /usr/bin/python3 python_uv_config_test.py /path/to/vauthd /path/to/vauthctl

vauthd runs with `--uv manual`: every fingerprint reading waits until the test
answers it with `vauthctl uv 1 match|nomatch`, as a CI job would. python-fido2's
FPBioEnrollment enrolls a finger sample by sample (one poor sample included),
ClientPin.get_uv_token gets a token from the finger, getUVRetries counts a
failed reading, the W3C-style {"isUserVerified": true} switches the sensor to
auto, and Config sets a minimum PIN length (forcing a PIN change), toggles
alwaysUv (after which a makeCredential without UV reads the sensor anyway) and
enables enterprise attestation, whose epAtt a makeCredential with
enterpriseAttestation=2 then carries.
"""

import hashlib
import os
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_usbip_python_fido2 import attach, check, open_fido  # noqa: E402
from vauthd_process import VauthdProcess  # noqa: E402

from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.ctap2.bio import CaptureError, FPBioEnrollment  # noqa: E402
from fido2.ctap2.config import Config  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402

PIN = "1234"
RP = {"id": "example.com", "name": "Example"}
USER = {"id": b"uid-alice", "name": "alice", "displayName": "Alice"}
ES256 = [{"type": "public-key", "alg": -7}]
PERM = ClientPin.PERMISSION


def sha256(data):
    return hashlib.sha256(data).digest()


class UvDaemon(VauthdProcess):
    """vauthd with a control socket and a manual fingerprint sensor."""

    def __init__(self, vauthd, vauthctl):
        self.dir = tempfile.mkdtemp(prefix="vauth-uv-")
        socket = os.path.join(self.dir, "c.sock")
        self.start([vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--seed", "11", "--store",
                    "ephemeral", "--control-socket", socket, "--uv", "manual", "--uv-timeout", "0"], socket, vauthctl)


def in_thread(fn, *args, **kwargs):
    result = {}

    def run():
        try:
            result["value"] = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - handed to the waiting test
            result["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def answer(daemon, verdict, timeout=10):
    """Waits until key 1 waits for a finger, then answers match/nomatch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "waiting for a finger" in daemon.ctl("uv", "1").stdout:
            daemon.ctl("uv", "1", verdict)
            return
        time.sleep(0.05)
    raise AssertionError("key 1 never waited for a finger")


def finish(thread, result):
    thread.join(30)
    check(not thread.is_alive(), "the CTAP request did not finish")
    if "error" in result:
        raise result["error"]
    return result.get("value")


def info_checks(ctap):
    info = ctap.info
    check("FIDO_2_1" in info.versions, info.versions)
    check(info.options.get("uv") is False, info.options)
    check(info.options.get("bioEnroll") is False, info.options)
    check(info.options.get("authnrCfg") is True, info.options)
    check(info.options.get("ep") is False, info.options)
    check(info.uv_modality == 2, info.uv_modality)
    check(info.min_pin_length == 4, info.min_pin_length)
    check(info.max_rpids_for_min_pin == 8, info.max_rpids_for_min_pin)
    check(info.remaining_disc_creds == 100000, info.remaining_disc_creds)


def enroll(daemon, ctap, client_pin):
    token = client_pin.get_pin_token(PIN, permissions=PERM.BIO_ENROLL)
    bio = FPBioEnrollment(ctap, client_pin.protocol, token)
    sensor = bio.get_fingerprint_sensor_info()
    check(sensor[FPBioEnrollment.RESULT.MAX_SAMPLES_REQUIRED] == 4, sensor)
    ctx = bio.enroll()
    t, r = in_thread(ctx.capture)
    answer(daemon, "match")
    check(finish(t, r) is None, "first sample finished the enrollment")
    check(ctx.remaining == 3, ctx.remaining)
    t, r = in_thread(ctx.capture)
    answer(daemon, "nomatch")
    try:
        finish(t, r)
        raise AssertionError("a poor sample was accepted")
    except CaptureError as e:
        check(e.code == FPBioEnrollment.FEEDBACK.FP_POOR_QUALITY, e.code)
    check(ctx.remaining == 3, ctx.remaining)
    template_id = None
    while template_id is None:
        t, r = in_thread(ctx.capture)
        answer(daemon, "match")
        template_id = finish(t, r)
    enrollments = bio.enumerate_enrollments()
    check(list(enrollments) == [template_id], enrollments)
    bio.set_name(template_id, "right index")
    check(bio.enumerate_enrollments()[template_id] == "right index", bio.enumerate_enrollments())
    return template_id


def uv_tokens(daemon, ctap, client_pin):
    check(ctap.info.options.get("uv") is True, ctap.info.options)
    t, r = in_thread(client_pin.get_uv_token, PERM.MAKE_CREDENTIAL, "example.com")
    answer(daemon, "match")
    token = finish(t, r)
    cdh = sha256(b"uv make")
    att = ctap.make_credential(cdh, RP, USER, ES256, options={"rk": True},
                               pin_uv_param=client_pin.protocol.authenticate(token, cdh),
                               pin_uv_protocol=client_pin.protocol.VERSION)
    check(att.auth_data.is_user_verified(), "UV flag")

    daemon.ctl("uv", "1", "fail")
    try:
        client_pin.get_uv_token(PERM.GET_ASSERTION)
        raise AssertionError("a failing sensor gave a token")
    except CtapError as e:
        check(e.code == CtapError.ERR.UV_INVALID, e)
    check(client_pin.get_uv_retries()[0] == 7, client_pin.get_uv_retries())

    # W3C WebAuthn automation "Set User Verified": readings match from now on.
    daemon.ctl("raw", "PUT", "/v1/devices/1/uv", '{"isUserVerified": true}')
    assertion = ctap.get_assertion("example.com", sha256(b"uv get"), options={"uv": True})
    check(assertion.auth_data.is_user_verified(), "getAssertion uv=true")
    check(client_pin.get_uv_retries()[0] == 8, "a match restores uvRetries")


def config(ctap, client_pin):
    cfg = Config(ctap, client_pin.protocol, client_pin.get_pin_token(PIN, permissions=PERM.AUTHENTICATOR_CFG))
    cfg.set_min_pin_length(6, rp_ids=["example.com"])
    ctap = Ctap2(ctap.device)
    check(ctap.info.min_pin_length == 6, ctap.info.min_pin_length)
    check(ctap.info.force_pin_change is True, "a 4-digit PIN must change now")
    try:
        client_pin.get_pin_token(PIN, permissions=PERM.MAKE_CREDENTIAL)
        raise AssertionError("a token despite forcePINChange")
    except CtapError as e:
        check(e.code == CtapError.ERR.PIN_POLICY_VIOLATION, e)
    client_pin.change_pin(PIN, "123456")
    ctap = Ctap2(ctap.device)
    check(ctap.info.force_pin_change is False, "changePIN clears forcePINChange")

    cfg = Config(ctap, client_pin.protocol, client_pin.get_pin_token("123456", permissions=PERM.AUTHENTICATOR_CFG))
    cfg.toggle_always_uv()
    cfg._call(Config.CMD.ENABLE_ENTERPRISE_ATT)  # 0.9.1 has no method of its own for it
    try:
        cfg._call(Config.CMD.TOGGLE_ALWAYS_UV + 7)  # not a subcommand
        raise AssertionError("an unknown subcommand was accepted")
    except CtapError as e:
        check(e.code == CtapError.ERR.INVALID_SUBCOMMAND, e)
    ctap = Ctap2(ctap.device)
    check(ctap.info.options.get("alwaysUv") is True, ctap.info.options)
    check(ctap.info.options.get("ep") is True, ctap.info.options)
    check(ctap.info.options.get("makeCredUvNotRqd") is False, ctap.info.options)
    # alwaysUv with a finger enrolled: a request without UV reads the sensor anyway.
    att = ctap.make_credential(sha256(b"always uv"), RP, {"id": b"uid-bob", "name": "bob"}, ES256)
    check(att.auth_data.is_user_verified(), "alwaysUv did not verify the user")

    # Platform-managed enterprise attestation, with its epAtt output (0.9.1 cannot send it itself).
    token = client_pin.get_pin_token("123456", permissions=PERM.MAKE_CREDENTIAL)
    cdh = sha256(b"ep")
    resp = ctap.send_cbor(Ctap2.CMD.MAKE_CREDENTIAL, {
        1: cdh, 2: RP, 3: USER, 4: ES256, 8: client_pin.protocol.authenticate(token, cdh),
        9: client_pin.protocol.VERSION, 0x0A: 2})
    check(resp.get(4) is True, resp)
    check(resp[1] == "packed" and "x5c" in resp[3], resp[3].keys())


def run(daemon):
    client = attach(daemon)
    try:
        ctap = Ctap2(open_fido(client))
        info_checks(ctap)
        ClientPin(ctap).set_pin(PIN)
        ctap = Ctap2(ctap.device)
        client_pin = ClientPin(ctap)
        enroll(daemon, ctap, client_pin)
        ctap = Ctap2(ctap.device)
        client_pin = ClientPin(ctap)
        uv_tokens(daemon, ctap, client_pin)
        config(ctap, client_pin)
    finally:
        client.close()


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    daemon = UvDaemon(argv[1], argv[2])
    try:
        run(daemon)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        daemon.stop()
        return 1
    code = daemon.stop()
    if code != 0:
        print("vauthd exited with %s" % code)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
