#!/usr/bin/python3
"""Nothing acknowledged is lost: vauthd is killed with SIGKILL and restarted on
the same state directory, and a real client (python-fido2 over USB/IP) finds
its PIN, its discoverable credential, its PIN retry count and a signature
counter that never went back. A second daemon on the same state is refused.

Usage: /usr/bin/python3 daemon_persistence_test.py /path/to/vauthd
"""
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_usbip_python_fido2 import Daemon, attach, check, open_fido  # noqa: E402

from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402

PIN = "4711"
RP = {"id": "example.org", "name": "Example"}
USER = {"id": b"persistent-user", "name": "persistent"}


def session(daemon):
    client = attach(daemon)
    return client, Ctap2(open_fido(client))


def token(ctap, permissions):
    return ClientPin(ctap).get_pin_token(PIN, permissions=permissions, permissions_rpid=RP["id"])


def pin_auth(ctap, tok, cdh):
    return ClientPin(ctap).protocol.authenticate(tok, cdh)


def main(binary):
    state = tempfile.mkdtemp(prefix="vauth-persist-")
    store = ("--store", "durable", "--state-dir", state)

    # 1. PIN, a discoverable credential and one assertion; then SIGKILL.
    daemon = Daemon(binary, 5, store)
    client, ctap = session(daemon)
    ClientPin(ctap).set_pin(PIN)
    ctap = Ctap2(ctap.device)
    cdh = hashlib.sha256(b"register").digest()
    tok = token(ctap, ClientPin.PERMISSION.MAKE_CREDENTIAL)
    pin = ClientPin(ctap)
    att = ctap.make_credential(cdh, RP, USER, [{"type": "public-key", "alg": -7}], options={"rk": True},
                               pin_uv_param=pin.protocol.authenticate(tok, cdh), pin_uv_protocol=pin.protocol.VERSION)
    cred = att.auth_data.credential_data
    cdh2 = hashlib.sha256(b"before the crash").digest()
    before = ctap.get_assertion(RP["id"], cdh2, [{"type": "public-key", "id": cred.credential_id}])
    cred.public_key.verify(before.auth_data + cdh2, before.signature)
    client.close()
    daemon.proc.kill()  # SIGKILL: no chance to flush anything
    daemon.proc.wait()
    print("killed after makeCredential (rk) and getAssertion, counter", before.auth_data.counter)

    # 2. Restart: everything acknowledged is there.
    daemon = Daemon(binary, 5, store)
    try:
        client, ctap = session(daemon)
        check(ctap.info.options.get("clientPin") is True, "PIN lost: %s" % ctap.info.options)
        check(ClientPin(ctap).get_pin_retries()[0] == 8, "retries")
        cdh3 = hashlib.sha256(b"after the crash").digest()
        tok = token(ctap, ClientPin.PERMISSION.GET_ASSERTION)
        pin = ClientPin(ctap)
        after = ctap.get_assertion(RP["id"], cdh3, None, pin_uv_param=pin.protocol.authenticate(tok, cdh3),
                                   pin_uv_protocol=pin.protocol.VERSION)
        check(after.credential["id"] == cred.credential_id, "the discoverable credential is gone")
        check(after.user["id"] == USER["id"], "user handle")
        cred.public_key.verify(after.auth_data + cdh3, after.signature)
        check(after.auth_data.counter > before.auth_data.counter,
              "counter went back: %d -> %d" % (before.auth_data.counter, after.auth_data.counter))
        print("restarted: PIN, credential and counter (%d) intact" % after.auth_data.counter)

        # 3. A wrong PIN is counted before the answer leaves, and survives SIGKILL.
        try:
            # (python-fido2 0.9.1 omits the required permissions unless given some)
            ClientPin(ctap).get_pin_token("0000", permissions=ClientPin.PERMISSION.GET_ASSERTION)
            check(False, "wrong PIN accepted")
        except CtapError as e:
            check(e.code == CtapError.ERR.PIN_INVALID, e)
        client.close()

        # 4. One store, one daemon.
        second = subprocess.run([binary, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--no-control",
                                 *store], capture_output=True, text=True, timeout=30)
        check(second.returncode != 0, "a second daemon opened the same store")
        check("in use" in second.stderr, second.stderr)
        print("second daemon refused:", second.stderr.strip().splitlines()[-1])
    finally:
        daemon.proc.kill()
        daemon.proc.wait()

    daemon = Daemon(binary, 5, store)
    try:
        client, ctap = session(daemon)
        check(ClientPin(ctap).get_pin_retries()[0] == 7, "the failed PIN attempt was not persisted")
        client.close()
        print("wrong PIN attempt persisted across SIGKILL: 7 retries left")
    finally:
        daemon.stop()
    print("daemon persistence: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
