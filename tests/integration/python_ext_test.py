#!/usr/bin/python3
"""hmac-secret and the large-blob array end to end with python-fido2 over USB/IP:
python-fido2 (Debian's 0.9.1) -> usbip_client -> vauthd's USB/IP server -> the
authenticator.

Usage: /usr/bin/python3 python_ext_test.py /path/to/vauthd

- hmac-secret through Fido2Client's hmacCreateSecret / hmacGetSecret (one and
  two salts; the same salt gives the same secret, another salt another one);
- largeBlobKey from makeCredential, then fido2.ctap2.blob.LargeBlobs with an
  lbw pinUvAuthToken: put, get, delete; a write without a token is refused
  with PUAT_REQUIRED and a corrupted array with INTEGRITY_FAILURE.
"""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_usbip_python_fido2 import Daemon, attach, check, open_fido  # noqa: E402
from vauthd_process import run_suite  # noqa: E402

from fido2.client import Fido2Client  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.ctap2.blob import LargeBlobs  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402
from fido2.webauthn import (  # noqa: E402
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
)

PIN = "1234"


def sha256(data):
    return hashlib.sha256(data).digest()


def check_info(ctap):
    info = ctap.info
    for ext in ("credProtect", "hmac-secret", "credBlob", "largeBlobKey"):
        check(ext in info.extensions, info.extensions)
    check(info.options.get("largeBlobs") is True, info.options)
    check(info.data.get(0x0B) == 4096, info.data)  # maxSerializedLargeBlobArray
    check(info.data.get(0x0F) == 32, info.data)  # maxCredBlobLength


def test_hmac_secret(dev):
    client = Fido2Client(dev, "https://example.org")
    create = PublicKeyCredentialCreationOptions(
        PublicKeyCredentialRpEntity("example.org", "Example"),
        PublicKeyCredentialUserEntity(b"user-hmac", "hmac"),
        os.urandom(32),
        [PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, -7)],
        extensions={"hmacCreateSecret": True},
    )
    result = client.make_credential(create)
    check(result.extension_results.get("hmacCreateSecret") is True, result.extension_results)
    cred = result.attestation_object.auth_data.credential_data

    def get(salts):
        request = PublicKeyCredentialRequestOptions(
            os.urandom(32), rp_id="example.org",
            allow_credentials=[PublicKeyCredentialDescriptor(PublicKeyCredentialType.PUBLIC_KEY,
                                                             cred.credential_id)],
            extensions={"hmacGetSecret": salts})
        response = client.get_assertion(request).get_response(0)
        cred.public_key.verify(response.authenticator_data + response.client_data.hash, response.signature)
        return response.extension_results["hmacGetSecret"]

    salt1, salt2 = os.urandom(32), os.urandom(32)
    one = get({"salt1": salt1})
    check(len(one["output1"]) == 32 and "output2" not in one, one)
    two = get({"salt1": salt1, "salt2": salt2})
    check(two["output1"] == one["output1"], "the same salt gave another secret")
    check(len(two["output2"]) == 32 and two["output2"] != two["output1"], two)
    check(get({"salt1": salt2})["output1"] == two["output2"], "salt2 output differs from salt1 output")
    print("hmac-secret: one and two salts through Fido2Client")


def test_large_blobs(ctap):
    ClientPin(ctap).set_pin(PIN)
    ctap = Ctap2(ctap.device)  # re-read getInfo: clientPin is true now
    client_pin = ClientPin(ctap)
    cdh = sha256(b"large blob key")
    token = client_pin.get_pin_token(PIN, permissions=ClientPin.PERMISSION.MAKE_CREDENTIAL,
                                     permissions_rpid="example.com")
    att = ctap.make_credential(
        cdh, {"id": "example.com", "name": "Example"}, {"id": b"uid-lb", "name": "lb"},
        [{"type": "public-key", "alg": -7}], extensions={"largeBlobKey": True}, options={"rk": True},
        pin_uv_param=client_pin.protocol.authenticate(token, cdh), pin_uv_protocol=client_pin.protocol.VERSION)
    key = att.large_blob_key
    check(key is not None and len(key) == 32, att)

    # Reading needs no token; the array starts empty.
    check(LargeBlobs(ctap).read_blob_array() == [], "initial array is not empty")
    try:
        LargeBlobs(ctap).write_blob_array([b"no token"])
        raise AssertionError("a write without a token succeeded")
    except CtapError as e:
        check(e.code == CtapError.ERR.PIN_REQUIRED, e)

    token = client_pin.get_pin_token(PIN, permissions=ClientPin.PERMISSION.LARGE_BLOB_WRITE)
    blobs = LargeBlobs(ctap, client_pin.protocol, token)
    data = b"large blob payload " * 20
    blobs.put_blob(key, data)
    check(LargeBlobs(ctap).get_blob(key) == data, "large blob not read back")
    check(len(LargeBlobs(ctap).read_blob_array()) == 1, "array should hold one entry")
    blobs.delete_blob(key)
    check(LargeBlobs(ctap).get_blob(key) is None, "deleted blob still there")
    check(LargeBlobs(ctap).read_blob_array() == [], "array not empty after delete")

    # A corrupted array (the truncated hash does not match) is refused.
    body = b"\x81\x43abc"
    bad = body + b"\x00" * 16
    msg = b"\xff" * 32 + b"\x0c\x00" + (0).to_bytes(4, "little") + sha256(bad)
    try:
        ctap.large_blobs(0, set=bad, length=len(bad), pin_uv_protocol=client_pin.protocol.VERSION,
                         pin_uv_param=client_pin.protocol.authenticate(token, msg))
        raise AssertionError("a corrupted array was accepted")
    except CtapError as e:
        check(e.code == CtapError.ERR.INTEGRITY_FAILURE, e)
    print("largeBlobs: put, get, delete, PUAT_REQUIRED, INTEGRITY_FAILURE")


def extensions_and_large_blobs(daemon):
    client = attach(daemon)
    try:
        dev = open_fido(client)
        ctap = Ctap2(dev)
        check_info(ctap)
        test_hmac_secret(dev)
        test_large_blobs(ctap)
    finally:
        client.close()


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    return run_suite([extensions_and_large_blobs], Daemon(argv[1], seed=11))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
