#!/usr/bin/python3
"""`vauth run` end to end, with no kernel device at all: unmodified libfido2
tools (fido2-token, fido2-cred, fido2-assert) and python-fido2 find vauth's
keys as /dev/hidrawN through umockdev's test bed and use them; several keys at
once; exit status, signals and start-up errors pass through; --connect uses a
running vauthd's SEQPACKET sockets.

Usage: vauth_run_test.py VAUTH VAUTHD"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_CLIENT = os.path.join(HERE, "vauth_run_python_client.py")
TIMEOUT = 120

# The fido2-tools flow of tests/vm/uhid_e2e.sh, run inside one `vauth run`:
# the PIN goes in on stdin of a process without a terminal.
FIDO2_TOOLS_FLOW = r"""
set -eu
W=$1; dev=$2; pin=$3
cdh() { head -c 32 /dev/urandom | base64 -w0; echo; }
{ cdh; echo example.org; echo alice; head -c 16 /dev/urandom | base64 -w0; echo; } >"$W/cred.in"
setsid sh -c "printf '$pin\n' | fido2-cred -M -i $W/cred.in -o $W/cred.out $dev" </dev/null
fido2-cred -V -i "$W/cred.out" -o "$W/cred.pub"
echo "made and verified a $(sed -n 3p "$W/cred.out") credential"
{ cdh; echo example.org; head -1 "$W/cred.pub"; } >"$W/assert.in"
tail -n +2 "$W/cred.pub" >"$W/pub.pem"
setsid sh -c "printf '$pin\n' | fido2-assert -G -i $W/assert.in -o $W/assert.out $dev" </dev/null
fido2-assert -V -i "$W/assert.out" "$W/pub.pem" es256
echo "assertion verified"
"""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run(vauth, args, program, timeout=TIMEOUT, **kw):
    started = time.monotonic()
    p = subprocess.run([vauth, "run"] + args + ["--"] + program, capture_output=True, text=True,
                       timeout=timeout, **kw)
    print("$ vauth run %s -- %s  -> %d (%.1f s)" % (" ".join(args), " ".join(program)[:80], p.returncode,
                                                   time.monotonic() - started))
    for line in (p.stdout + p.stderr).splitlines():
        print("    " + line)
    return p


def test_list_and_info(vauth, vauthd, tmp):
    p = run(vauth, [], ["fido2-token", "-L"])
    check(p.returncode == 0, "fido2-token -L failed")
    check(re.search(r"^/dev/hidraw0: vendor=0x1209, product=0x7a01 \(vauth vauth virtual FIDO2 key\)$",
                    p.stdout, re.M), "fido2-token -L does not list the key")
    p = run(vauth, [], ["fido2-token", "-I", "/dev/hidraw0"])
    check(p.returncode == 0, "fido2-token -I failed")
    check(re.search(r"^version strings: .*FIDO_2_0", p.stdout, re.M), "no getInfo versions")
    check(re.search(r"^aaguid: [0-9a-f]{32}$", p.stdout, re.M), "no AAGUID")
    check("pin protocols: 2, 1" in p.stdout, "no PIN protocols")


def test_fido2_tools_with_pin(vauth, vauthd, tmp):
    p = run(vauth, ["--pin", "1234"], ["sh", "-c", FIDO2_TOOLS_FLOW, "flow", tmp, "/dev/hidraw0", "1234"])
    check(p.returncode == 0, "fido2-cred -M/-V, fido2-assert -G/-V with a PIN failed")
    check("assertion verified" in p.stdout, "flow did not finish")


def test_python_fido2(vauth, vauthd, tmp):
    p = run(vauth, ["--pin", "4321", "--devices", "2"], ["/usr/bin/python3", PYTHON_CLIENT, "4321", "2"])
    check(p.returncode == 0 and "PYTHON-FIDO2-OK" in p.stdout, "python-fido2 flow failed")


def test_two_independent_keys(vauth, vauthd, tmp):
    script = FIDO2_TOOLS_FLOW + r"""
fido2-token -L
# The credential belongs to the first key only: the second must refuse it.
if fido2-assert -G -i "$W/assert.in" -o "$W/assert2.out" /dev/hidraw1 </dev/null 2>"$W/err2"; then
  echo "second key accepted the first key's credential"; exit 1
fi
echo "second key refused the first key's credential"
"""
    p = run(vauth, ["--devices", "2"], ["sh", "-c", script, "flow", tmp, "/dev/hidraw0", ""])
    check(p.returncode == 0, "two keys flow failed")
    check("/dev/hidraw0: vendor=0x1209" in p.stdout and "/dev/hidraw1: vendor=0x1209" in p.stdout,
          "both keys must be listed")
    check("second key refused" in p.stdout, "keys are not independent")


def test_exit_status_and_errors(vauth, vauthd, tmp):
    check(run(vauth, [], ["sh", "-c", "exit 7"]).returncode == 7, "exit status not passed through")
    check(run(vauth, [], ["sh", "-c", "kill -TERM $$"]).returncode == 128 + signal.SIGTERM,
          "death by signal must be 128+N")
    p = run(vauth, [], ["/nonexistent/program"])
    check(p.returncode == 127 and "cannot start /nonexistent/program" in p.stderr, "missing program")
    not_executable = os.path.join(tmp, "not-executable")
    with open(not_executable, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(not_executable, 0o644)
    p = run(vauth, [], [not_executable])
    check(p.returncode == 126 and "Permission denied" in p.stderr, "program that cannot be executed")
    p = run(vauth, ["--vauthd", "/nonexistent/vauthd"], ["true"])
    check(p.returncode == 125 and "cannot start /nonexistent/vauthd" in p.stderr, "missing vauthd")
    p = subprocess.run([vauth, "run", "true"], capture_output=True, text=True, timeout=TIMEOUT)
    check(p.returncode == 125 and "missing `-- PROGRAM" in p.stderr, "missing --")
    p = run(vauth, ["--connect", "/nonexistent.sock", "--pin", "1"], ["true"])
    check(p.returncode == 125, "--connect with own-daemon options")
    p = run(vauth, ["--connect", "/nonexistent.sock"], ["true"])
    check(p.returncode == 125 and "is not a socket" in p.stderr, "--connect to no socket")


def wait_for_line(proc, needle, seconds=20):
    deadline = time.monotonic() + seconds
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError("no %r within %ss; got %r" % (needle, seconds, lines))


def test_signals(vauth, vauthd, tmp):
    # A signal sent to vauth run reaches the program, which decides its exit status.
    proc = subprocess.Popen([vauth, "run", "--", "sh", "-c", 'trap "exit 42" TERM; echo armed; sleep 60 & wait'],
                            stdout=subprocess.PIPE, text=True)
    wait_for_line(proc, "armed")
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(timeout=20) == 42, "SIGTERM was not forwarded to the program")

    # A program blocked in read() of a key (the preload library blocks its
    # signals meanwhile) is still interrupted, and the private vauthd goes away.
    reader = ("import os; fd = os.open('/dev/hidraw0', os.O_RDWR); print('reading', flush=True); os.read(fd, 64)")
    proc = subprocess.Popen([vauth, "run", "--verbose", "--", "/usr/bin/python3", "-c", reader],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_line(proc, "reading")
    time.sleep(0.3)  # let the read reach the bridge
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    status = proc.wait(timeout=20)
    err = proc.stderr.read()
    check(status == 128 + signal.SIGINT, "blocked reader not interrupted (status %d): %s" % (status, err))
    check(time.monotonic() - started < 5, "interrupting the reader took too long")
    m = re.search(r"key 1 \((/\S+)/keys/device-1\.sock\)", err)
    check(m is not None, "verbose output names no socket: " + err)
    check(not os.path.exists(m.group(1)), "the private vauthd's directory was left behind")


def test_connect_to_running_daemon(vauth, vauthd, tmp):
    sockets = os.path.join(tmp, "sockets")
    daemon = subprocess.Popen([vauthd, "--transport", "seqpacket", "--seqpacket-dir", sockets, "--store", "ephemeral",
                               "--no-control", "--devices", "2", "--pin", "1111"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = wait_for_line(daemon, "device 2 ")
        paths = re.findall(r"on seqpacket (/\S+)", "".join(lines))
        check(paths == [os.path.join(sockets, "device-1.sock"), os.path.join(sockets, "device-2.sock")], paths)
        check(oct(os.stat(sockets).st_mode & 0o777) == "0o700", "socket directory must be 0700")
        check(oct(os.stat(paths[0]).st_mode & 0o777) == "0o600", "socket must be 0600")
        # Key 2 of the daemon becomes /dev/hidraw0, in --connect order.
        args = ["--connect", paths[1], "--connect", paths[0]]
        p = run(vauth, args, ["sh", "-c", FIDO2_TOOLS_FLOW, "flow", tmp, "/dev/hidraw0", "1111"])
        check(p.returncode == 0, "fido2 tools through --connect failed")
        # The daemon outlives the program, and its keys serve the next one (the
        # first connection's close was a host reset, not the end).
        p = run(vauth, args, ["fido2-token", "-I", "/dev/hidraw1"])
        check(p.returncode == 0 and "FIDO_2_0" in p.stdout, "second vauth run on the same daemon failed")
        check(daemon.poll() is None, "vauthd stopped with the program")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=20)
    # A daemon that went away leaves its socket file behind: the node exists
    # but is unplugged (I/O errors, a clear message, no hang).
    if not os.path.exists(paths[0]):
        import socket as s
        stale = s.socket(s.AF_UNIX, s.SOCK_SEQPACKET)
        stale.bind(paths[0])
        stale.close()
    p = run(vauth, ["--connect", paths[0]], ["fido2-token", "-I", "/dev/hidraw0"], timeout=60)
    check(p.returncode != 0, "a key without its daemon answered")
    check("cannot reach the key behind /dev/hidraw0" in p.stderr, "no word on the unreachable key")


TESTS = [test_list_and_info, test_fido2_tools_with_pin, test_python_fido2, test_two_independent_keys,
         test_exit_status_and_errors, test_signals, test_connect_to_running_daemon]


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    vauth, vauthd = argv[1], argv[2]
    for tool in ("fido2-token", "fido2-cred", "fido2-assert", "setsid", "base64"):
        if not shutil.which(tool):
            print("missing %s (scripts/deps.sh installs fido2-tools)" % tool)
            return 1
    failed = 0
    for t in TESTS:
        tmp = tempfile.mkdtemp(prefix="vauth-run-test-")
        started = time.monotonic()
        try:
            t(vauth, vauthd, tmp)
            print("PASS %s (%.1f s)" % (t.__name__, time.monotonic() - started))
        except Exception as e:  # report every test, then fail
            failed += 1
            print("FAIL", t.__name__, "-", e)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d of %d passed" % (len(TESTS) - failed, len(TESTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
