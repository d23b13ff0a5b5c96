#!/usr/bin/python3
"""Every quirk of docs/faults.md seen by a real client: python-fido2 0.9.1 over
vauthd's USB/IP server, one daemon per quirk (`vauthd --quirk NAME`). Each
check shows what the client observes with the quirk and that the same request
behaves normally where the quirk does not apply.

Usage: /usr/bin/python3 quirks_client_test.py /path/to/vauthd /path/to/vauthctl
"""

import hashlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_http import EventStream  # noqa: E402
from fault_actions_test import Key, raises  # noqa: E402
from fault_injection_test import CDH, ES256, RP, Daemon, check, ctap_error  # noqa: E402

from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap1 import Ctap1  # noqa: E402
from fido2.ctap2 import ClientPin, CredentialManagement  # noqa: E402

PIN = "4711"


def descriptor(cred_id):
    return {"type": "public-key", "id": cred_id}


def prompts(events):
    return [e for e in events.events() if e["type"] == "presence.prompt"]


def q_invalid_credential_before_touch(key, events):
    cred = key.make()
    check(ctap_error(key.ctap.get_assertion, RP["id"], CDH, [descriptor(b"\x01" * 32)])
          == CtapError.ERR.INVALID_CREDENTIAL, "INVALID_CREDENTIAL")
    time.sleep(0.2)
    check(len(prompts(events)) == 1, "a touch was asked for an unknown credential")  # only make's prompt
    key.assertion(cred)


def q_no_credentials_immediately(key, events):
    check(ctap_error(key.ctap.get_assertion, RP["id"], CDH, [descriptor(b"\x01" * 32)])
          == CtapError.ERR.NO_CREDENTIALS, "NO_CREDENTIALS")
    check(ctap_error(key.ctap.get_assertion, RP["id"], CDH) == CtapError.ERR.NO_CREDENTIALS, "discoverable")
    time.sleep(0.2)
    check(prompts(events) == [], "a touch was asked before NO_CREDENTIALS")


def q_reject_large_lists(key, events):
    cred = key.make()
    cid = cred.auth_data.credential_data.credential_id
    check(ctap_error(key.ctap.get_assertion, RP["id"], CDH, [descriptor(cid), descriptor(b"\x02" * 32)])
          == CtapError.ERR.LIMIT_EXCEEDED, "allowList of two")
    check(ctap_error(key.ctap.make_credential, CDH, RP, {"id": b"b", "name": "b"}, ES256,
                     [descriptor(cid), descriptor(b"\x02" * 32)]) == CtapError.ERR.LIMIT_EXCEEDED, "excludeList")
    key.assertion(cred)


def q_reject_silent(key, events):
    cred = key.make()
    cid = cred.auth_data.credential_data.credential_id
    check(ctap_error(key.ctap.get_assertion, RP["id"], CDH, [descriptor(cid)], None, {"up": False})
          == CtapError.ERR.UNSUPPORTED_OPTION, "up=false")
    key.assertion(cred)


def q_omit_user_entity(key, events):
    key.make(b"alice", rk=True)
    a = key.ctap.get_assertion(RP["id"], CDH)
    check(a.user is None and a.credential is not None, (a.user, a.credential))


def q_omit_single_credential(key, events):
    cred = key.make(b"alice", rk=True)
    a = key.assertion(cred)
    check(a.credential is None, "credential sent for an allowList of one")
    a.verify(CDH, cred.auth_data.credential_data.public_key)
    check(key.ctap.get_assertion(RP["id"], CDH).credential is not None, "discoverable: the credential is needed")


def q_never_include_credential(key, events):
    cred = key.make(b"alice", rk=True)
    a = key.ctap.get_assertion(RP["id"], CDH)
    check(a.credential is None, "the credential was sent")
    a.verify(CDH, cred.auth_data.credential_data.public_key)


def q_reject_empty_display_name(key, events):
    check(ctap_error(key.ctap.make_credential, CDH, RP, {"id": b"b", "name": "b"}, ES256)
          == CtapError.ERR.MISSING_PARAMETER, "no displayName")
    check(ctap_error(key.ctap.make_credential, CDH, RP, {"id": b"b", "name": "b", "displayName": ""}, ES256)
          == CtapError.ERR.MISSING_PARAMETER, "empty displayName")
    key.make()  # Key.make sends a displayName


def q_u2f_invisible_to_ctap2(key, events):
    app = hashlib.sha256(RP["id"].encode()).digest()
    reg = Ctap1(key.dev).register(CDH, app)
    check(ctap_error(key.ctap.get_assertion, RP["id"], CDH, [descriptor(reg.key_handle)])
          == CtapError.ERR.NO_CREDENTIALS, "a U2F key handle seen by CTAP2")
    Ctap1(key.dev).authenticate(CDH, app, reg.key_handle).verify(app, CDH, reg.public_key)


def q_truncate_user_name(key, events):
    key.ctap.make_credential(CDH, RP, {"id": b"u", "name": "h\u00e9h\u00e9!", "displayName": "A"}, ES256,
                             options={"rk": True})
    pin = ClientPin(key.ctap)
    pin.set_pin(PIN)  # after the registration: a discoverable credential needs no PIN yet
    token = pin.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
    cm = CredentialManagement(key.ctap, pin.protocol, token)
    rp_hash = hashlib.sha256(RP["id"].encode()).digest()
    # The stored name is "h\xc3\xa9h\xc3": python-fido2 cannot decode it as text.
    e = raises(cm.enumerate_creds, rp_hash)
    check(isinstance(e, UnicodeDecodeError), repr(e))


def q_reject_extensions(key, events):
    e = raises(key.make, extensions={"credProtect": 1})
    check(isinstance(e, CtapError) and e.code == CtapError.ERR.UNSUPPORTED_EXTENSION, repr(e))
    cred = key.make()
    e = raises(key.assertion, cred, extensions={"credBlob": True})
    check(isinstance(e, CtapError) and e.code == CtapError.ERR.UNSUPPORTED_EXTENSION, repr(e))
    key.assertion(cred)


def q_attested_data_in_assertion(key, events):
    cred = key.make()
    a = key.assertion(cred)
    cd = a.auth_data.credential_data
    check(a.auth_data.flags & 0x40 and cd is not None, "AT not set")
    check(cd.credential_id == cred.auth_data.credential_data.credential_id, "another credential")
    a.verify(CDH, cd.public_key)


def q_always_ep_att(key, events):
    att = key.make()
    check(att.ep_att is True, "epAtt %r" % att.ep_att)
    check(att.fmt == "packed", att.fmt)


QUIRKS = [
    ("invalid-credential-before-touch", q_invalid_credential_before_touch),
    ("no-credentials-immediately", q_no_credentials_immediately),
    ("reject-large-lists", q_reject_large_lists),
    ("reject-silent", q_reject_silent),
    ("omit-user-entity", q_omit_user_entity),
    ("omit-single-credential", q_omit_single_credential),
    ("never-include-credential", q_never_include_credential),
    ("reject-empty-display-name", q_reject_empty_display_name),
    ("u2f-invisible-to-ctap2", q_u2f_invisible_to_ctap2),
    ("truncate-user-name=5", q_truncate_user_name),
    ("reject-extensions", q_reject_extensions),
    ("attested-data-in-assertion", q_attested_data_in_assertion),
    ("always-ep-att", q_always_ep_att),
]


def run(vauthd, vauthctl, quirk, body):
    extra = ["--quirk", quirk]
    daemon = Daemon(vauthd, vauthctl, fault=None, extra=extra)
    events = EventStream(daemon.socket)
    key = Key(daemon)
    try:
        body(key, events)
        check(daemon.proc.poll() is None, "vauthd died")
        check("FIDO_2_0" in key.ctap.get_info().versions, "getInfo afterwards")
    finally:
        key.close()
        events.close()
        status = daemon.stop()
    check(status == 0, "vauthd exited with %s on SIGTERM" % status)


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    only = argv[3:]
    failures = ran = 0
    for quirk, body in QUIRKS:
        if only and quirk not in only:
            continue
        ran += 1
        start = time.monotonic()
        try:
            run(argv[1], argv[2], quirk, body)
            print("PASS %s (%.2f s)" % (quirk, time.monotonic() - start))
        except Exception:  # noqa: BLE001 - report every failure, then go on
            failures += 1
            print("FAIL %s" % quirk)
            traceback.print_exc(file=sys.stdout)
    print("%d of %d quirks failed" % (failures, ran) if failures else "all %d quirks passed" % ran)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
