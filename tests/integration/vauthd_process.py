"""A vauthd started by an integration test: its stdout echoed and watched for
the readiness line of device 1 on USB/IP, its control API (control_http.Api)
and vauthctl at hand when it serves one. Tests subclass it for their own helpers. Stdlib only."""

import queue
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

from control_http import Api

READY_LINE = re.compile(r"ready: device 1 .*usbip (127\.0\.0\.1):(\d+)")


class VauthdProcess:
    def start(self, argv, socket=None, vauthctl=None, stderr=None):
        """Runs argv (a vauthd serving its control API on `socket`, if given) and waits until it is ready."""
        self.socket = socket
        self.vauthctl = vauthctl
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.host, self.port = self._wait_ready()
        self.api = Api(socket) if socket else None

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

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def run_checks(tests, daemon, after_failure=None):
    """Runs each check against one daemon, printing PASS/FAIL with the traceback;
    `after_failure(daemon)` puts it back in shape for the next check. Returns the
    number of failed checks, or None when vauthd died (later checks would mean nothing)."""
    failures = 0
    for test in tests:
        start = time.monotonic()
        try:
            test(daemon)
            print("PASS %s (%.2f s)" % (test.__name__, time.monotonic() - start))
        except Exception:  # noqa: BLE001 - report every failure, then go on
            failures += 1
            print("FAIL %s" % test.__name__)
            traceback.print_exc(file=sys.stdout)
            if after_failure:
                try:
                    after_failure(daemon)
                except Exception:  # noqa: BLE001 - the next check reports what is still wrong
                    pass
        if daemon.proc.poll() is not None:
            print("FAIL vauthd died with status %s" % daemon.proc.returncode)
            return None
    return failures


def run_suite(tests, daemon, after_failure=None, after_stop=None):
    """run_checks, then stops the daemon and prints the tally; returns the exit
    code: 0 when every check passed and vauthd exited 0 on SIGTERM.
    `after_stop(daemon)` runs once vauthd is gone and returns how many more
    failures it found (None: none)."""
    try:
        failures = run_checks(tests, daemon, after_failure)
        if failures is None:
            return 1
    finally:
        status = daemon.stop()
    if status not in (0, None):
        print("FAIL vauthd exited with status %s on SIGTERM" % status)
        failures += 1
    if after_stop:
        failures += after_stop(daemon) or 0
    print("%d of %d checks failed" % (failures, len(tests)) if failures else "all %d checks passed" % len(tests))
    return 1 if failures else 0
