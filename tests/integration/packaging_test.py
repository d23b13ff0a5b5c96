#!/usr/bin/python3
"""Checks the packaging files we cannot run here (no Docker on the test
machines): docker/Dockerfile only names scripts and paths that exist and runs
the same scripts/deps.sh + scripts/build.sh steps as CI; docker/compose.yaml
is valid YAML whose services use the image's binaries; the systemd unit passes
`systemd-analyze verify` without warnings.

Usage: /usr/bin/python3 packaging_test.py SOURCE_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

root = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)


def dockerfile():
    text = open(os.path.join(root, "docker/Dockerfile")).read()
    lines = [line.strip() for line in re.sub(r"\\\n", " ", text).splitlines()
             if line.strip() and not line.strip().startswith("#")]
    stages = [line for line in lines if line.startswith("FROM ")]
    check(len(stages) == 2, "two stages (build, runtime): %s" % stages)
    check(all("bookworm" in s for s in stages), "Debian bookworm images: %s" % stages)
    # Every COPY from the build context names something in the repository.
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            sources = line.split()[1:-1]
            for s in sources:
                check(s == "." or os.path.exists(os.path.join(root, s)), "COPY source %s exists" % s)
    runs = [line for line in lines if line.startswith("RUN ")]
    # The build stage runs the project's scripts, and nothing else builds.
    check(any(r.startswith("RUN scripts/deps.sh") for r in runs), "RUN scripts/deps.sh")
    check(any(r.startswith("RUN scripts/build.sh /build") for r in runs), "RUN scripts/build.sh /build")
    check(not any("cmake" in r.split("&&")[0] and "scripts/" not in r for r in runs), "no hand-rolled cmake step")
    for script in re.findall(r"scripts/[\w.-]+", text):
        path = os.path.join(root, script)
        check(os.access(path, os.X_OK), "%s exists and is executable" % script)
    # What the runtime stage copies from /build is what CMake builds there.
    for built in re.findall(r"/build/([\w/]+)", text):
        directory, name = os.path.split(built)
        cmake = os.path.join(root, directory, "CMakeLists.txt")
        check(os.path.exists(cmake) and ("add_executable(%s " % name) in open(cmake).read(),
              "/build/%s is an executable of %s" % (built, cmake))
    # The runtime packages are the Debian names of what the binaries link.
    for package in ["libssl3", "libcbor0.8", "libboost-program-options1.74.0", "libtomlplusplus3"]:
        check(package in text, "runtime package %s" % package)
    check("USER vauth" in text, "runs as a non-root user")
    check("HEALTHCHECK" in text and "vauthctl" in text, "a vauthctl health check")


def compose():
    doc = yaml.safe_load(open(os.path.join(root, "docker/compose.yaml")))
    services = doc.get("services", {})
    check(len(services) >= 2, "compose services: %s" % list(services))
    for name, s in services.items():
        check("healthcheck" in s and "vauthctl" in s["healthcheck"]["test"], "%s has a vauthctl healthcheck" % name)
        build = s.get("build")
        if build:
            check(os.path.exists(os.path.join(root, "docker", build["context"], build["dockerfile"])),
                  "%s builds docker/Dockerfile" % name)
        for port in s.get("ports", []):
            check(str(port).startswith("127.0.0.1:"), "%s publishes %s on loopback only" % (name, port))
    check(any("/dev/uhid" in str(s.get("devices", [])) for s in services.values()), "a UHID example")
    check(any("3240" in str(s.get("ports", [])) for s in services.values()), "a USB/IP example")


def systemd_unit():
    if not shutil.which("systemd-analyze"):
        print("systemd-analyze not found: skipping the unit check (not counted as passing)")
        return
    text = open(os.path.join(root, "packaging/systemd/vauthd.service")).read()
    # verify checks that the binaries exist: point it at ones that do.
    text = text.replace("/usr/local/bin/vauthd", "/bin/true").replace("/usr/local/bin/vauthctl", "/bin/true")
    with tempfile.TemporaryDirectory() as d:
        unit = os.path.join(d, "vauthd.service")
        open(unit, "w").write(text)
        r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True)
        check(r.returncode == 0, "systemd-analyze verify: %s" % r.stderr)
        warnings = [line for line in r.stderr.splitlines() if "vauthd.service" in line]
        check(not warnings, "systemd-analyze warnings: %s" % warnings)


dockerfile()
compose()
systemd_unit()
print("packaging:", "FAILED" if failures else "ok")
sys.exit(1 if failures else 0)
