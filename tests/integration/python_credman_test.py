#!/usr/bin/python3
"""authenticatorCredentialManagement end to end with python-fido2 over USB/IP:
python-fido2 (Debian's 0.9.1, which sends command 0x0A when getInfo says
"credMgmt") -> usbip_client -> vauthd's USB/IP server -> the authenticator.

Usage: /usr/bin/python3 python_credman_test.py /path/to/vauthd

Reuses the daemon and USB/IP plumbing of test_usbip_python_fido2.py.
Registers three discoverable credentials on two RPs, sets a PIN, then with a
pinUvAuthToken carrying the cm permission: metadata, RP and credential
enumeration (the enumerated public key checks an assertion signature),
updateUserInformation (seen in a verified discoverable getAssertion) and
deleteCredential.
"""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_usbip_python_fido2 import Daemon, attach, check, open_fido  # noqa: E402
from vauthd_process import run_suite  # noqa: E402

from fido2.cose import CoseKey  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2, CredentialManagement  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402

PIN = "1234"
CM = CredentialManagement
ACCOUNTS = [
    # rp id, rp name, user id, name, display name, COSE alg
    ("example.com", "Example", b"uid-alice", "alice", "Alice A.", -7),
    ("example.com", "Example", b"uid-bob", "bob", "Bob B.", -8),
    ("other.org", "Other", b"uid-carol", "carol", "Carol C.", -7),
]


def sha256(data):
    return hashlib.sha256(data).digest()


def register(ctap):
    creds = {}
    for rp_id, rp_name, uid, name, display, alg in ACCOUNTS:
        att = ctap.make_credential(
            sha256(b"register " + uid),
            {"id": rp_id, "name": rp_name},
            {"id": uid, "name": name, "displayName": display},
            [{"type": "public-key", "alg": alg}],
            options={"rk": True},
        )
        creds[uid] = att.auth_data.credential_data
    return creds


def cm_session(ctap):
    client_pin = ClientPin(ctap)
    token = client_pin.get_pin_token(PIN, permissions=ClientPin.PERMISSION.CREDENTIAL_MGMT)
    return CM(ctap, client_pin.protocol, token)


def credential_management(daemon):
    client = attach(daemon)
    try:
        ctap = Ctap2(open_fido(client))
        check("credMgmt" in ctap.info.options, ctap.info.options)
        check(ctap.info.options.get("pinUvAuthToken") is True, ctap.info.options)
        creds = register(ctap)
        ClientPin(ctap).set_pin(PIN)
        ctap = Ctap2(ctap.device)  # re-read getInfo: clientPin is true now
        cm = cm_session(ctap)

        meta = cm.get_metadata()
        check(meta[CM.RESULT.EXISTING_CRED_COUNT] == 3, meta)
        check(meta[CM.RESULT.MAX_REMAINING_COUNT] > 0, meta)

        rps = cm.enumerate_rps()
        seen = {r[CM.RESULT.RP]["id"]: r for r in rps}
        check(sorted(seen) == ["example.com", "other.org"], rps)
        for rp_id, r in seen.items():
            check(r[CM.RESULT.RP_ID_HASH] == sha256(rp_id.encode()), r)
        check(seen["example.com"][CM.RESULT.RP].get("name") == "Example", seen)

        listed = cm.enumerate_creds(sha256(b"example.com"))
        check(len(listed) == 2, listed)
        by_user = {c[CM.RESULT.USER]["id"]: c for c in listed}
        for rp_id, _, uid, name, display, alg in ACCOUNTS[:2]:
            c = by_user[uid]
            check(c[CM.RESULT.USER] == {"id": uid, "name": name, "displayName": display}, c)
            check(c[CM.RESULT.CREDENTIAL_ID] == {"id": creds[uid].credential_id, "type": "public-key"}, c)
            key = CoseKey.parse(c[CM.RESULT.PUBLIC_KEY])
            check(dict(key) == dict(creds[uid].public_key), (key, creds[uid].public_key))
            # The enumerated public key checks a fresh assertion.
            cdh = sha256(b"sign in " + uid)
            a = ctap.get_assertion(rp_id, cdh, [{"type": "public-key", "id": creds[uid].credential_id}])
            a.verify(cdh, key)

        # updateUserInformation, then a verified discoverable sign-in shows the new name.
        alice = creds[b"uid-alice"].credential_id
        cm.update_user_info({"id": alice, "type": "public-key"}, {"id": b"uid-alice", "name": "alice.smith"})
        updated = {c[CM.RESULT.USER]["id"]: c for c in cm.enumerate_creds(sha256(b"example.com"))}
        check(updated[b"uid-alice"][CM.RESULT.USER] == {"id": b"uid-alice", "name": "alice.smith"}, updated)
        try:
            cm.update_user_info({"id": alice, "type": "public-key"}, {"id": b"uid-bob", "name": "mallory"})
            raise AssertionError("another user.id was accepted")
        except CtapError as e:
            check(e.code == CtapError.ERR.INVALID_PARAMETER, e)

        client_pin = ClientPin(ctap)
        ga_token = client_pin.get_pin_token(PIN, permissions=ClientPin.PERMISSION.GET_ASSERTION,
                                            permissions_rpid="example.com")
        cdh = sha256(b"discoverable")
        first = ctap.get_assertion("example.com", cdh, pin_uv_param=client_pin.protocol.authenticate(ga_token, cdh),
                                   pin_uv_protocol=client_pin.protocol.VERSION)
        assertions = [first] + [ctap.get_next_assertion() for _ in range(1, first.number_of_credentials or 1)]
        names = {a.user["id"]: a.user.get("name") for a in assertions}
        check(names.get(b"uid-alice") == "alice.smith", names)

        # deleteCredential: gone from the list and from getAssertion.
        cm = cm_session(ctap)
        bob = creds[b"uid-bob"].credential_id
        cm.delete_cred({"id": bob, "type": "public-key"})
        check(len(cm.enumerate_creds(sha256(b"example.com"))) == 1, "bob still listed")
        check(cm.get_metadata()[CM.RESULT.EXISTING_CRED_COUNT] == 2, "count after delete")
        try:
            ctap.get_assertion("example.com", cdh, [{"type": "public-key", "id": bob}])
            raise AssertionError("a deleted credential still asserts")
        except CtapError as e:
            check(e.code == CtapError.ERR.NO_CREDENTIALS, e)
    finally:
        client.close()


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    return run_suite([credential_management], Daemon(argv[1], seed=7))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
