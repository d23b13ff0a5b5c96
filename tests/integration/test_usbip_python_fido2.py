#!/usr/bin/python3
"""End to end over USB/IP, without a kernel: python-fido2 -> usbip_client ->
vauthd's USB/IP server -> CTAPHID -> the authenticator.

Usage: /usr/bin/python3 test_usbip_python_fido2.py /path/to/vauthd

Run it with Debian's /usr/bin/python3 (python3-fido2 0.9.1 lives there).
Starts `vauthd --transport usbip --usbip-listen 127.0.0.1:0 --seed N`, waits
for its readiness line ("... usbip 127.0.0.1:<port> ..."), and drives it the
way vhci-hcd + usbhid + a FIDO client would: devlist, import, enumeration,
then getInfo / makeCredential / getAssertion with the assertion signature
checked against the new credential's public key.
"""

import hashlib
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import usbip_client  # noqa: E402
from vauthd_process import VauthdProcess, run_suite  # noqa: E402
from usbip_client import UsbipClient, UsbipError  # noqa: E402

from fido2.attestation import Attestation  # noqa: E402
from fido2.client import Fido2Client  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.hid import CtapHidDevice  # noqa: E402
from fido2.hid.base import CtapHidConnection, HidDescriptor, parse_report_descriptor  # noqa: E402
from fido2.webauthn import (  # noqa: E402
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    PublicKeyCredentialParameters,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialType,
)

VID, PID = 0x1209, 0x7A01


class UsbipHidConnection(CtapHidConnection):
    """A CTAPHID connection over an imported USB/IP device: output reports go
    out as interrupt OUT URBs, input reports come back through the interrupt IN
    URB kept posted (as usbhid does while hidraw is open)."""

    def __init__(self, client):
        self.client = client
        self.client.post_in()

    def read_packet(self):
        return self.client.interrupt_in(timeout=30)

    def write_packet(self, data):
        assert len(data) == 64, len(data)
        self.client.interrupt_out(data)

    def close(self):
        # Closing hidraw: usbhid unlinks its IN URB.
        self.client.unlink_in()


class Daemon(VauthdProcess):
    # `store_args` default to a throw-away store, so parallel tests never share state.
    def __init__(self, binary, seed, store_args=("--store", "ephemeral")):
        self.start([binary, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--seed", str(seed),
                    "--no-control", *store_args])


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def attach(daemon, busid="1-1"):
    client = UsbipClient(daemon.host, daemon.port, timeout=30)
    client.import_device(busid)
    return client


def open_fido(client):
    desc = HidDescriptor("usbip://%s" % client.device["busid"], VID, PID, 64, 64)
    return CtapHidDevice(desc, UsbipHidConnection(client))


# ---------------------------------------------------------------- the checks

def test_devlist(daemon):
    devices = usbip_client.devlist(daemon.host, daemon.port)
    check(len(devices) >= 1, "no devices exported")
    d = devices[0]
    check(d["busid"] == "1-1", d)
    check(d["path"] == "/sys/devices/platform/vauth/usb1/1-1", d)
    check((d["busnum"], d["devnum"], d["speed"]) == (1, 1, 2), d)
    check((d["idVendor"], d["idProduct"]) == (VID, PID), d)
    check(d["bNumInterfaces"] == 1 and d["interfaces"] == [(3, 0, 0)], d)


def test_enumeration(daemon):
    with attach(daemon) as c:
        info = c.enumerate()
        dev = info["device"]
        check(len(dev) == 18 and dev[1] == 1, dev.hex())
        check(struct.unpack_from("<H", dev, 2)[0] == 0x0200, "bcdUSB")
        check(dev[7] == 64, "bMaxPacketSize0")
        check(struct.unpack_from("<HH", dev, 8) == (VID, PID), "IDs")
        check(info["qualifier_stalled"], "device qualifier must stall on a full-speed device")
        cfg = info["configuration"]
        check(len(cfg) == struct.unpack_from("<H", cfg, 2)[0] == 41, cfg.hex())
        check(info["langids"] == b"\x04\x03\x09\x04", info["langids"].hex())
        check(info["manufacturer"] == "vauth", info["manufacturer"])
        check(info["product"], "empty product string")
        check(parse_report_descriptor(info["report_descriptor"]) == (64, 64), "not a FIDO report descriptor")
    # A second import on a fresh connection works: the first one released the device.
    with attach(daemon) as c:
        c.get_descriptor(usbip_client.DT_DEVICE, 0, 18)


def test_import_exclusive(daemon):
    with attach(daemon):
        with UsbipClient(daemon.host, daemon.port) as other:
            try:
                other.import_device("1-1")
            except UsbipError:
                pass
            else:
                raise AssertionError("a second host imported a device already in use")
        with UsbipClient(daemon.host, daemon.port) as other:
            try:
                other.import_device("9-9")
            except UsbipError:
                pass
            else:
                raise AssertionError("an unknown bus ID was imported")


def test_ctap2(daemon):
    with attach(daemon) as c:
        c.enumerate()
        dev = open_fido(c)
        check(dev.ping(b"over usbip") == b"over usbip", "CTAPHID PING")
        ctap = Ctap2(dev)
        info = ctap.get_info()
        check("FIDO_2_0" in info.versions, info.versions)
        print("getInfo:", info.versions, "aaguid", info.aaguid.hex() if hasattr(info.aaguid, "hex") else info.aaguid)

        rp = {"id": "example.org", "name": "Example"}
        user = {"id": b"user-1", "name": "alice"}
        cdh = hashlib.sha256(b"make-credential client data").digest()
        att = ctap.make_credential(cdh, rp, user, [{"type": "public-key", "alg": -7}])
        cred = att.auth_data.credential_data
        check(cred is not None, "no attested credential data")
        check(att.auth_data.rp_id_hash == hashlib.sha256(b"example.org").digest(), "rpIdHash")
        check(att.auth_data.is_user_present(), "UP flag")
        # The attestation statement verifies over authData + clientDataHash (its
        # certificate chain's trust is the relying party's business, not checked here).
        Attestation.for_type(att.fmt)().verify(att.att_statement, att.auth_data, cdh)
        print("makeCredential: fmt", att.fmt, "credential", cred.credential_id.hex()[:32], "...")

        cdh2 = hashlib.sha256(b"get-assertion client data").digest()
        assertion = ctap.get_assertion(
            "example.org", cdh2, [{"type": "public-key", "id": cred.credential_id}])
        # Raises InvalidSignature if the signature does not verify.
        cred.public_key.verify(assertion.auth_data + cdh2, assertion.signature)
        check(assertion.auth_data.counter >= att.auth_data.counter, "signature counter went back")
        print("getAssertion: signature verified, counter", assertion.auth_data.counter)

        # hidraw closed and reopened (usbhid unlinks and reposts its IN URB), several times.
        for i in range(3):
            statuses = c.unlink_in()
            check(statuses and all(s in (0, usbip_client.ECONNRESET) for s in statuses), statuses)
            c.post_in()
            check(dev.ping(b"again %d" % i) == b"again %d" % i, "PING after reopen")


def test_fido2_client(daemon):
    with attach(daemon) as c:
        c.enumerate()
        dev = open_fido(c)
        client = Fido2Client(dev, "https://example.org")
        create = PublicKeyCredentialCreationOptions(
            PublicKeyCredentialRpEntity("example.org", "Example"),
            PublicKeyCredentialUserEntity(b"user-2", "bob"),
            os.urandom(32),
            [PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, -7)],
        )
        result = client.make_credential(create)
        cred = result.attestation_object.auth_data.credential_data
        request = PublicKeyCredentialRequestOptions(
            os.urandom(32), rp_id="example.org",
            allow_credentials=[PublicKeyCredentialDescriptor(PublicKeyCredentialType.PUBLIC_KEY,
                                                             cred.credential_id)])
        assertions = client.get_assertion(request)
        response = assertions.get_response(0)
        cred.public_key.verify(response.authenticator_data + response.client_data.hash,
                               response.signature)
        print("Fido2Client: registration and authentication verified")


def test_garbage_then_service(daemon):
    s = socket.create_connection((daemon.host, daemon.port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: vauth\r\n\r\n")
    s.settimeout(10)
    try:
        check(s.recv(100) == b"", "the server answered garbage instead of closing")
    except ConnectionResetError:
        pass
    s.close()
    with attach(daemon) as c:
        c.enumerate()
        check(open_fido(c).ping(b"still here") == b"still here", "PING after garbage")


TESTS = [test_devlist, test_enumeration, test_import_exclusive, test_ctap2, test_fido2_client,
         test_garbage_then_service]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    return run_suite(TESTS, Daemon(argv[1], seed=42))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
