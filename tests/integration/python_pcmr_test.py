#!/usr/bin/python3
"""The CTAP 2.2 persistentPinUvAuthToken (permission pcmr) end to end with
python-fido2 over USB/IP: python-fido2 0.9.1 does not know pcmr, but its
ClientPin and CredentialManagement classes send whatever permission bits and
token they are given, so the requests on the wire are a real client's.

Usage: /usr/bin/python3 python_pcmr_test.py /path/to/vauthd

With a durable store: registers two discoverable credentials, sets a PIN, asks
for a pcmr token (getInfo must say perCredMgmtRO), lists metadata, RPs and
credentials with it, sees deleteCredential refused with PIN_AUTH_INVALID and
pcmr|cm refused with UNAUTHORIZED_PERMISSION; then restarts vauthd on the
same store and lists the credentials again with the saved token and no PIN;
then changes the PIN and sees the saved token refused. Along the way it
decrypts getInfo's encIdentifier / encCredStoreState with the token using the
`cryptography` package (not vauth's code): the identifier survives the
restart, the store state changes when a credential is deleted.
"""

import hashlib
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_usbip_python_fido2 import Daemon, attach, check, open_fido  # noqa: E402

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2, CredentialManagement  # noqa: E402
from fido2.ctap2.pin import ClientPin, PinProtocolV2  # noqa: E402

PIN = "2580"
NEW_PIN = "1397"
PCMR = 0x40  # CTAP 2.2 permission: persistent credential management, read only
CM = CredentialManagement


def sha256(data):
    return hashlib.sha256(data).digest()


def decrypt_info(ctap, token, key, label):
    """getInfo member `key` (0x19 encIdentifier, 0x1E encCredStoreState):
    IV || AES-128-CBC(HKDF-SHA-256(token, 32 zero bytes, label, 16), IV, value)."""
    enc = ctap.send_cbor(Ctap2.CMD.GET_INFO)[key]
    check(len(enc) == 32, "getInfo 0x%02x is %d bytes" % (key, len(enc)))
    k = HKDF(algorithm=hashes.SHA256(), length=16, salt=b"\0" * 32, info=label).derive(token)
    d = Cipher(algorithms.AES(k), modes.CBC(enc[:16])).decryptor()
    return d.update(enc[16:]) + d.finalize()


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except CtapError as e:
        check(e.code == code, "expected %s, got %s" % (code, e))
        return
    raise AssertionError("expected %s, the call succeeded" % code)


def first_run(daemon):
    client = attach(daemon)
    try:
        ctap = Ctap2(open_fido(client))
        check(ctap.info.options.get("perCredMgmtRO") is True, ctap.info.options)
        for uid in (b"uid-1", b"uid-2"):
            ctap.make_credential(sha256(uid), {"id": "example.com", "name": "Example"},
                                 {"id": uid, "name": uid.decode()}, [{"type": "public-key", "alg": -7}],
                                 options={"rk": True})
        ClientPin(ctap, PinProtocolV2()).set_pin(PIN)
        ctap = Ctap2(ctap.device)
        client_pin = ClientPin(ctap, PinProtocolV2())
        expect_error(CtapError.ERR.UNAUTHORIZED_PERMISSION, client_pin.get_pin_token, PIN,
                     permissions=PCMR | ClientPin.PERMISSION.CREDENTIAL_MGMT)
        token = client_pin.get_pin_token(PIN, permissions=PCMR)
        check(client_pin.get_pin_token(PIN, permissions=PCMR) == token, "a second pcmr request got another token")
        cm = CM(ctap, client_pin.protocol, token)
        check(cm.get_metadata()[CM.RESULT.EXISTING_CRED_COUNT] == 2, "metadata")
        check([r[CM.RESULT.RP]["id"] for r in cm.enumerate_rps()] == ["example.com"], "RPs")
        listed = cm.enumerate_creds(sha256(b"example.com"))
        check(sorted(c[CM.RESULT.USER]["id"] for c in listed) == [b"uid-1", b"uid-2"], listed)
        victim = listed[0][CM.RESULT.CREDENTIAL_ID]
        expect_error(CtapError.ERR.PIN_AUTH_INVALID, cm.delete_cred, victim)
        check(cm.get_metadata()[CM.RESULT.EXISTING_CRED_COUNT] == 2, "a pcmr token deleted a credential")
        ident = decrypt_info(ctap, token, 0x19, b"encIdentifier")
        state = decrypt_info(ctap, token, 0x1E, b"encCredStoreState")
        return token, ident, state
    finally:
        client.close()


def after_restart(daemon, token, ident, state):
    client = attach(daemon)
    try:
        ctap = Ctap2(open_fido(client))
        check(decrypt_info(ctap, token, 0x19, b"encIdentifier") == ident, "another device identifier after restart")
        check(decrypt_info(ctap, token, 0x1E, b"encCredStoreState") == state, "store state changed by a restart")
        cm = CM(ctap, PinProtocolV2(), token)  # no PIN this time: the saved token only
        listed = cm.enumerate_creds(sha256(b"example.com"))
        check(len(listed) == 2, "the token did not survive the restart")
        client_pin = ClientPin(ctap, PinProtocolV2())
        CM(ctap, client_pin.protocol, client_pin.get_pin_token(PIN, permissions=ClientPin.PERMISSION.CREDENTIAL_MGMT)
           ).delete_cred(listed[0][CM.RESULT.CREDENTIAL_ID])
        check(decrypt_info(ctap, token, 0x1E, b"encCredStoreState") != state, "store state unchanged by a deletion")
        check(decrypt_info(ctap, token, 0x19, b"encIdentifier") == ident, "a deletion changed the identifier")
        ClientPin(ctap, PinProtocolV2()).change_pin(PIN, NEW_PIN)
        expect_error(CtapError.ERR.PIN_AUTH_INVALID, cm.get_metadata)
    finally:
        client.close()


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    state = tempfile.mkdtemp(prefix="vauth-pcmr-")
    store = ("--store", "durable", "--state-dir", state)
    failed = False
    start = time.monotonic()
    daemon = None
    try:
        daemon = Daemon(argv[1], seed=23, store_args=store)
        token, ident, state = first_run(daemon)
        check(daemon.stop() == 0, "vauthd did not stop cleanly")
        daemon = Daemon(argv[1], seed=23, store_args=store)
        after_restart(daemon, token, ident, state)
        print("PASS persistent pcmr token (%.2f s)" % (time.monotonic() - start))
    except Exception:  # noqa: BLE001
        failed = True
        print("FAIL persistent pcmr token")
        traceback.print_exc(file=sys.stdout)
    finally:
        if daemon:
            status = daemon.stop()
            if status not in (0, None):
                print("FAIL vauthd exited with status %s on SIGTERM" % status)
                failed = True
        shutil.rmtree(state, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
