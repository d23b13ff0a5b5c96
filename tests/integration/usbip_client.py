"""A small USB/IP client (the host side: what vhci-hcd does) in stdlib Python.

It lists and imports devices from a USB/IP server, then talks USB to the
imported device: control transfers on endpoint 0 and 64-byte interrupt
transfers on endpoint 1, the way usbhid does (one IN URB kept posted,
unlinked when the reader stops). Tests use it to reach vauthd's USB/IP server
without a kernel; it follows Linux Documentation/usb/usbip_protocol.rst.
"""

import socket
import struct
import time

USBIP_VERSION = 0x0111
OP_REQ_DEVLIST, OP_REP_DEVLIST = 0x8005, 0x0005
OP_REQ_IMPORT, OP_REP_IMPORT = 0x8003, 0x0003
CMD_SUBMIT, CMD_UNLINK, RET_SUBMIT, RET_UNLINK = 1, 2, 3, 4
DIR_OUT, DIR_IN = 0, 1
EPIPE = -32
ECONNRESET = -104

DEVICE_RECORD = struct.Struct(">256s32sIIIHHHBBBBBB")  # 312 bytes
INTERFACE_RECORD = struct.Struct(">BBBx")
URB_HEADER = 48

# Standard requests and descriptor types used below.
GET_STATUS, SET_CONFIGURATION, GET_DESCRIPTOR = 0x00, 0x09, 0x06
DT_DEVICE, DT_CONFIG, DT_STRING, DT_DEVICE_QUALIFIER, DT_HID_REPORT = 1, 2, 3, 6, 0x22
HID_SET_IDLE = 0x0A


class UsbipError(Exception):
    pass


class Stall(UsbipError):
    """The device answered a transfer with STALL (-EPIPE)."""


class UrbError(UsbipError):
    def __init__(self, status):
        super().__init__("URB failed with status %d" % status)
        self.status = status


def _cstr(raw):
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


def _parse_device(raw):
    f = DEVICE_RECORD.unpack(raw)
    return {
        "path": _cstr(f[0]), "busid": _cstr(f[1]), "busnum": f[2], "devnum": f[3],
        "speed": f[4], "idVendor": f[5], "idProduct": f[6], "bcdDevice": f[7],
        "bDeviceClass": f[8], "bDeviceSubClass": f[9], "bDeviceProtocol": f[10],
        "bConfigurationValue": f[11], "bNumConfigurations": f[12], "bNumInterfaces": f[13],
    }


class Reply:
    def __init__(self, command, seqnum, status, actual_length, data):
        self.command, self.seqnum, self.status = command, seqnum, status
        self.actual_length, self.data = actual_length, data


class UsbipClient:
    """One TCP connection to a USB/IP server. Before import it answers
    devlist(); after import_device() it carries URBs for that device."""

    def __init__(self, host="127.0.0.1", port=3240, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.device = None
        self._seqnum = 0
        self._in_seqnums = set()  # IN URBs: their RET_SUBMIT carries data
        self._replies = {}        # seqnum -> Reply, received but not yet waited for
        self._posted_in = []      # interrupt IN URBs posted and not completed (FIFO)
        self._buf = b""

    # ---- plumbing

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv_exact(self, n, deadline):
        while len(self._buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("USB/IP server did not answer in time")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("USB/IP server did not answer in time") from None
            if not chunk:
                raise UsbipError("connection closed by the server")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _deadline(self, timeout):
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    # ---- operations (before import)

    def devlist(self):
        self.sock.sendall(struct.pack(">HHI", USBIP_VERSION, OP_REQ_DEVLIST, 0))
        deadline = self._deadline(None)
        version, code, status = struct.unpack(">HHI", self._recv_exact(8, deadline))
        if code != OP_REP_DEVLIST or status != 0:
            raise UsbipError("bad devlist reply: code %#x status %d" % (code, status))
        (count,) = struct.unpack(">I", self._recv_exact(4, deadline))
        devices = []
        for _ in range(count):
            dev = _parse_device(self._recv_exact(DEVICE_RECORD.size, deadline))
            dev["interfaces"] = [
                INTERFACE_RECORD.unpack(self._recv_exact(4, deadline))
                for _ in range(dev["bNumInterfaces"])
            ]
            devices.append(dev)
        return devices

    def import_device(self, busid):
        self.sock.sendall(struct.pack(">HHI32s", USBIP_VERSION, OP_REQ_IMPORT, 0, busid.encode()))
        deadline = self._deadline(None)
        version, code, status = struct.unpack(">HHI", self._recv_exact(8, deadline))
        if code != OP_REP_IMPORT:
            raise UsbipError("bad import reply code %#x" % code)
        if status != 0:
            raise UsbipError("import of %s refused (status %d)" % (busid, status))
        self.device = _parse_device(self._recv_exact(DEVICE_RECORD.size, deadline))
        return self.device

    # ---- URBs (after import)

    def submit(self, ep, direction, length, setup=b"\0" * 8, data=b""):
        """Sends CMD_SUBMIT and returns its seqnum; wait() collects the reply."""
        self._seqnum += 1
        seqnum = self._seqnum
        devid = (self.device["busnum"] << 16) | self.device["devnum"] if self.device else 0
        if direction == DIR_IN:
            self._in_seqnums.add(seqnum)
            data = b""
        header = struct.pack(">IIIIIIIiii8s", CMD_SUBMIT, seqnum, devid, direction, ep,
                             0, length, 0, 0, 0, setup)
        self.sock.sendall(header + data)
        return seqnum

    def unlink(self, target):
        self._seqnum += 1
        seqnum = self._seqnum
        devid = (self.device["busnum"] << 16) | self.device["devnum"] if self.device else 0
        self.sock.sendall(struct.pack(">IIIIII24x", CMD_UNLINK, seqnum, devid, 0, 0, target))
        return seqnum

    def _read_reply(self, deadline):
        head = self._recv_exact(URB_HEADER, deadline)
        command, seqnum, _devid, _direction, _ep, status, actual = struct.unpack(">IIIIIiI", head[:28])
        data = b""
        if command == RET_SUBMIT:
            if seqnum in self._in_seqnums and actual:
                data = self._recv_exact(actual, deadline)
            self._in_seqnums.discard(seqnum)
        elif command != RET_UNLINK:
            raise UsbipError("unexpected URB reply command %d" % command)
        self._replies[seqnum] = Reply(command, seqnum, status, actual, data)

    def wait(self, seqnum, timeout=None):
        deadline = self._deadline(timeout)
        while seqnum not in self._replies:
            self._read_reply(deadline)
        return self._replies.pop(seqnum)

    def poll(self, seqnum, timeout):
        """Like wait() but returns None when nothing arrives in `timeout`."""
        try:
            return self.wait(seqnum, timeout)
        except TimeoutError:
            return None

    def control(self, request_type, request, value, index, length, data=b"", timeout=None):
        setup = struct.pack("<BBHHH", request_type, request, value, index, length)
        direction = DIR_IN if request_type & 0x80 else DIR_OUT
        seqnum = self.submit(0, direction, length if direction == DIR_IN else len(data), setup, data)
        reply = self.wait(seqnum, timeout)
        if reply.status == EPIPE:
            raise Stall("request %#04x/%#04x stalled" % (request_type, request))
        if reply.status != 0:
            raise UrbError(reply.status)
        return reply.data

    def get_descriptor(self, dtype, index=0, length=255, lang=0, interface=False):
        request_type = 0x81 if interface else 0x80
        return self.control(request_type, GET_DESCRIPTOR, (dtype << 8) | index, lang, length)

    def get_string(self, index, lang=0x0409):
        raw = self.get_descriptor(DT_STRING, index, 255, lang)
        return raw[2:raw[0]].decode("utf-16-le")

    def enumerate(self):
        """The requests the Linux kernel and usbhid make after attaching; returns what was learnt."""
        info = {"device": self.get_descriptor(DT_DEVICE, 0, 64)}
        try:
            self.get_descriptor(DT_DEVICE_QUALIFIER, 0, 10)
            info["qualifier_stalled"] = False
        except Stall:
            info["qualifier_stalled"] = True
        head = self.get_descriptor(DT_CONFIG, 0, 9)
        total = struct.unpack_from("<H", head, 2)[0]
        info["configuration"] = self.get_descriptor(DT_CONFIG, 0, total)
        d = info["device"]
        info["langids"] = self.get_descriptor(DT_STRING, 0, 255)
        info["manufacturer"] = self.get_string(d[14])
        info["product"] = self.get_string(d[15])
        info["serial"] = self.get_string(d[16])
        self.control(0x00, SET_CONFIGURATION, 1, 0, 0)
        self.control(0x21, HID_SET_IDLE, 0, 0, 0)
        info["report_descriptor"] = self.get_descriptor(DT_HID_REPORT, 0, 34 + 64, interface=True)
        return info

    # ---- interrupt endpoint 1, as usbhid uses it

    def interrupt_out(self, report, timeout=None):
        seqnum = self.submit(1, DIR_OUT, len(report), data=bytes(report))
        reply = self.wait(seqnum, timeout)
        if reply.status != 0:
            raise UrbError(reply.status)
        return reply.actual_length

    def post_in(self, length=64):
        """Posts an interrupt IN URB (usbhid keeps one posted while hidraw is open)."""
        seqnum = self.submit(1, DIR_IN, length)
        self._posted_in.append(seqnum)
        return seqnum

    def interrupt_in(self, timeout=None):
        """The next input report: completes the oldest posted IN URB and posts
        the next one, so the device always has somewhere to put a report."""
        if not self._posted_in:
            self.post_in()
        seqnum = self._posted_in[0]
        reply = self.wait(seqnum, timeout)
        self._posted_in.pop(0)
        self.post_in()
        if reply.status != 0:
            raise UrbError(reply.status)
        return reply.data

    def unlink_in(self, timeout=None):
        """Unlinks every posted IN URB (what usbhid does when hidraw is closed);
        returns the RET_UNLINK statuses."""
        statuses = []
        while self._posted_in:
            target = self._posted_in.pop(0)
            reply = self.wait(self.unlink(target), timeout)
            statuses.append(reply.status)
            if reply.status == 0:
                # Completed before the unlink arrived: its RET_SUBMIT is still owed.
                self._replies.pop(target, None)
        return statuses


def devlist(host="127.0.0.1", port=3240, timeout=10.0):
    with UsbipClient(host, port, timeout) as c:
        return c.devlist()
