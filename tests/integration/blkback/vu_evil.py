#!/usr/bin/env python3
"""tests/integration/blkback/vu_evil.py: a vhost-user-blk client of our
own, with no guest: it shares a memfd as guest memory, builds a split
virtqueue in it, and either drives real requests or breaks the protocol
and the rings on purpose.

    vu_evil.py SOCKET CASE

CASE "good" writes, flushes, reads back, asks the id, writes zeroes,
discards, and checks every status ("offset": the same with the guest
memory at an unaligned offset of its file). "ro" expects writes to fail
(a --read-only server). The other cases send one kind of bad message,
ring or request and check the answer the protocol allows (a failing
REPLY_ACK, a dropped connection, a request failed with IOERR, or a
queue that stops serving). Exit 0 when the server behaved, 1 with a
message otherwise.
"""
import fcntl
import mmap
import os
import select
import socket
import struct
import sys

GET_FEATURES, SET_FEATURES, SET_OWNER = 1, 2, 3
SET_MEM_TABLE = 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL = 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
GET_CONFIG = 24
NEED_REPLY = 0x8
F_PROTOCOL, F_VERSION_1, F_INDIRECT = 30, 32, 28
PF_MQ, PF_REPLY_ACK, PF_CONFIG = 0, 3, 9
NEXT, WRITE, INDIRECT = 1, 2, 4
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13

MEMSZ = 1 << 20
UVA = 0x7F0000000000
QSZ = 8
DESC, AVAIL, USED, ITAB, DATA = 0x0, 0x1000, 0x2000, 0x3000, 0x10000


class Fail(Exception):
    pass


class Client:
    def __init__(self, path, off=0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.memfd = os.memfd_create("guest")
        os.ftruncate(self.memfd, MEMSZ + off)
        self.off = off        # guest memory starts this far into the file
        self.mem = memoryview(mmap.mmap(self.memfd, MEMSZ + off))[off:off + MEMSZ]
        self.kick = os.eventfd(0)
        self.call = os.eventfd(0, os.EFD_NONBLOCK)
        self.avail_idx = 0
        self.used_seen = 0

    # -- messages --
    def send(self, req, payload=b"", fds=(), flags=0x1, size=None):
        hdr = struct.pack("<III", req, flags, len(payload) if size is None else size)
        if fds:
            socket.send_fds(self.s, [hdr + payload], list(fds))
        else:
            self.s.sendall(hdr + payload)

    def recv_reply(self, req):
        hdr = self.recvn(12)
        r, flags, size = struct.unpack("<III", hdr)
        if r != req or not flags & 0x4:
            raise Fail("reply to %d: got request %d flags %#x" % (req, r, flags))
        return self.recvn(size)

    def recvn(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("server closed the connection")
            b += c
        return b

    def get_u64(self, req):
        self.send(req)
        return struct.unpack("<Q", self.recv_reply(req))[0]

    def acked(self, req, payload=b"", fds=(), size=None):
        """Sends with NEED_REPLY; returns the REPLY_ACK value (0 = success)."""
        self.send(req, payload, fds, flags=0x1 | NEED_REPLY, size=size)
        return struct.unpack("<Q", self.recv_reply(req))[0]

    def ok(self, req, payload=b"", fds=()):
        v = self.acked(req, payload, fds)
        if v:
            raise Fail("message %d refused (%d)" % (req, v))

    def handshake(self, features=None):
        feats = self.get_u64(GET_FEATURES)
        if not feats & (1 << F_PROTOCOL):
            raise Fail("no VHOST_USER_F_PROTOCOL_FEATURES")
        self.features = feats
        pf = self.get_u64(GET_PROTOCOL_FEATURES)
        want = (1 << PF_MQ) | (1 << PF_REPLY_ACK) | (1 << PF_CONFIG)
        if pf & want != want:
            raise Fail("protocol features %#x lack MQ/REPLY_ACK/CONFIG" % pf)
        self.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", want))
        self.nq = self.get_u64(GET_QUEUE_NUM)
        self.ok(SET_OWNER)
        self.send(GET_CONFIG, struct.pack("<III", 0, 60, 0) + bytes(60))
        cfg = self.recv_reply(GET_CONFIG)[12:]
        self.capacity = struct.unpack_from("<Q", cfg, 0)[0]
        if features is None:
            features = (1 << F_VERSION_1) | (1 << F_INDIRECT) | (1 << F_PROTOCOL)
        self.ok(SET_FEATURES, struct.pack("<Q", features))

    def setup_mem(self):
        region = struct.pack("<QQQQ", 0, MEMSZ, UVA, self.off)
        self.ok(SET_MEM_TABLE, struct.pack("<II", 1, 0) + region, [self.memfd])

    def setup_queue(self, desc=UVA + DESC, avail=UVA + AVAIL, used=UVA + USED, num=QSZ):
        self.ok(SET_VRING_NUM, struct.pack("<II", 0, num))
        self.ok(SET_VRING_ADDR, struct.pack("<IIQQQQ", 0, 0, desc, used, avail, 0))
        self.ok(SET_VRING_BASE, struct.pack("<II", 0, 0))
        self.ok(SET_VRING_CALL, struct.pack("<Q", 0), [self.call])
        self.ok(SET_VRING_KICK, struct.pack("<Q", 0), [self.kick])
        self.ok(SET_VRING_ENABLE, struct.pack("<II", 0, 1))

    def ready(self):
        self.handshake()
        self.setup_mem()
        self.setup_queue()

    # -- rings --
    def desc(self, i, addr, ln, flags, nxt=0, table=DESC):
        struct.pack_into("<QIHH", self.mem, table + 16 * i, addr, ln, flags, nxt)

    def offer(self, head):
        struct.pack_into("<H", self.mem, AVAIL + 4 + 2 * (self.avail_idx % QSZ), head)
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        struct.pack_into("<H", self.mem, AVAIL + 2, self.avail_idx)
        os.eventfd_write(self.kick, 1)

    def wait_used(self, secs=5.0):
        """The next used entry (id, len), or None when none comes in secs."""
        end = secs
        while True:
            idx = struct.unpack_from("<H", self.mem, USED + 2)[0]
            if idx != self.used_seen:
                e = USED + 4 + 8 * (self.used_seen % QSZ)
                self.used_seen = (self.used_seen + 1) & 0xFFFF
                return struct.unpack_from("<II", self.mem, e)
            if end <= 0:
                return None
            select.select([self.call], [], [], 0.01)
            try:
                os.eventfd_read(self.call)
            except (BlockingIOError, OSError):
                pass
            end -= 0.01

    def request(self, typ, sector, data=b"", read_len=0, flags_hdr=0, expect=0):
        """One request in three descriptors; returns the bytes read."""
        hdr_at, data_at, st_at = DATA, DATA + 0x1000, DATA + 0x80000
        struct.pack_into("<IIQ", self.mem, hdr_at, typ, 0, sector)
        self.mem[st_at] = 0xFF
        self.desc(0, hdr_at, 16, NEXT | flags_hdr, 1)
        if data:
            self.mem[data_at:data_at + len(data)] = data
            self.desc(1, data_at, len(data), NEXT, 2)
            i = 2
        elif read_len:
            self.desc(1, data_at, read_len, NEXT | WRITE, 2)
            i = 2
        else:
            i = 1
        self.desc(i, st_at, 1, WRITE)
        self.offer(0)
        u = self.wait_used()
        if u is None:
            raise Fail("request %d got no answer" % typ)
        if self.mem[st_at] != expect:
            raise Fail("request %d at %d: status %d, want %d" % (typ, sector, self.mem[st_at], expect))
        return bytes(self.mem[data_at:data_at + read_len])

    def dead(self):
        """True when the server has closed the connection."""
        try:
            self.s.settimeout(5)
            return self.s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def case_good(c):
    c.ready()
    pat = bytes((i * 7) & 0xFF for i in range(8192))
    c.request(T_OUT, 8, data=pat)
    c.request(T_FLUSH, 0)
    if c.request(T_IN, 8, read_len=8192) != pat:
        raise Fail("read back differs")
    ident = c.request(T_GET_ID, 0, read_len=20)
    if not ident.rstrip(b"\0"):
        raise Fail("empty id")
    seg = struct.pack("<QII", 9, 2, 1)
    c.request(T_WZ, 0, data=seg)
    got = c.request(T_IN, 8, read_len=8192)
    if got[512:1536] != bytes(1024) or got[:512] != pat[:512] or got[1536:] != pat[1536:]:
        raise Fail("write zeroes did not zero exactly sectors 9-10")
    c.request(T_DISCARD, 0, data=struct.pack("<QII", 100, 8, 0))
    c.request(T_IN, c.capacity - 1, read_len=512)
    c.request(T_IN, c.capacity, read_len=512, expect=1)         # past the end
    c.request(T_OUT, 0, data=b"x" * 100, expect=1)               # partial sector
    c.request(T_DISCARD, 0, data=struct.pack("<QII", 0, 8, 1), expect=1)  # unmap flag on discard
    c.request(99, 0, expect=2)                                   # unknown: UNSUPP
    # a real indirect request
    struct.pack_into("<IIQ", c.mem, DATA, T_IN, 0, 8)
    c.mem[DATA + 0x80000] = 0xFF
    c.desc(0, DATA, 16, NEXT, 1, table=ITAB)
    c.desc(1, DATA + 0x1000, 512, NEXT | WRITE, 2, table=ITAB)
    c.desc(2, DATA + 0x80000, 1, WRITE, 0, table=ITAB)
    c.desc(3, ITAB, 48, INDIRECT)
    c.offer(3)
    if c.wait_used() is None or c.mem[DATA + 0x80000] != 0 or bytes(c.mem[DATA + 0x1000:DATA + 0x1200]) != pat[:512]:
        raise Fail("indirect read failed")
    c.send(GET_VRING_BASE, struct.pack("<II", 0, 0))
    idx = struct.unpack("<II", c.recv_reply(GET_VRING_BASE))[1]
    if idx != c.avail_idx:
        raise Fail("GET_VRING_BASE %d, want %d" % (idx, c.avail_idx))


def case_remap(c):
    """A new memory table while the queue runs: it stops, remaps, resumes."""
    c.ready()
    pat = bytes(range(256)) * 4
    c.request(T_OUT, 64, data=pat)
    c.setup_mem()
    if c.request(T_IN, 64, read_len=1024) != pat:
        raise Fail("read after a new memory table differs")
    c.send(GET_VRING_BASE, struct.pack("<II", 0, 0))
    idx = struct.unpack("<II", c.recv_reply(GET_VRING_BASE))[1]
    if idx != c.avail_idx:
        raise Fail("GET_VRING_BASE %d, want %d" % (idx, c.avail_idx))
    # restarted from that base with a new kick fd, it serves again
    c.kick = os.eventfd(0)
    c.ok(SET_VRING_KICK, struct.pack("<Q", 0), [c.kick])
    if c.request(T_IN, 64, read_len=1024) != pat:
        raise Fail("read after the ring restarted differs")


def case_pipecall(c):
    """A pipe nobody reads as the call fd: once it is full, requests
    still complete and GET_VRING_BASE still answers (no stuck worker)."""
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 4096)        # F_SETPIPE_SZ: one page, 512 notifications
    c.call = w
    c.ready()
    for _ in range(700):
        c.request(T_IN, 0, read_len=512)
    c.send(GET_VRING_BASE, struct.pack("<II", 0, 0))
    idx = struct.unpack("<II", c.recv_reply(GET_VRING_BASE))[1]
    if idx != c.avail_idx:
        raise Fail("GET_VRING_BASE %d, want %d" % (idx, c.avail_idx))
    os.close(r)


def case_ro(c):
    c.ready()
    c.request(T_IN, 0, read_len=512)
    c.request(T_OUT, 0, data=bytes(512), expect=1)
    c.request(T_WZ, 0, data=struct.pack("<QII", 0, 1, 0), expect=1)
    if c.features & (1 << 5) == 0:
        raise Fail("read-only device without VIRTIO_BLK_F_RO")


def expect_refused(c, req, payload=b"", fds=(), size=None):
    v = c.acked(req, payload, fds, size=size)
    if v == 0:
        raise Fail("bad message %d accepted" % req)


def case_msgs(c):
    """Well-framed but wrong messages: each gets a failing REPLY_ACK."""
    c.handshake()
    expect_refused(c, SET_VRING_NUM, struct.pack("<I", 0))             # wrong size
    expect_refused(c, SET_VRING_NUM, struct.pack("<II", 99, 8))        # bad queue index
    expect_refused(c, SET_VRING_NUM, struct.pack("<II", 0, 100))       # not a power of two
    expect_refused(c, SET_VRING_NUM, struct.pack("<II", 0, 65536))     # too big
    expect_refused(c, SET_VRING_NUM, struct.pack("<II", 0, 0))
    expect_refused(c, SET_VRING_ADDR, struct.pack("<IIQQQQ", 7, 0, 0, 0, 0, 0)[:32])
    expect_refused(c, SET_MEM_TABLE, struct.pack("<II", 9, 0) + bytes(32 * 9))   # 9 regions, no fds
    region = struct.pack("<QQQQ", 0, MEMSZ, UVA, 0)
    expect_refused(c, SET_MEM_TABLE, struct.pack("<II", 1, 0) + region)        # region without its fd
    expect_refused(c, SET_MEM_TABLE, struct.pack("<II", 2, 0) + region * 2, [c.memfd, c.memfd])  # overlap
    expect_refused(c, SET_MEM_TABLE, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 1 << 40, UVA, 0),
                   [c.memfd])                                                  # bigger than the file
    expect_refused(c, SET_VRING_CALL, struct.pack("<Q", 200), [c.call])        # queue index 200
    expect_refused(c, SET_VRING_KICK, struct.pack("<Q", 0), [c.kick, c.call])  # two fds
    expect_refused(c, SET_FEATURES, struct.pack("<Q", 1 << 63))                # not offered
    expect_refused(c, 99)                                                      # unknown request
    expect_refused(c, SET_VRING_ENABLE, struct.pack("<II", 0, 2))
    expect_refused(c, 25, struct.pack("<III", 0, 4, 0) + bytes(4))             # SET_CONFIG
    c.send(GET_CONFIG, struct.pack("<III", 250, 60, 0) + bytes(60))            # past the config space
    try:
        c.recv_reply(GET_CONFIG)
        raise Fail("GET_CONFIG past the end answered")
    except (EOFError, ConnectionResetError):
        pass


def case_bigsize(c):
    c.send(GET_FEATURES, size=0x10000000)
    if not c.dead():
        raise Fail("a 256 MiB payload size did not end the connection")


def case_manyfds(c):
    fds = [os.eventfd(0) for _ in range(12)]
    c.send(SET_MEM_TABLE, struct.pack("<II", 1, 0) + bytes(32), fds)
    if not c.dead():
        raise Fail("12 fds did not end the connection")


def case_truncated(c):
    c.s.sendall(struct.pack("<II", SET_VRING_NUM, 1))   # half a header, then gone
    c.s.shutdown(socket.SHUT_WR)
    if not c.dead():
        raise Fail("a truncated header did not end the connection")


def case_noack(c):
    """A bad message without NEED_REPLY: the server drops the client."""
    c.handshake()
    c.send(SET_VRING_NUM, struct.pack("<II", 0, 3))
    if not c.dead():
        raise Fail("a bad message without REPLY_ACK kept the connection")


def broken_queue(c, what):
    """After the bad chain the queue serves nothing more."""
    u = c.wait_used(2)
    if u is not None:
        raise Fail("%s: the queue answered a broken chain: %r" % (what, u))


def case_ringout(c):
    c.handshake()
    c.setup_mem()
    c.setup_queue(desc=UVA + MEMSZ - 64)   # descriptors past the memory table
    c.desc(0, DATA, 16, 0)
    c.offer(0)
    broken_queue(c, "ring outside memory")


def case_chain(c, shape):
    c.ready()
    if shape == "loop":
        c.desc(0, DATA, 16, NEXT, 1)
        c.desc(1, DATA + 16, 16, NEXT, 0)
    elif shape == "desc-outside":
        c.desc(0, MEMSZ - 8, 16, 0)
    elif shape == "len-4g":
        c.desc(0, DATA, 0xFFFFFFFF, WRITE)
    elif shape == "next-outside":
        c.desc(0, DATA, 16, NEXT, QSZ + 3)
    elif shape == "indirect-outside":
        c.desc(0, MEMSZ - 32, 64, INDIRECT)
    elif shape == "indirect-len":
        c.desc(0, ITAB, 24, INDIRECT)
    elif shape == "indirect-nested":
        c.desc(0, ITAB, 16, INDIRECT, table=ITAB)
        c.desc(0, ITAB, 16, INDIRECT)
    elif shape == "read-after-write":
        c.desc(0, DATA, 1, WRITE | NEXT, 1)
        c.desc(1, DATA, 16, 0)
    c.offer(0)
    broken_queue(c, shape)


def case_requests(c):
    """Malformed requests on a working ring: failed, never fatal."""
    c.ready()
    # the header in a device-writable descriptor: IOERR
    c.request(T_IN, 0, read_len=512, flags_hdr=WRITE, expect=1)
    # the status byte in a read-only descriptor: handed back, nothing written
    struct.pack_into("<IIQ", c.mem, DATA, T_IN, 0, 0)
    c.mem[DATA + 16] = 0xFF
    c.desc(0, DATA, 17, 0)
    c.offer(0)
    u = c.wait_used()
    if u is None or u[1] != 0 or c.mem[DATA + 16] != 0xFF:
        raise Fail("status in a read-only descriptor: %r, byte %d" % (u, c.mem[DATA + 16]))
    # zero-length data, header only (a write of nothing): OK
    c.request(T_OUT, 0)
    # a write zeroes with two segments: IOERR
    c.request(T_WZ, 0, data=struct.pack("<QII", 0, 1, 0) * 2, expect=1)
    # a huge sector: IOERR, no overflow
    c.request(T_IN, (1 << 64) - 1, read_len=512, expect=1)
    c.request(T_WZ, 0, data=struct.pack("<QII", (1 << 64) - 2, 0xFFFFFFFF, 0), expect=1)
    # and the queue still works
    c.request(T_IN, 0, read_len=512)


CASES = {
    "good": case_good, "ro": case_ro, "msgs": case_msgs, "bigsize": case_bigsize,
    "manyfds": case_manyfds, "truncated": case_truncated, "noack": case_noack,
    "ringout": case_ringout, "requests": case_requests, "remap": case_remap,
    "pipecall": case_pipecall,
}
CHAINS = ["loop", "desc-outside", "len-4g", "next-outside", "indirect-outside",
          "indirect-len", "indirect-nested", "read-after-write"]


def main():
    path, case = sys.argv[1], sys.argv[2]
    # "offset": case good with guest memory at an unaligned offset of its file
    c = Client(path, 0x100800 if case == "offset" else 0)
    try:
        if case == "offset":
            case_good(c)
        elif case in CHAINS:
            case_chain(c, case)
        else:
            CASES[case](c)
    except (Fail, EOFError, OSError) as e:
        print("FAIL %s: %s" % (case, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
