#!/usr/bin/python3
"""Unmodified headless Chromium registers and signs in with a vauth key through
`vauth run` (no uhid, no USB/IP): navigator.credentials.create() and get() on
http://localhost complete, the key approving presence by itself.

Usage: vauth_run_chromium_test.py VAUTH
Exits 77 (skipped) when Debian's chromium is not installed."""
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77

# No PIN UI may be needed in headless mode: UV discouraged, no discoverable credential.
PAGE = b"""<!doctype html><html><body><script>
async function go() {
  const r = {};
  try {
    const cred = await navigator.credentials.create({publicKey: {
      rp: {name: "vauth test"}, user: {id: new Uint8Array([1, 2, 3, 4]), name: "alice", displayName: "Alice"},
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{type: "public-key", alg: -7}],
      authenticatorSelection: {userVerification: "discouraged", residentKey: "discouraged"}, timeout: 30000}});
    r.create = {id: cred.id, attachment: cred.authenticatorAttachment,
                transports: cred.response.getTransports ? cred.response.getTransports() : []};
    const a = await navigator.credentials.get({publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)), userVerification: "discouraged",
      allowCredentials: [{type: "public-key", id: cred.rawId}], timeout: 30000}});
    r.get = {id: a.id, signature_bytes: a.response.signature.byteLength,
             flags: new Uint8Array(a.response.authenticatorData)[32]};
  } catch (e) { r.error = String(e); }
  await fetch("/result", {method: "POST", body: JSON.stringify(r)});
}
go();
</script></body></html>"""


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    chromium = shutil.which("chromium")
    if not chromium:
        print("chromium is not installed: skipped")
        return SKIP
    result, done = {}, threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(PAGE)

        def do_POST(self):
            result.update(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()
            done.set()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="vauth-chromium-")
    flags = ["--headless=new", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    cmd = [argv[1], "run", "--verbose", "--", chromium] + flags + ["http://localhost:%d/" % server.server_address[1]]
    print("$", " ".join(cmd))
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = []
    threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
    try:
        finished = done.wait(90)
        print("page result after %.1f s: %s" % (time.monotonic() - started, json.dumps(result) if finished else "none"))
    finally:
        proc.send_signal(signal.SIGTERM)  # forwarded to Chromium
        try:
            status = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
        server.shutdown()
    print("vauth run exited with", status)
    ok = (finished and "error" not in result and result.get("create", {}).get("id")
          and result["create"]["id"] == result.get("get", {}).get("id")
          and result["create"].get("attachment") == "cross-platform"
          and result["get"].get("signature_bytes", 0) >= 64 and (result["get"].get("flags", 0) & 0x01))
    if not ok:
        print("".join(log[-80:]))
        print("FAIL: Chromium did not complete create()/get() with the key")
        return 1
    print("PASS: Chromium registered and signed in with the vauth key (user presence flag set)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
