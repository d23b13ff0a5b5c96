#!/usr/bin/python3
"""A small WebAuthn relying party for vauth's browser tests.

The verification is python-fido2's Fido2Server (Debian python3-fido2 0.9.1);
this file only moves bytes between the page and the server and keeps the
registered accounts in memory. It adds the one check Fido2Server 0.9.1 leaves
to the caller: the signature counter must grow.

    rp_server.py [--port 0] [--rp-id localhost]

Prints "rp: listening on http://localhost:PORT" once it accepts requests.
"""
import argparse
import base64
import os
import sys
import threading

from flask import Flask, jsonify, request, send_from_directory
from werkzeug.serving import make_server

from fido2.client import ClientData
from fido2.ctap2 import AttestationObject, AuthenticatorData
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialRpEntity

HERE = os.path.dirname(os.path.abspath(__file__))


def b64u(data):
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def to_json(value):
    """WebAuthn options as JSON: every bytes value becomes base64url (the page
    turns the known binary fields back into ArrayBuffers)."""
    if isinstance(value, (bytes, bytearray)):
        return b64u(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "value"):  # the fido2 string enums
        return value.value
    return value


class Accounts:
    """Registered users and their credentials, in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = {}  # user handle (bytes) -> {"name", "display_name"}
        self.credentials = []  # {"data": AttestedCredentialData, "user": handle, "sign_count": int}

    def add(self, user_id, name, display_name, credential_data, sign_count):
        with self.lock:
            self.users[user_id] = {"name": name, "display_name": display_name}
            self.credentials.append({"data": credential_data, "user": user_id, "sign_count": sign_count})

    def for_user(self, user_id):
        with self.lock:
            return [c for c in self.credentials if c["user"] == user_id]

    def all(self):
        with self.lock:
            return list(self.credentials)


def create_app(rp_id, origin_check):
    app = Flask(__name__, static_folder=None)
    server = Fido2Server(PublicKeyCredentialRpEntity(rp_id, "vauth test RP"), verify_origin=origin_check)
    accounts = Accounts()
    pending = {}  # challenge (b64u) -> state; one page drives one flow at a time
    events = []  # what the RP saw, for the test's report

    def remember(state, extra):
        pending[state["challenge"]] = dict(state=state, **extra)

    def take(client_data):
        entry = pending.pop(b64u(client_data.challenge), None)
        if entry is None:
            raise ValueError("no ceremony started with this challenge")
        return entry

    @app.get("/")
    def index():
        return send_from_directory(HERE, "page.html")

    @app.get("/page.js")
    def page_js():
        return send_from_directory(HERE, "page.js")

    @app.post("/register/begin")
    def register_begin():
        body = request.get_json(force=True)
        user_id = os.urandom(16)
        user = {"id": user_id, "name": body["name"], "displayName": body.get("displayName", body["name"])}
        existing = [c["data"] for c in accounts.all() if accounts.users[c["user"]]["name"] == body["name"]]
        options, state = server.register_begin(
            user,
            existing,
            resident_key=body.get("residentKey") == "required",
            user_verification=body.get("userVerification", "discouraged"),
        )
        remember(state, {"user": user})
        public_key = to_json(dict(options["publicKey"]))
        # python-fido2 0.9.1 writes only the Level 1 requireResidentKey; add Level 2's residentKey.
        if body.get("residentKey"):
            public_key.setdefault("authenticatorSelection", {})["residentKey"] = body["residentKey"]
        if body.get("timeout"):
            public_key["timeout"] = int(body["timeout"])
        return jsonify({"publicKey": public_key})

    @app.post("/register/complete")
    def register_complete():
        body = request.get_json(force=True)
        client_data = ClientData(unb64u(body["clientDataJSON"]))
        attestation = AttestationObject(unb64u(body["attestationObject"]))
        try:
            entry = take(client_data)
            auth_data = server.register_complete(entry["state"], client_data, attestation)
        except ValueError as e:
            events.append({"event": "register.rejected", "reason": str(e)})
            return jsonify({"ok": False, "error": str(e)}), 400
        user = entry["user"]
        accounts.add(user["id"], user["name"], user["displayName"], auth_data.credential_data, auth_data.counter)
        result = {
            "ok": True,
            "credentialId": b64u(auth_data.credential_data.credential_id),
            "userVerified": auth_data.is_user_verified(),
            "signCount": auth_data.counter,
            "attestationFormat": attestation.fmt,
        }
        events.append({"event": "register.ok", **result})
        return jsonify(result)

    @app.post("/authenticate/begin")
    def authenticate_begin():
        body = request.get_json(force=True)
        name = body.get("name")
        # Username-less sign-in (the passkey case) sends no allowCredentials at all.
        creds = [c["data"] for c in accounts.all() if name and accounts.users[c["user"]]["name"] == name]
        options, state = server.authenticate_begin(
            creds or None, user_verification=body.get("userVerification", "discouraged")
        )
        remember(state, {})
        return jsonify({"publicKey": to_json(dict(options["publicKey"]))})

    @app.post("/authenticate/complete")
    def authenticate_complete():
        body = request.get_json(force=True)
        client_data = ClientData(unb64u(body["clientDataJSON"]))
        auth_data = AuthenticatorData(unb64u(body["authenticatorData"]))
        credential_id = unb64u(body["credentialId"])
        records = accounts.all()
        try:
            entry = take(client_data)
            server.authenticate_complete(
                entry["state"],
                [c["data"] for c in records],
                credential_id,
                client_data,
                auth_data,
                unb64u(body["signature"]),
            )
            record = next(c for c in records if c["data"].credential_id == credential_id)
            if body.get("userHandle") and unb64u(body["userHandle"]) != record["user"]:
                raise ValueError("userHandle does not belong to this credential")
            # WebAuthn §7.2 step 21: a counter that does not grow signals a cloned key.
            if (auth_data.counter or record["sign_count"]) and auth_data.counter <= record["sign_count"]:
                raise ValueError(f"signature counter did not grow ({record['sign_count']} -> {auth_data.counter})")
        except (ValueError, StopIteration) as e:
            events.append({"event": "authenticate.rejected", "reason": str(e)})
            return jsonify({"ok": False, "error": str(e)}), 400
        previous = record["sign_count"]
        record["sign_count"] = auth_data.counter
        user = accounts.users[record["user"]]
        result = {
            "ok": True,
            "user": user["name"],
            "userVerified": auth_data.is_user_verified(),
            "signCount": auth_data.counter,
            "previousSignCount": previous,
        }
        events.append({"event": "authenticate.ok", **result})
        return jsonify(result)

    @app.get("/events")
    def list_events():
        return jsonify(events)

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rp-id", default="localhost")
    args = parser.parse_args()

    port_holder = {}

    def origin_ok(origin):
        return origin == f"http://{args.rp_id}:{port_holder['port']}"

    app = create_app(args.rp_id, origin_ok)
    http = make_server("127.0.0.1", args.port, app, threaded=True)
    port_holder["port"] = http.server_port
    print(f"rp: listening on http://{args.rp_id}:{http.server_port}", flush=True)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
