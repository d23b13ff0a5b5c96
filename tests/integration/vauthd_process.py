"""A vauthd started by an integration test: its stdout echoed and watched for
the readiness line of device 1 on USB/IP, its control API (control_http.Api)
and vauthctl at hand. Tests subclass it for their own helpers. Stdlib only."""

import queue
import re
import subprocess
import sys
import threading
import time

from control_http import Api

READY_LINE = re.compile(r"ready: device 1 .*usbip (127\.0\.0\.1):(\d+)")


class VauthdProcess:
    def start(self, argv, socket, vauthctl, stderr=None):
        """Runs argv (a vauthd serving its control API on `socket`) and waits until it is ready."""
        self.socket = socket
        self.vauthctl = vauthctl
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.host, self.port = self._wait_ready()
        self.api = Api(socket)

    def _pump(self):
        for line in self.proc.stdout:
            sys.stdout.write("[vauthd] " + line)
            self.lines.put(line)
        self.lines.put(None)

    def _wait_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError("vauthd exited with %s before it was ready" % self.proc.wait())
            m = READY_LINE.search(line)
            if m:
                return m.group(1), int(m.group(2))
        raise RuntimeError("vauthd printed no readiness line in time")

    def ctl(self, *args, expect=0):
        """vauthctl ARGS against this daemon; its exit status must be `expect` (None: any)."""
        r = subprocess.run([self.vauthctl, "--socket", self.socket] + list(args), capture_output=True, text=True,
                           timeout=60)
        print("$ vauthctl %s -> %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr), end="")
        if expect is not None and r.returncode != expect:
            raise AssertionError("vauthctl %s exited %d, wanted %d" % (args, r.returncode, expect))
        return r
