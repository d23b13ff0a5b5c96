#!/usr/bin/python3
"""`vauthd doctor` on this machine and on fixture trees (--root).

Usage: /usr/bin/python3 doctor_test.py /path/to/vauthd

On this machine: says whether /dev/uhid works and, if it is missing, names
`modprobe uhid`. Under --root: FIDO hidraw nodes are found by the usage page
in their report descriptor (a keyboard is not), and whether user `nobody`
could open each one (mode bits, group, POSIX ACL) decides OK or FAIL with the
udev rule as the fix; vhci-hcd, the usbip tool and /dev/uhid likewise.
"""

import os
import pwd
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback

FIDO_RD = bytes.fromhex("06d0f10901a1010920150026ff007508954081020921150026ff00750895409102c0")
KEYBOARD_RD = bytes.fromhex("05010906a101050719e029e71500250175019508810295017508810305089505190129059102c0")
NOBODY = pwd.getpwnam("nobody")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def doctor(vauthd, *args):
    r = subprocess.run([vauthd, "doctor", *args], capture_output=True, text=True, timeout=60)
    print("$ vauthd doctor %s -> %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr), end="")
    return r


def line_for(output, needle):
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if needle in line:
            fix = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].strip().startswith("fix:") else ""
            return line, fix
    raise AssertionError("no line mentions %r in:\n%s" % (needle, output))


class Tree:
    """A fake / with just what doctor reads."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="vauth-doctor-")
        os.chmod(self.root, 0o755)
        os.makedirs(self.path("dev"))
        os.makedirs(self.path("sys/class/hidraw"))

    def path(self, rel):
        return os.path.join(self.root, rel)

    def node(self, rel, mode):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w"):
            pass
        os.chmod(p, mode)
        return p

    def hidraw(self, n, descriptor, name, mode=None):
        d = self.path("sys/class/hidraw/hidraw%d/device" % n)
        os.makedirs(d)
        with open(os.path.join(d, "report_descriptor"), "wb") as f:
            f.write(descriptor)
        with open(os.path.join(d, "uevent"), "w") as f:
            f.write("DRIVER=hid-generic\nHID_ID=0003:00001209:00007A01\nHID_NAME=%s\n" % name)
        return self.node("dev/hidraw%d" % n, mode) if mode is not None else None

    def remove(self):
        shutil.rmtree(self.root)


def acl_xattr(entries):
    """The system.posix_acl_access value: version 2, then (tag, perm, id) entries."""
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in entries)


# ---------------------------------------------------------------- the checks

def test_this_machine(vauthd):
    r = doctor(vauthd)
    if not os.path.exists("/dev/uhid"):
        check(r.returncode == 1, r.returncode)
        line, fix = line_for(r.stdout, "/dev/uhid")
        check(line.startswith("[FAIL]") and "does not exist" in line, line)
        check("modprobe uhid" in fix, fix)
        check("Result: the UHID route does NOT work" in r.stdout, r.stdout)
    else:
        check(r.returncode == (0 if os.access("/dev/uhid", os.W_OK) else 1), r.returncode)
    line_for(r.stdout, "vhci-hcd")
    line_for(r.stdout, "usbip tool")


def test_fixture_hidraw_permissions(vauthd):
    t = Tree()
    try:
        t.node("dev/uhid", 0o666)
        t.hidraw(0, FIDO_RD, "vauth open key", mode=0o666)
        t.hidraw(1, KEYBOARD_RD, "a keyboard", mode=0o600)
        t.hidraw(2, FIDO_RD, "locked key", mode=0o600)
        t.hidraw(3, FIDO_RD, "nodeless key")
        acl_node = t.hidraw(4, FIDO_RD, "acl key", mode=0o600)
        acl_ok = True
        try:  # what systemd-logind's uaccess does: user:nobody:rw-
            os.setxattr(acl_node, "system.posix_acl_access",
                        acl_xattr([(1, 6, 0xFFFFFFFF), (2, 6, NOBODY.pw_uid), (4, 0, 0xFFFFFFFF),
                                   (0x10, 6, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)]))
        except OSError as e:
            acl_ok = False
            print("note: this file system keeps no POSIX ACLs (%s); the ACL case is not checked" % e)
        group_node = None
        if os.geteuid() == 0:
            group_node = t.hidraw(5, FIDO_RD, "group key", mode=0o660)
            os.chown(group_node, 0, NOBODY.pw_gid)
        r = doctor(vauthd, "--root", t.root, "--user", "nobody")
        check(r.returncode == 0, r.returncode)
        check("checking for nobody" in r.stdout, r.stdout)
        line, _ = line_for(r.stdout, "/dev/hidraw0")
        check(line.startswith("[ OK ]") and '"vauth open key"' in line and "0003:00001209:00007A01" in line, line)
        check("hidraw1" not in r.stdout and "a keyboard" not in r.stdout, "a keyboard was taken for a FIDO key")
        line, fix = line_for(r.stdout, "/dev/hidraw2")
        check(line.startswith("[FAIL]") and "nobody cannot open it" in line and "0600" in line, line)
        check("packaging/udev/70-vauth-fido.rules" in fix and "udevadm trigger" in fix, fix)
        line, _ = line_for(r.stdout, "/dev/hidraw3")
        check(line.startswith("[WARN]") and "no device node" in line, line)
        if acl_ok:
            line, _ = line_for(r.stdout, "/dev/hidraw4")
            check(line.startswith("[ OK ]") and "+acl" in line, line)
        if group_node:
            line, _ = line_for(r.stdout, "/dev/hidraw5")
            check(line.startswith("[ OK ]"), line)
        # The same tree judged for root: every node is open to root.
        r = doctor(vauthd, "--root", t.root, "--user", "root")
        check("[FAIL]" not in r.stdout, r.stdout)
    finally:
        t.remove()


def test_fixture_uhid_and_usbip(vauthd):
    t = Tree()
    try:
        # Nothing at all: no uhid, no FIDO nodes, no vhci-hcd, no usbip tool under this root.
        r = doctor(vauthd, "--root", t.root, "--user", "nobody")
        check(r.returncode == 1, r.returncode)
        line, fix = line_for(r.stdout, "/dev/uhid")
        check(line.startswith("[FAIL]") and "not loaded" in line and "modprobe uhid" in fix, (line, fix))
        line, _ = line_for(r.stdout, "no FIDO hidraw node")
        check(line.startswith("[INFO]"), line)
        line, fix = line_for(r.stdout, "vhci-hcd")
        check(line.startswith("[WARN]") and fix.strip() == "fix: sudo modprobe vhci-hcd", (line, fix))
        if not any(os.access(os.path.join(t.root, d.lstrip("/"), "usbip"), os.X_OK)
                   for d in os.environ.get("PATH", "").split(":") if d):
            line, fix = line_for(r.stdout, "usbip tool")
            check(line.startswith("[WARN]") and "apt-get install usbip" in fix, (line, fix))

        # The module is loaded but the node is missing: a container without --device.
        os.makedirs(t.path("sys/module/uhid"))
        r = doctor(vauthd, "--root", t.root, "--user", "nobody")
        line, fix = line_for(r.stdout, "/dev/uhid")
        check("module is loaded" in line and "--device /dev/uhid" in fix, (line, fix))

        # Present but only root may write it: vauthd as nobody cannot use it.
        t.node("dev/uhid", 0o600)
        os.makedirs(t.path("sys/devices/platform/vhci_hcd.0"))
        tool = t.node("usr/sbin/usbip", 0o755)
        r = doctor(vauthd, "--root", t.root, "--user", "nobody")
        check(r.returncode == 1, r.returncode)
        line, fix = line_for(r.stdout, "/dev/uhid")
        check(line.startswith("[FAIL]") and "not writable by nobody" in line, line)
        check("70-vauth-fido.rules" in fix and "group vauth" in fix, fix)
        line, _ = line_for(r.stdout, "vhci-hcd")
        check(line.startswith("[ OK ]"), line)
        line, _ = line_for(r.stdout, "usbip tool")
        check(line.startswith("[ OK ]"), line)
        os.chmod(tool, 0o644)

        os.chmod(t.path("dev/uhid"), 0o666)
        r = doctor(vauthd, "--root", t.root, "--user", "nobody")
        check(r.returncode == 0 and "Result: the UHID route works" in r.stdout, r.stdout)
    finally:
        t.remove()


def test_bad_usage(vauthd):
    r = doctor(vauthd, "--user", "no-such-user-here")
    check(r.returncode == 2 and "no such user" in r.stdout, r.returncode)
    r = doctor(vauthd, "--frobnicate")
    check(r.returncode == 2 and "doctor" in r.stderr, r.returncode)
    r = doctor(vauthd, "--help")
    check(r.returncode == 0 and "--root" in r.stdout, r.returncode)


TESTS = [test_this_machine, test_fixture_hidraw_permissions, test_fixture_uhid_and_usbip, test_bad_usage]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    failures = 0
    for test in TESTS:
        try:
            test(argv[1])
            print("PASS %s" % test.__name__)
        except Exception:  # noqa: BLE001 - report every failure, then go on
            failures += 1
            print("FAIL %s" % test.__name__)
            traceback.print_exc(file=sys.stdout)
    print("%d of %d failed" % (failures, len(TESTS)) if failures else "ALL PASSED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
