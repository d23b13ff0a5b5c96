"""HTTP/1.1 over vauthd's control socket for the control API tests: plain
requests (status + parsed JSON) and a Server-Sent Events reader that collects
events in a background thread. Stdlib only."""

import http.client
import json
import queue
import socket
import threading
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("vauthd", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Api:
    def __init__(self, path):
        self.path = path

    def raw(self, method, target, body=None, headers=None):
        """Returns (status, headers, raw body bytes)."""
        conn = UnixHTTPConnection(self.path)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, target, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, dict(res.getheaders()), res.read()
        finally:
            conn.close()

    def call(self, method, target, body=None):
        """Returns (status, parsed JSON body)."""
        status, headers, data = self.raw(method, target, body)
        assert headers.get("Content-Type") == "application/json", headers
        return status, json.loads(data)

    def get(self, target):
        status, body = self.call("GET", target)
        assert status == 200, (target, status, body)
        return body


class EventStream:
    """GET /v1/events, read in a thread; events() returns what arrived so far."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.sendall(b"GET /v1/events HTTP/1.1\r\nHost: vauthd\r\n\r\n")
        self.queue = queue.Queue()
        self.seen = []
        self.header = None
        self._ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("no event stream header")

    def _pump(self):
        buf = b""
        f = self.sock.makefile("rb")
        header = []
        for line in f:
            if line in (b"\r\n", b"\n"):
                break
            header.append(line.decode().rstrip())
        self.header = header
        self._ready.set()
        for line in f:
            line = line.decode().rstrip("\n")
            if line.startswith("data: "):
                self.queue.put(json.loads(line[6:]))
        self.queue.put(None)

    def events(self):
        while True:
            try:
                e = self.queue.get_nowait()
            except queue.Empty:
                return self.seen
            if e is not None:
                self.seen.append(e)

    def wait_for(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events():
                if predicate(e):
                    return e
            time.sleep(0.02)
        raise AssertionError("no matching event in %s s; saw %s" % (timeout, [e["type"] for e in self.seen]))

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
