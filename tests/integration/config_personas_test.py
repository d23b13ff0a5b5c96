#!/usr/bin/python3
"""vauthd --config with three differently configured keys, checked from the
outside: the control API (GET /v1/devices) sees each key's own name, serial,
PIN and presence mode, python-fido2 over USB/IP sees each persona's getInfo
(yubikey5, ctap2.0) or no CTAP2 at all (u2f-only, which still answers U2F),
the --trace file has every packet and decoded message, and tshark reads the
--pcap file as USB HID with one URB pair per report.

Usage: /usr/bin/python3 config_personas_test.py /path/to/vauthd
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_http import Api  # noqa: E402
from test_usbip_python_fido2 import attach, check, open_fido  # noqa: E402

from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.hid import CAPABILITY, CTAPHID  # noqa: E402

READY = re.compile(r"ready: device (\d+) .* on usbip (127\.0\.0\.1):(\d+) busid (\S+)")
YUBIKEY5_AAGUID = "2fc0579f811347eab116bb5a8db9202a"

CONFIG = """
transport = "usbip"
usbip-listen = "127.0.0.1:0"
store = "ephemeral"
control-socket = "{dir}/control.sock"
trace = "{dir}/trace.jsonl"
pcap = "{dir}/usb.pcapng"
log-format = "json"
seed = 11

[[device]]
persona = "yubikey5"
pin = "123456"
serial = "yk-1"

[[device]]
persona = "old"
name = "second key"
presence = "deny"

[[device]]
persona = "u2f-only"

[personas.old]
base = "ctap2.0"
max-credential-count-in-list = 3
"""


class Daemon:
    def __init__(self, binary, config):
        self.proc = subprocess.Popen([binary, "--config", config], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()
        self.busids = {}
        deadline = time.monotonic() + 20
        while len(self.busids) < 3:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                raise RuntimeError("vauthd exited with %s: %s" % (self.proc.wait(), "".join(self.stderr)))
            m = READY.search(line)
            if m:
                self.busids[int(m.group(1))] = m.group(4)
                self.host, self.port = m.group(2), int(m.group(3))

    def _pump(self):
        for line in self.proc.stdout:
            sys.stdout.write("[vauthd] " + line)
            self.lines.put(line)
        self.lines.put(None)

    def _pump_err(self):
        for line in self.proc.stderr:
            sys.stdout.write("[vauthd stderr] " + line)
            self.stderr.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        return self.proc.returncode


def test_control_api_sees_each_device(api):
    listed = api.get("/v1/devices")
    devices = {d["index"]: d for d in (listed["devices"] if isinstance(listed, dict) else listed)}
    check(sorted(devices) == [1, 2, 3], devices)
    check(devices[1]["name"] == "Yubico YubiKey OTP+FIDO+CCID", devices[1])
    check(devices[1]["serial"] == "yk-1", devices[1])
    check(devices[1]["pinSet"] is True, devices[1])
    check(devices[2]["name"] == "second key", devices[2])
    check(devices[2]["pinSet"] is False, devices[2])
    check(devices[2]["presence"] != devices[1]["presence"], (devices[1]["presence"], devices[2]["presence"]))
    check(devices[3]["name"] == "vauth virtual U2F key", devices[3])


def test_yubikey5_get_info(daemon):
    client = attach(daemon, daemon.busids[1])
    try:
        info = Ctap2(open_fido(client)).get_info()
        check(info.versions == ["U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE"], info.versions)
        check(info.aaguid.hex() == YUBIKEY5_AAGUID, info.aaguid.hex())
        check(info.max_msg_size == 1200, info.max_msg_size)
        check(info.max_creds_in_list == 8, info.max_creds_in_list)
        check(info.max_cred_id_length == 128, info.max_cred_id_length)
        check(info.options.get("credentialMgmtPreview") is True, info.options)
        check("credMgmt" not in info.options, info.options)
        check(info.options.get("clientPin") is True, info.options)  # the configured PIN
        check(info.transports == ["nfc", "usb"], info.transports)
        check([a["alg"] for a in info.algorithms] == [-7, -8], info.algorithms)
        check(info.firmware_version == 0x050403, info.firmware_version)
    finally:
        client.close()


def test_ctap20_get_info(daemon):
    client = attach(daemon, daemon.busids[2])
    try:
        info = Ctap2(open_fido(client)).get_info()
        check(info.versions == ["U2F_V2", "FIDO_2_0"], info.versions)
        check("FIDO_2_1" not in info.versions, info.versions)
        check("credMgmt" not in info.options and "pinUvAuthToken" not in info.options, info.options)
        check(info.pin_uv_protocols == [1], info.pin_uv_protocols)
        check(info.max_creds_in_list == 3, info.max_creds_in_list)  # from the config's persona
    finally:
        client.close()


def test_u2f_only(daemon):
    client = attach(daemon, daemon.busids[3])
    try:
        dev = open_fido(client)
        check(not (dev.capabilities & CAPABILITY.CBOR), dev.capabilities)
        try:
            dev.call(CTAPHID.CBOR, b"\x04")
            raise AssertionError("CTAPHID_CBOR answered on a U2F-only key")
        except CtapError as e:
            check(e.code == CtapError.ERR.INVALID_COMMAND, e)
        # U2F VERSION as an ISO 7816-4 case 2E APDU (Le 0x0000: up to 65536 bytes).
        answer = dev.call(CTAPHID.MSG, bytes([0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]))
        check(answer == b"U2F_V2\x90\x00", answer)
    finally:
        client.close()


def test_trace(path):
    lines = [json.loads(line) for line in open(path)]
    packets = [x for x in lines if x["type"] == "ctaphid"]
    check(any(p["dir"] == "out" and p.get("cmd") == "INIT" for p in packets), "no INIT packet")
    check(any(p["dir"] == "in" and p.get("cmd") == "CBOR" for p in packets), "no CBOR answer")
    requests = [x for x in lines if x["type"] == "ctap.request" and x["protocol"] == "ctap2"]
    responses = [x for x in lines if x["type"] == "ctap.response" and x["protocol"] == "ctap2"]
    check(any(r["command"] == "getInfo" for r in requests), requests)
    ok = [r for r in responses if r["command"] == "getInfo" and r["status"] == "CTAP2_OK"]
    check(len(ok) >= 2, responses)
    check("FIDO_2_1_PRE" in ok[0]["cbor"] or "FIDO_2_1_PRE" in ok[1]["cbor"], ok)  # diagnostic notation
    check(all("elapsed_ms" in r for r in responses), responses)
    check(any(x.get("protocol") == "u2f" and x["type"] == "ctap.request" and x["command"] == "u2fVersion" for x in lines),
          "no U2F VERSION in the trace")
    return len(packets)


def tshark(*args):
    return subprocess.run(["tshark", *args], check=True, capture_output=True, text=True).stdout


def test_pcap(path, reports, devices):
    if not shutil.which("tshark"):
        raise AssertionError("tshark is not installed (scripts/deps.sh installs it)")
    frames = tshark("-r", path, "-T", "fields", "-e", "frame.number").split()
    # Per device 3 GET_DESCRIPTOR submit/complete pairs, then one URB pair per report.
    check(len(frames) == 2 * reports + 6 * devices, (len(frames), reports, devices))
    interrupt = tshark("-r", path, "-Y", "usb.transfer_type == 0x01 && usb.data_len == 64", "-T", "fields",
                       "-e", "usb.endpoint_address", "-e", "usb.bInterfaceClass").splitlines()
    check(len(interrupt) == reports, (len(interrupt), reports))
    # Wireshark learnt the interface class from the configuration descriptor: HID (3).
    check(all(line.split("\t")[-1] == "0x03" for line in interrupt), interrupt[:3])
    hid = tshark("-r", path, "-Y", "usbhid.data", "-T", "fields", "-e", "frame.number").split()
    check(len(hid) == reports, (len(hid), reports))


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="vauth-config-")
    config = os.path.join(tmp, "vauthd.toml")
    with open(config, "w") as f:
        f.write(CONFIG.format(dir=tmp))
    daemon = Daemon(binary, config)
    failures = 0
    try:
        for name, fn in [("control API", lambda: test_control_api_sees_each_device(Api(tmp + "/control.sock"))),
                         ("yubikey5", lambda: test_yubikey5_get_info(daemon)),
                         ("ctap2.0", lambda: test_ctap20_get_info(daemon)),
                         ("u2f-only", lambda: test_u2f_only(daemon))]:
            try:
                fn()
                print("PASS", name)
            except Exception:
                failures += 1
                print("FAIL", name)
                traceback.print_exc()
    finally:
        rc = daemon.stop()
    try:
        check(rc == 0, "vauthd exit status %s" % rc)
        check(all(json.loads(line)["level"] in ("info", "warning") for line in daemon.stderr if line.strip()),
              daemon.stderr)
        check(oct(os.stat(tmp + "/trace.jsonl").st_mode & 0o777) == "0o600", "trace file mode")
        reports = test_trace(tmp + "/trace.jsonl")
        print("PASS trace (%d packets)" % reports)
        test_pcap(tmp + "/usb.pcapng", reports, 3)
        print("PASS pcap")
    except Exception:
        failures += 1
        traceback.print_exc()
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
