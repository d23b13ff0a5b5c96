#!/usr/bin/python3
"""Runs inside `vauth run --pin PIN --devices N`: python-fido2 (Debian's 0.9.1)
must find the keys through its own Linux hidraw backend (sysfs + /dev/hidrawN,
exactly as for a USB key) and complete a WebAuthn registration and
authentication with the PIN through Fido2Client.

Usage: vauth_run_python_client.py PIN EXPECTED_KEYS
Prints one line per step and exits non-zero on the first failure."""
import os
import sys

from fido2.client import Fido2Client
from fido2.ctap2 import Ctap2
from fido2.hid import CtapHidDevice
from fido2.webauthn import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    UserVerificationRequirement,
)


def main(pin, expected):
    devices = sorted(CtapHidDevice.list_devices(), key=lambda d: d.descriptor.path)
    paths = [d.descriptor.path for d in devices]
    print("list_devices:", paths)
    if len(devices) != expected:
        raise SystemExit("expected %d keys, found %d" % (expected, len(devices)))
    for d in devices:
        if (d.descriptor.vid, d.descriptor.pid) != (0x1209, 0x7A01):
            raise SystemExit("unexpected IDs %04x:%04x" % (d.descriptor.vid, d.descriptor.pid))
        print(d.descriptor.path, "getInfo versions:", Ctap2(d).get_info().versions)

    dev = devices[0]
    client = Fido2Client(dev, "https://example.org")
    create = PublicKeyCredentialCreationOptions(
        PublicKeyCredentialRpEntity("example.org", "Example"),
        PublicKeyCredentialUserEntity(b"user-kernel-free", "carol"),
        os.urandom(32),
        [PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, -7)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            user_verification=UserVerificationRequirement.REQUIRED),
    )
    result = client.make_credential(create, pin=pin)
    auth_data = result.attestation_object.auth_data
    if not auth_data.is_user_verified():
        raise SystemExit("registration is not user-verified although a PIN was given")
    cred = auth_data.credential_data
    print("make_credential: credential", cred.credential_id.hex()[:16], "... UV set")

    request = PublicKeyCredentialRequestOptions(
        os.urandom(32), rp_id="example.org",
        allow_credentials=[PublicKeyCredentialDescriptor(PublicKeyCredentialType.PUBLIC_KEY, cred.credential_id)],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    response = client.get_assertion(request, pin=pin).get_response(0)
    cred.public_key.verify(response.authenticator_data + response.client_data.hash, response.signature)
    if not response.authenticator_data.is_user_verified():
        raise SystemExit("assertion is not user-verified")
    print("get_assertion: signature verified with the registered key")

    # A wrong PIN is refused by the key (the count of retries is the key's business).
    try:
        client.get_assertion(request, pin="0000")
    except Exception as e:  # python-fido2 raises ClientError(BAD_REQUEST) wrapping PIN_INVALID
        print("wrong PIN refused:", type(e).__name__)
    else:
        raise SystemExit("a wrong PIN was accepted")
    print("PYTHON-FIDO2-OK")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
