#!/usr/bin/python3
"""Provisioning through the control API, checked by a real client.

Usage: /usr/bin/python3 provisioning_test.py /path/to/vauthd /path/to/vauthctl /path/to/vauth

Keys are made here with python3-cryptography (not by vauth), added to a running
vauthd as W3C WebAuthn Automation "Credential Parameters", and python-fido2
(Debian's 0.9.1, over the user-space USB/IP client) gets assertions whose
signatures verify with the test's own public keys: a resident credential by
discovery, a non-resident one only through an allowList. Then: bad requests
get 4xx and change nothing; the PIN is set and cleared; the device is exported
(vauthctl export, a 0600 file) and imported into a second daemon, where the
provisioned credentials and one python-fido2 made on the original assert;
that daemon is killed with SIGKILL right after the import was acknowledged
and still has it after a restart; a third daemon starts from the file with
`vauthd --import`, and python-fido2's own hidraw backend asserts under
`vauth run --import` (no kernel device). Last, a W3C largeBlob added with a
credential is read back by python-fido2 (authenticatorLargeBlobs) and by
fido2-token, exported, and survives SIGKILL; a credential the API replaces or
deletes leaves no entry behind in the array python-fido2 reads, and the other
entries stay.
"""

import base64
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import traceback
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vauthd_process import VauthdProcess  # noqa: E402
from test_usbip_python_fido2 import attach, open_fido  # noqa: E402

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.exceptions import InvalidTag  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.ctap2.blob import LargeBlobs  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402

RP_ID = "example.org"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key(curve=None):
    return ec.generate_private_key(curve or ec.SECP256R1())


def pkcs8(key):
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def verify(key, assertion, cdh):
    """The signature checks out with the test's own public key (raises otherwise)."""
    key.public_key().verify(assertion.signature, assertion.auth_data + cdh, ec.ECDSA(hashes.SHA256()))


class Daemon(VauthdProcess):
    def __init__(self, vauthd, vauthctl, state_dir, seed, extra=()):
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        self.socket = os.path.join(state_dir, "c.sock")
        self.start([vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--control-socket", self.socket,
                    "--seed", str(seed), "--state-dir", state_dir, *extra], self.socket, vauthctl, stderr=subprocess.STDOUT)

    def ctap(self):
        client = attach(self)
        return client, Ctap2(open_fido(client))


def assert_discoverable(ctap, key, cred_id, user_handle, label):
    cdh = hashlib.sha256(label.encode()).digest()
    a = ctap.get_assertion(RP_ID, cdh)
    check(a.credential["id"] == cred_id, "%s: discovered %s" % (label, a.credential))
    check(a.user["id"] == user_handle, "%s: user %s" % (label, a.user))
    check(not a.number_of_credentials, "%s: the non-resident credential was discovered too" % label)
    verify(key, a, cdh)
    return a


def assert_allowed(ctap, key, cred_id, label):
    cdh = hashlib.sha256(label.encode()).digest()
    a = ctap.get_assertion(RP_ID, cdh, [{"type": "public-key", "id": cred_id}])
    check(a.credential["id"] == cred_id, "%s: %s" % (label, a.credential))
    verify(key, a, cdh)
    return a


def bad_requests(d, other_key):
    """Each gets its 4xx with a JSON error, and the key's state is what it was."""
    before = (d.api.get("/v1/devices/1/credentials?include=privateKey"), d.api.get("/v1/devices/1")["signCount"])
    good = {"credentialId": b64url(b"fresh-id-0000001"), "isResidentCredential": True, "rpId": RP_ID,
            "privateKey": b64url(pkcs8(other_key)), "userHandle": b64url(b"someone"), "signCount": 5000}
    existing = before[0][0]["credentialId"]
    p384 = new_key(ec.SECP384R1())
    cases = [
        ("malformed JSON", "POST", "/v1/devices/1/credentials", '{"credentialId": ', 400),
        ("bad base64url", "POST", "/v1/devices/1/credentials", dict(good, credentialId="no*base64"), 400),
        ("key not matching algorithm", "POST", "/v1/devices/1/credentials",
         dict(good, privateKey=b64url(pkcs8(p384)), algorithm=-7), 400),
        ("not a key", "POST", "/v1/devices/1/credentials", dict(good, privateKey=b64url(b"\x30\x03\x02\x01\x00")), 400),
        ("duplicate credentialId", "POST", "/v1/devices/1/credentials", dict(good, credentialId=existing), 400),
        ("missing rpId", "POST", "/v1/devices/1/credentials", {k: v for k, v in good.items() if k != "rpId"}, 400),
        ("resident without userHandle", "POST", "/v1/devices/1/credentials",
         {k: v for k, v in good.items() if k != "userHandle"}, 400),
        ("unknown field", "POST", "/v1/devices/1/credentials", dict(good, surprise=1), 400),
        ("oversize credentialId", "POST", "/v1/devices/1/credentials", dict(good, credentialId=b64url(b"x" * 1000)), 400),
        ("import of a newer format", "POST", "/v1/devices/1/import",
         {"format": "vauth-device", "version": 99, "masterSecret": b64url(b"\x01" * 32)}, 400),
        ("import without a master secret", "POST", "/v1/devices/1/import", {"format": "vauth-device", "version": 1}, 400),
        ("export with an unknown query", "GET", "/v1/devices/1/credentials?include=everything", None, 400),
        ("export of an unknown credential", "GET", "/v1/devices/1/credentials/AAAA?include=privateKey", None, 404),
        ("import with GET", "GET", "/v1/devices/1/import", None, 405),
    ]
    for what, method, target, body, want in cases:
        status, answer = d.api.call(method, target, body)
        check(status == want, "%s: HTTP %d %s, wanted %d" % (what, status, answer, want))
        check(isinstance(answer, dict) and answer.get("error"), "%s: no JSON error: %s" % (what, answer))
        after = (d.api.get("/v1/devices/1/credentials?include=privateKey"), d.api.get("/v1/devices/1")["signCount"])
        check(after == before, "%s changed the state" % what)
        print("refused as it should be (HTTP %d): %s: %s" % (status, what, answer.get("detail")))


# Runs under `vauth run`: python-fido2 finds the key as /dev/hidraw0 and prints one assertion.
RUN_CLIENT = r"""
import base64, hashlib, json, sys
from fido2.ctap2 import Ctap2
from fido2.hid import CtapHidDevice
cred_id = base64.urlsafe_b64decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 4))
devices = list(CtapHidDevice.list_devices())
assert len(devices) == 1, devices
cdh = hashlib.sha256(b"vauth run").digest()
a = Ctap2(devices[0]).get_assertion("example.org", cdh, [{"type": "public-key", "id": cred_id}])
print(json.dumps({"authData": a.auth_data.hex(), "signature": a.signature.hex(), "id": a.credential["id"].hex()}))
"""


def run(vauthd, vauthctl, vauth, tmp):
    rk_key, nrk_key = new_key(), new_key()
    rk_id, nrk_id, user = os.urandom(16), os.urandom(32), b"user-handle-1"
    golden = os.path.join(tmp, "golden.json")

    a = Daemon(vauthd, vauthctl, os.path.join(tmp, "a"), 11)
    try:
        # A resident credential through the API, as a W3C WebAuthn automation test adds one.
        status, body = a.api.call("POST", "/v1/devices/1/credentials", {
            "credentialId": b64url(rk_id), "isResidentCredential": True, "rpId": RP_ID,
            "privateKey": b64url(pkcs8(rk_key)), "userHandle": b64url(user), "signCount": 100,
            "userName": "alice", "userDisplayName": "Alice"})
        check(status == 201, (status, body))
        check(body["credentialId"] == b64url(rk_id) and body["isResidentCredential"] is True, body)
        check("privateKey" not in body, "the answer leaked the private key")
        # A non-resident one through vauthctl.
        nrk_file = os.path.join(tmp, "nrk.json")
        with open(nrk_file, "w") as f:
            json.dump({"credentialId": b64url(nrk_id), "isResidentCredential": False, "rpId": RP_ID,
                       "privateKey": b64url(pkcs8(nrk_key))}, f)
        out = a.ctl("add-credential", "1", nrk_file).stdout
        check("non-resident credential" in out, out)

        client, ctap = a.ctap()
        first = assert_discoverable(ctap, rk_key, rk_id, user, "resident on the original")
        check(first.auth_data.counter > 100, "signCount 100 was not honoured: %d" % first.auth_data.counter)
        assert_allowed(ctap, nrk_key, nrk_id, "non-resident on the original")
        # A credential python-fido2 makes (a wrapped ID): the clone must know it too.
        cdh = hashlib.sha256(b"make").digest()
        made = ctap.make_credential(cdh, {"id": RP_ID, "name": "Example"}, {"id": b"u2", "name": "u2"},
                                    [{"type": "public-key", "alg": -7}]).auth_data.credential_data
        client.close()

        listing = a.api.get("/v1/devices/1/credentials")
        check(len(listing) == 2, listing)
        check(all("privateKey" not in c for c in listing), "GET .../credentials leaked a private key")
        check({c["isResidentCredential"] for c in listing} == {True, False}, listing)
        exported = a.api.get("/v1/devices/1/credentials/%s?include=privateKey" % b64url(rk_id))
        back = serialization.load_der_private_key(unb64url(exported["privateKey"]), None)
        check(back.private_numbers().private_value == rk_key.private_numbers().private_value, "exported key differs")

        bad_requests(a, new_key())

        # PIN: set, seen by the client, cleared, gone.
        a.ctl("set-pin", "1", "123456")
        client, ctap = a.ctap()
        check(ctap.info.options.get("clientPin") is True, ctap.info.options)
        client.close()
        out = a.ctl("clear-pin", "1").stdout
        check("cleared the PIN" in out, out)
        check(a.api.get("/v1/devices/1")["pin"]["set"] is False, "the API still reports a PIN")
        client, ctap = a.ctap()
        check(ctap.info.options.get("clientPin") is False, "getInfo after clear-pin: %s" % ctap.info.options)
        try:
            ClientPin(ctap).get_pin_token("123456", ClientPin.PERMISSION.GET_ASSERTION, RP_ID)
            raise AssertionError("a PIN token for a cleared PIN")
        except CtapError as e:
            check(e.code == CtapError.ERR.PIN_NOT_SET, "getPinToken after clear-pin: %s" % e)
        client.close()
        status, body = a.api.call("DELETE", "/v1/devices/1/pin")
        check(status == 200 and body["cleared"] is False, (status, body))

        # Export: a 0600 file holding the whole key.
        a.ctl("set-pin", "1", "654321")
        a.ctl("export", "1", golden)
        check(stat.S_IMODE(os.stat(golden).st_mode) == 0o600, "export file mode %o" % os.stat(golden).st_mode)
        with open(golden) as f:
            doc = json.load(f)
        check(doc["format"] == "vauth-device" and doc["version"] == 1 and len(doc["credentials"]) == 2, doc.keys())
        counter_at_export = doc["signCount"]
    finally:
        a.stop()

    # Import into a second daemon's key (durable store), then SIGKILL right after the answer.
    b_dir = os.path.join(tmp, "b")
    b = Daemon(vauthd, vauthctl, b_dir, 12)
    try:
        out = b.ctl("import", "1", golden).stdout
        check("2 credential(s), PIN set" in out, out)
    finally:
        b.proc.kill()
        b.proc.wait()
    print("killed the second daemon right after the import was acknowledged")
    b = Daemon(vauthd, vauthctl, b_dir, 12)
    try:
        check(b.api.get("/v1/devices/1")["pin"]["set"] is True, "the PIN did not survive")
        client, ctap = b.ctap()
        check(ctap.info.options.get("clientPin") is True, ctap.info.options)
        tok = ClientPin(ctap).get_pin_token("654321", ClientPin.PERMISSION.GET_ASSERTION, RP_ID)
        pin = ClientPin(ctap)
        cdh = hashlib.sha256(b"clone").digest()
        got = ctap.get_assertion(RP_ID, cdh, None, pin_uv_param=pin.protocol.authenticate(tok, cdh),
                                 pin_uv_protocol=pin.protocol.VERSION)
        check(got.credential["id"] == rk_id, got.credential)
        verify(rk_key, got, cdh)
        check(got.auth_data.counter > counter_at_export, "the clone's counter went back")
        assert_allowed(ctap, nrk_key, nrk_id, "non-resident on the clone")
        cdh = hashlib.sha256(b"made on the original").digest()
        m = ctap.get_assertion(RP_ID, cdh, [{"type": "public-key", "id": made.credential_id}])
        made.public_key.verify(m.auth_data + cdh, m.signature)
        client.close()
        print("the clone survived SIGKILL and asserts all three credentials")
    finally:
        b.stop()

    # vauthd --import: an unused key starts as the document.
    c = Daemon(vauthd, vauthctl, os.path.join(tmp, "c"), 13, ("--store", "ephemeral", "--import", golden))
    try:
        check(c.api.get("/v1/devices/1")["credentialCount"] == 2, "vauthd --import did not import")
        client, ctap = c.ctap()
        assert_allowed(ctap, nrk_key, nrk_id, "non-resident after vauthd --import")
        # W3C "Remove Credential" works for a provisioned non-resident credential too.
        c.ctl("delete-credential", "1", "--", b64url(nrk_id))  # "--": a base64url ID may start with "-"
        try:
            ctap.get_assertion(RP_ID, b"\x01" * 32, [{"type": "public-key", "id": nrk_id}])
            raise AssertionError("a deleted credential still asserts")
        except CtapError as e:
            check(e.code == CtapError.ERR.NO_CREDENTIALS, "after delete-credential: %s" % e)
        client.close()
        c.ctl("delete-credentials", "1")
        check(c.api.get("/v1/devices/1")["credentialCount"] == 0, "Remove All Credentials left some")
    finally:
        c.stop()

    # vauth run --import: a program sees the golden key as a hidraw device.
    r = subprocess.run([vauth, "run", "--vauthd", vauthd, "--import", golden, "--", "/usr/bin/python3", "-c",
                        RUN_CLIENT, b64url(nrk_id)], capture_output=True, text=True, timeout=120)
    print(r.stdout + r.stderr, end="")
    check(r.returncode == 0, "vauth run --import exited %d" % r.returncode)
    got = json.loads(r.stdout.strip().splitlines()[-1])
    check(bytes.fromhex(got["id"]) == nrk_id, got)
    nrk_key.public_key().verify(bytes.fromhex(got["signature"]),
                                bytes.fromhex(got["authData"]) + hashlib.sha256(b"vauth run").digest(),
                                ec.ECDSA(hashes.SHA256()))
    print("vauth run --import: python-fido2's hidraw backend asserts the provisioned credential")

    # A broken document stops vauthd with a message naming the problem.
    broken = os.path.join(tmp, "broken.json")
    with open(broken, "w") as f:
        json.dump({"format": "vauth-device", "version": 1}, f)
    r = subprocess.run([vauthd, "--transport", "usbip", "--usbip-listen", "127.0.0.1:0", "--no-control",
                        "--store", "ephemeral", "--import", broken], capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "masterSecret is missing" in r.stderr + r.stdout, (r.returncode, r.stderr))


def lb_decrypt(key, entry):
    """The compressed content of a large-blob entry sealed under `key`, else None."""
    aad = b"blob" + struct.pack("<Q", entry[3])
    try:
        return AESGCM(key).decrypt(entry[2], entry[1], aad)
    except InvalidTag:
        return None


def lb_open(key, entry):
    """An entry of the large-blob array, opened as CTAP 2.1 §6.10.3 says (raw DEFLATE);
    None if it is another key's. Written here, not taken from python-fido2 0.9.1,
    whose LargeBlobs uses the zlib wrapper instead of raw DEFLATE."""
    compressed = lb_decrypt(key, entry)
    if compressed is None:
        return None
    data = zlib.decompress(compressed, wbits=-15)
    check(len(data) == entry[3], "origSize %d, inflated %d" % (entry[3], len(data)))
    return data


def blob_owners(d, keys):
    """Reads the large-blob array over CTAP (python-fido2 checks its hash) and
    says, entry by entry, which of `keys` opens it (its index; None: none does)."""
    client, ctap = d.ctap()
    try:
        entries = LargeBlobs(ctap).read_blob_array()
    finally:
        client.close()
    owners = []
    for e in entries:
        opened = [i for i, k in enumerate(keys) if lb_decrypt(k, e) is not None]
        owners.append(opened[0] if opened else None)
    return owners


def orphans_go(d, good, other, lbk, blob, other_lbk):
    """A credential the control API removes takes its large-blob entries along
    (a replacing add, DELETE), in the same commit; the entries of credentials
    that stay, and of keys the device does not know, stay. Returns the key of
    the stranger's entry it leaves in the array, next to `lbk`'s."""
    # A client's blob under a key no credential on the device holds: not the API's to judge.
    stranger_lbk = os.urandom(32)
    client, ctap = d.ctap()
    LargeBlobs(ctap).put_blob(stranger_lbk, b"a stranger's blob")
    client.close()
    holder = d.api.get("/v1/devices/1/credentials?include=privateKey")
    holder = [c for c in holder if c["userHandle"] == other["userHandle"]]
    check(len(holder) == 1 and unb64url(holder[0]["largeBlobKey"]) == other_lbk, holder)
    keys = [lbk, other_lbk, stranger_lbk]
    check(sorted(blob_owners(d, keys)) == [0, 1, 2], "before: %s" % blob_owners(d, keys))

    # Replacing other-user's credential with one that has its own (generated) key and blob.
    new_id = os.urandom(16)
    status, body = d.api.call("POST", "/v1/devices/1/credentials",
                              dict(good, credentialId=b64url(new_id), userHandle=other["userHandle"],
                                   largeBlob=b64url(b"the successor's blob")))
    check(status == 201 and body.get("replaced") == holder[0]["credentialId"], (status, body))
    new_lbk = unb64url(d.api.get("/v1/devices/1/credentials/%s?include=privateKey" % b64url(new_id))["largeBlobKey"])
    keys.append(new_lbk)
    owners = blob_owners(d, keys)
    check(sorted(owners) == [0, 2, 3], "after a replacing add with a blob, the entries are %s" % owners)

    # Replacing it again with a credential without blob or key: its entry goes, nothing comes.
    bare = {k: v for k, v in good.items() if k != "largeBlob"}
    status, body = d.api.call("POST", "/v1/devices/1/credentials",
                              dict(bare, credentialId=b64url(os.urandom(16)), userHandle=other["userHandle"]))
    check(status == 201 and body.get("replaced") == b64url(new_id), (status, body))
    owners = blob_owners(d, keys)
    check(sorted(owners) == [0, 2], "after a replacing add without a blob, the entries are %s" % owners)

    # DELETE .../credentials/{id} (vauthctl delete-credential) takes the entry along.
    doomed_id = os.urandom(16)
    status, body = d.api.call("POST", "/v1/devices/1/credentials",
                              dict(good, credentialId=b64url(doomed_id), userHandle=b64url(b"doomed"),
                                   largeBlob=b64url(b"soon gone")))
    check(status == 201, (status, body))
    doomed_lbk = unb64url(
        d.api.get("/v1/devices/1/credentials/%s?include=privateKey" % b64url(doomed_id))["largeBlobKey"])
    keys.append(doomed_lbk)
    check(sorted(blob_owners(d, keys)) == [0, 2, 4], blob_owners(d, keys))
    d.ctl("delete-credential", "1", "--", b64url(doomed_id))
    owners = blob_owners(d, keys)
    check(sorted(owners) == [0, 2], "after DELETE, the entries are %s" % owners)
    kept = d.api.get("/v1/devices/1/credentials/%s?include=privateKey" % good["credentialId"])
    check(unb64url(kept["largeBlob"]) == blob, "the remaining credential's blob changed")
    print("largeBlob: entries of credentials the API replaced or deleted are gone; the others stay")
    return stranger_lbk


def large_blobs(vauthd, vauthctl, vauth, tmp):
    """W3C largeBlob: added with a credential, read by python-fido2 over CTAP
    (authenticatorLargeBlobs) and by libfido2's fido2-token, exported back,
    durable across SIGKILL, and refused without a change when it cannot be held."""
    d_dir = os.path.join(tmp, "lb")
    d = Daemon(vauthd, vauthctl, d_dir, 21)
    key = new_key()
    blob = b"large blob " * 40 + os.urandom(64)  # compresses, but not to nothing
    cred_id = os.urandom(16)
    good = {"credentialId": b64url(cred_id), "isResidentCredential": True, "rpId": RP_ID,
            "privateKey": b64url(pkcs8(key)), "userHandle": b64url(b"blob-user"), "largeBlob": b64url(blob)}
    try:
        status, body = d.api.call("POST", "/v1/devices/1/credentials", good)
        check(status == 201, (status, body))
        check("largeBlob" not in body and "largeBlobKey" not in body, "the answer shows secrets: %s" % body)
        exported = d.api.get("/v1/devices/1/credentials/%s?include=privateKey" % b64url(cred_id))
        check(unb64url(exported["largeBlob"]) == blob, "export: %s" % exported.get("largeBlob"))
        lbk = unb64url(exported["largeBlobKey"])  # generated by the device: none was given
        check(len(lbk) == 32, lbk)

        # python-fido2 reads the array over CTAP (its truncated hash checked) and finds the blob.
        client, ctap = d.ctap()
        check(ctap.info.options.get("largeBlobs") is True, ctap.info.options)
        entries = LargeBlobs(ctap).read_blob_array()
        check(len(entries) == 1, entries)
        check(lb_open(lbk, entries[0]) == blob, "the client read different bytes")
        # A blob python-fido2 writes for another key (zlib-wrapped, as 0.9.1 does) is exported too.
        other_lbk = os.urandom(32)
        LargeBlobs(ctap).put_blob(other_lbk, b"written by python-fido2")
        client.close()
        other_id = os.urandom(16)
        other = dict(good, credentialId=b64url(other_id), userHandle=b64url(b"other-user"),
                     largeBlobKey=b64url(other_lbk))
        del other["largeBlob"]
        status, body = d.api.call("POST", "/v1/devices/1/credentials", other)
        check(status == 201, (status, body))
        got = d.api.get("/v1/devices/1/credentials/%s?include=privateKey" % b64url(other_id))
        check(unb64url(got["largeBlob"]) == b"written by python-fido2", got.get("largeBlob"))

        # Refusals: HTTP 400 and the array and credentials stay as they were.
        before = (d.api.get("/v1/devices/1/export")["largeBlobArray"],
                  d.api.get("/v1/devices/1/credentials?include=privateKey"))
        third = dict(good, credentialId=b64url(os.urandom(16)), userHandle=b64url(b"third"))
        cases = [
            ("a blob beyond maxSerializedLargeBlobArray", dict(third, largeBlob=b64url(os.urandom(5000)))),
            ("largeBlob on a non-resident credential", dict(third, isResidentCredential=False)),
            ("largeBlob not base64url", dict(third, largeBlob="no*base64")),
        ]
        for what, body in cases:
            status, answer = d.api.call("POST", "/v1/devices/1/credentials", body)
            check(status == 400, "%s: HTTP %d %s" % (what, status, answer))
            after = (d.api.get("/v1/devices/1/export")["largeBlobArray"],
                     d.api.get("/v1/devices/1/credentials?include=privateKey"))
            check(after == before, "%s changed the state" % what)
            print("refused as it should be: %s: %s" % (what, answer.get("detail")))

        # The given largeBlobKey's old entry is replaced, not joined.
        replaced = b"a newer blob"
        status, body = d.api.call("POST", "/v1/devices/1/credentials",
                                  dict(other, credentialId=b64url(os.urandom(16)), largeBlob=b64url(replaced)))
        check(status == 201 and body.get("replaced") == b64url(other_id), (status, body))
        client, ctap = d.ctap()
        entries = LargeBlobs(ctap).read_blob_array()
        client.close()
        check(len(entries) == 2, "%d entries after replacing one" % len(entries))
        check([lb_open(other_lbk, e) for e in entries].count(replaced) == 1, "the replacement is not there")
        golden = os.path.join(tmp, "lb.json")
        d.ctl("export", "1", golden)

        stranger_lbk = orphans_go(d, good, other, lbk, blob, other_lbk)
    finally:
        d.proc.kill()  # SIGKILL: the blob must already be durable
        d.proc.wait()
    d = Daemon(vauthd, vauthctl, d_dir, 21)
    try:
        again = d.api.get("/v1/devices/1/credentials/%s?include=privateKey" % b64url(cred_id))
        check(unb64url(again["largeBlob"]) == blob, "the blob did not survive SIGKILL")
        # The removals were in the same commits: still gone after SIGKILL.
        owners = blob_owners(d, [lbk, stranger_lbk])
        check(sorted(owners) == [0, 1], "after SIGKILL the array holds entries of %s" % owners)
        # DELETE .../credentials (all of them): every credential's entry goes, the stranger's stays.
        d.ctl("delete-credentials", "1")
        owners = blob_owners(d, [lbk, stranger_lbk])
        check(owners == [1], "after deleting every credential the array holds entries of %s" % owners)
    finally:
        d.stop()

    # libfido2 (fido2-token -G -b, raw DEFLATE since 1.11) reads it from the exported device.
    key_file, out_file = os.path.join(tmp, "lbk.b64"), os.path.join(tmp, "blob.out")
    with open(key_file, "w") as f:
        f.write(base64.b64encode(lbk).decode() + "\n")
    r = subprocess.run([vauth, "run", "--vauthd", vauthd, "--import", golden, "--", "fido2-token", "-G", "-b", "-k",
                        key_file, out_file, "/dev/hidraw0"], capture_output=True, text=True, timeout=120)
    print(r.stdout + r.stderr, end="")
    check(r.returncode == 0, "fido2-token -G -b exited %d" % r.returncode)
    with open(out_file, "rb") as f:
        check(f.read() == blob, "fido2-token read different bytes")
    print("largeBlob: python-fido2 and fido2-token read what the API added; export gives it back")


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    tmp = tempfile.mkdtemp(prefix="vauth-provision-")
    try:
        run(argv[1], argv[2], argv[3], tmp)
        large_blobs(argv[1], argv[2], argv[3], tmp)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print("FAILED")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
