#!/usr/bin/env python3
"""tests/integration/blkback/nbd_evil.py: a raw NBD client that checks
protocol answers and breaks the protocol on purpose.

    nbd_evil.py SOCKET EXPORT CASE

SOCKET is a Unix socket path, or HOST:PORT for TCP.

Exit 0 when the server answered as the NBD protocol says (for the cases
that expect an answer) or simply survived; 1 with a message otherwise.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x3E889045565A9
REQ_MAGIC = 0x25609513
SIMPLE = 0x67446698
STRUCT = 0x668E33EF


def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("server closed after %d of %d bytes" % (len(b), n))
        b += c
    return b


def dial(path):
    """A connected socket, before the greeting."""
    if "/" not in path and ":" in path:
        host, port = path.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=10)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
    return s


def connect(path):
    s = dial(path)
    magic, opt, flags = struct.unpack(">QQH", recvn(s, 18))
    assert magic == NBDMAGIC and opt == IHAVEOPT, "bad greeting"
    assert flags & 1, "not fixed newstyle"
    s.sendall(struct.pack(">I", 3))  # fixed newstyle, no zeroes
    return s


def option(s, opt, data=b""):
    s.sendall(struct.pack(">QII", IHAVEOPT, opt, len(data)) + data)
    replies = []
    while True:
        magic, o, typ, ln = struct.unpack(">QIII", recvn(s, 20))
        assert magic == REP_MAGIC and o == opt, "bad option reply header"
        replies.append((typ, recvn(s, ln)))
        if typ == 1 or typ & 0x80000000:
            return replies


def go(s, name, structured=False):
    if structured:
        assert option(s, 8)[-1][0] == 1
    n = name.encode()
    r = option(s, 7, struct.pack(">I", len(n)) + n + struct.pack(">H", 0))
    assert r[-1][0] == 1, "GO refused: %x" % r[-1][0]
    info = [d for t, d in r if t == 3 and struct.unpack(">H", d[:2])[0] == 0][0]
    _, size, flags = struct.unpack(">HQH", info)
    return size, flags


def request(s, typ, off, ln, data=b"", flags=0, cookie=7):
    s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, flags, typ, cookie, off, ln) + data)


def simple_reply(s, cookie=7):
    magic, err, c = struct.unpack(">IIQ", recvn(s, 16))
    assert magic == SIMPLE and c == cookie, "bad simple reply"
    return err


def closed(s):
    """True when the server hung up (EOF or reset)."""
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True


def expect(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)


def main():
    path, name, case = sys.argv[1:4]
    s = connect(path)
    if case == "garbage":
        s.sendall(os.urandom(4096))
        try:
            while s.recv(4096):
                pass
        except (ConnectionError, socket.timeout):
            pass
    elif case == "bad-option-len":
        # GO whose name length points past the option: NBD_REP_ERR_INVALID
        r = option(s, 7, struct.pack(">I", 1000) + b"x")
        expect(r[-1][0] == 0x80000003, "want ERR_INVALID, got %x" % r[-1][0])
        r = option(s, 7, struct.pack(">I", 4) + b"nope" + struct.pack(">H", 0))
        expect(r[-1][0] == 0x80000006, "want ERR_UNKNOWN, got %x" % r[-1][0])
        r = option(s, 99)
        expect(r[-1][0] == 0x80000001, "want ERR_UNSUP, got %x" % r[-1][0])
    elif case == "export-name":
        # old-style NBD_OPT_EXPORT_NAME: size + flags, no zeroes (we asked)
        n = name.encode()
        s.sendall(struct.pack(">QII", IHAVEOPT, 1, len(n)) + n)
        size, flags = struct.unpack(">QH", recvn(s, 10))
        expect(size > 0 and flags & 1, "bad EXPORT_NAME reply")
        request(s, 0, 0, 4096)
        expect(simple_reply(s) == 0, "read after EXPORT_NAME failed")
        recvn(s, 4096)
        request(s, 2, 0, 0)   # NBD_CMD_DISC
        expect(closed(s), "server kept the connection after DISC")
        s = connect(path)
        s.sendall(struct.pack(">QII", IHAVEOPT, 1, 4) + b"nope")
        expect(closed(s), "unknown EXPORT_NAME did not end the connection")
        s = connect(path)
        r = option(s, 3)   # NBD_OPT_LIST
        names = [d[4:4 + struct.unpack(">I", d[:4])[0]] for t, d in r if t == 2]
        expect(n in names and r[-1][0] == 1, "LIST lacks %r: %r" % (n, names))
        r = option(s, 2)   # NBD_OPT_ABORT
        expect(r[-1][0] == 1, "ABORT not acknowledged")
        expect(closed(s), "server kept the connection after ABORT")
    elif case == "no-read":
        # many large reads whose replies we never read: workers must not
        # stay stuck sending to us (the shell test checks others are served);
        # NO_READ_LEN sets their length (default: the whole export). The
        # server stops reading our requests once its buffers are full, so
        # sending blocks: a thread sends, the main one sleeps.
        size, _ = go(s, name)
        ln = int(os.environ.get("NO_READ_LEN", "0")) or size
        s.settimeout(None)

        def flood():
            try:
                for i in range(int(os.environ.get("NO_READ_COUNT", "64"))):
                    request(s, 0, 0, ln, cookie=i)
            except OSError:
                pass
        threading.Thread(target=flood, daemon=True).start()
        time.sleep(float(os.environ.get("NO_READ_SECS", "15")))
    elif case == "slow-read":
        # like no-read, but then reads every reply: the server held back
        # (stopped reading our requests), it dropped nothing
        size, _ = go(s, name)
        ln = int(os.environ.get("NO_READ_LEN", "1048576"))
        n = int(os.environ.get("NO_READ_COUNT", "64"))
        s.settimeout(None)
        sender = threading.Thread(
            target=lambda: [request(s, 0, (i * ln) % (size - ln + 1), ln, cookie=i)
                            for i in range(n)], daemon=True)
        sender.start()
        time.sleep(float(os.environ.get("NO_READ_SECS", "2")))
        s.settimeout(20)
        seen = set()
        for _ in range(n):
            magic, err, c = struct.unpack(">IIQ", recvn(s, 16))
            expect(magic == SIMPLE and err == 0 and c not in seen and c < n,
                   "bad reply: magic %x error %d cookie %d" % (magic, err, c))
            seen.add(c)
            recvn(s, ln)
        sender.join()
    elif case == "greeting-flood":
        # FLOOD_N connections that take the greeting and then say nothing
        # hold every client slot: one more is turned away (checked when
        # they were all opened well within the server's handshake timeout
        # HS_TIMEOUT). The server must cut them after that timeout (within
        # FLOOD_WAIT seconds).
        n = int(os.environ.get("FLOOD_N", "512"))
        wait = float(os.environ.get("FLOOD_WAIT", "10"))
        hs = float(os.environ.get("HS_TIMEOUT", "10"))
        s.close()
        socks = []
        t0 = time.monotonic()
        for _ in range(n):
            c = dial(path)
            recvn(c, 18)
            socks.append(c)
        opened = time.monotonic() - t0
        late = dial(path)
        if opened < hs / 2:
            expect(closed(late), "client %d was served while %d held every slot" % (n + 1, n))
        else:
            print("opening took %.1f s: the slots may have freed already" % opened)
        start = time.monotonic()
        for c in socks:
            c.settimeout(max(0.1, wait - (time.monotonic() - start)))
            try:
                expect(closed(c), "a greeting-only client sent data?")
            except socket.timeout:
                expect(False, "greeting-only clients still connected after %g s" % wait)
        print("all %d cut after %.1f s" % (n, time.monotonic() - start))
        return
    elif case == "tls-stall":
        # STARTTLS acknowledged, then silence: cut by the handshake timeout
        r = option(s, 5)
        expect(r[-1][0] == 1, "STARTTLS not acknowledged: %x" % r[-1][0])
        s.settimeout(float(os.environ.get("FLOOD_WAIT", "10")))
        try:
            expect(closed(s), "server sent data during a stalled TLS handshake")
        except socket.timeout:
            expect(False, "stalled TLS handshake still connected")
    elif case == "tls-required":
        # FORCEDTLS: every option but STARTTLS and ABORT gets ERR_TLS_REQD
        n = name.encode()
        for opt, data in ((3, b""), (8, b""), (6, struct.pack(">I", len(n)) + n + b"\0\0"),
                          (7, struct.pack(">I", len(n)) + n + b"\0\0"),
                          (9, struct.pack(">I", len(n)) + n + struct.pack(">I", 0)), (99, b"")):
            r = option(s, opt, data)
            expect(len(r) == 1 and r[0][0] == 0x80000005,
                   "option %d before STARTTLS: want ERR_TLS_REQD, got %x" % (opt, r[-1][0]))
        r = option(s, 5, b"x")
        expect(r[-1][0] == 0x80000003, "STARTTLS with data: want ERR_INVALID, got %x" % r[-1][0])
        r = option(s, 2)
        expect(r[-1][0] == 1, "ABORT not acknowledged")
        expect(closed(s), "server kept the connection after ABORT")
        s = connect(path)
        s.sendall(struct.pack(">QII", IHAVEOPT, 1, len(n)) + n)
        expect(closed(s), "EXPORT_NAME without TLS did not end the connection")
    elif case == "no-tls":
        # a server without TLS answers STARTTLS with ERR_UNSUP and goes on
        r = option(s, 5)
        expect(r[-1][0] == 0x80000001, "STARTTLS: want ERR_UNSUP, got %x" % r[-1][0])
        go(s, name)
    elif case == "fuzz":
        # random but framed requests (valid magic, random type, flags,
        # offsets, lengths; payloads for small writes), read back whatever
        # comes; then random options before GO on fresh connections
        rnd = random.Random(int(os.environ.get("FUZZ_SEED", "1")))
        for conn in range(20):
            if conn:
                s.close()
                s = connect(path)
            size, _ = go(s, name, structured=conn % 2 == 1)
            for _ in range(25):
                typ = rnd.choice([0, 1, 3, 4, 5, 6, 7, 8, 42])
                off = rnd.choice([0, size - 1, size, 2**63, rnd.randrange(size)])
                ln = rnd.choice([0, 1, 512, 65536, rnd.randrange(1 << 20)])
                data = b""
                if typ == 1:
                    ln = min(ln, 65536)
                    data = os.urandom(ln)
                request(s, typ, off, ln, data, flags=rnd.randrange(64),
                        cookie=rnd.randrange(2**64))
            s.settimeout(2)
            try:
                while s.recv(1 << 20):
                    pass
            except (socket.timeout, ConnectionError):
                pass
        for conn in range(20):
            s.close()
            s = connect(path)
            try:   # EXPORT_NAME with a random name or ABORT end it early
                for _ in range(5):
                    opt = rnd.choice([1, 2, 3, 6, 7, 8, 9, 10, 11, 99])
                    data = os.urandom(rnd.choice([0, 3, 8, 40]))
                    s.sendall(struct.pack(">QII", IHAVEOPT, opt, len(data)) + data)
            except ConnectionError:
                continue
            s.settimeout(1)
            try:
                while s.recv(1 << 16):
                    pass
            except (socket.timeout, ConnectionError):
                pass
    elif case == "huge-option":
        s.sendall(struct.pack(">QII", IHAVEOPT, 7, 0xFFFFFFF0) + b"x" * 100)
        expect(closed(s), "server kept a 4 GiB option")
    elif case == "past-end":
        size, _ = go(s, name)
        request(s, 0, size - 512, 4096)
        expect(simple_reply(s) == 22, "read past the end not EINVAL")
        request(s, 0, 2**64 - 512, 1024)
        expect(simple_reply(s) == 22, "read at 2^64-512 not EINVAL")
        request(s, 1, size, 512, b"z" * 512)
        err = simple_reply(s)
        expect(err in (22, 28), "write past the end: error %d" % err)
        request(s, 0, 0, 512)   # still in step after that payload
        expect(simple_reply(s) == 0, "read after a refused write failed")
        recvn(s, 512)
        for typ in (0, 1, 4, 6):   # zero-length read, write, trim, write zeroes
            request(s, typ, 0, 0)
            expect(simple_reply(s) == 0, "zero-length command %d failed" % typ)
        request(s, 7, 0, 4096)  # block status without negotiation
        expect(simple_reply(s) == 22, "block status without a context not EINVAL")
        request(s, 42, 0, 0)
        expect(simple_reply(s) == 22, "unknown command not EINVAL")
    elif case == "read-only":
        size, flags = go(s, name)
        expect(flags & 2, "export not flagged read-only")
        request(s, 1, 0, 4096, b"w" * 4096)
        expect(simple_reply(s) == 1, "write to a read-only export not EPERM")
        request(s, 6, 0, 4096)
        expect(simple_reply(s) == 1, "write zeroes to a read-only export not EPERM")
        request(s, 4, 0, 4096)
        expect(simple_reply(s) == 1, "trim on a read-only export not EPERM")
    elif case == "structured-error":
        size, _ = go(s, name, structured=True)
        request(s, 0, size, 512)
        magic, fl, typ, c, ln = struct.unpack(">IHHQI", recvn(s, 20))
        payload = recvn(s, ln)
        expect(magic == STRUCT and typ == 0x8001 and fl & 1, "want an ERROR chunk")
        expect(struct.unpack(">I", payload[:4])[0] == 22, "error not EINVAL")
    elif case == "truncated":
        go(s, name)
        s.sendall(struct.pack(">IHHQ", REQ_MAGIC, 0, 1, 1))  # half a header
        s.close()
        s = connect(path)
        go(s, name)
        request(s, 1, 0, 65536, b"y" * 100)                   # payload cut short
    elif case == "huge-write":
        go(s, name)
        request(s, 1, 0, 0xFFFFFFFF)
        expect(closed(s), "server waited for a 4 GiB payload")
    elif case == "bad-magic":
        go(s, name)
        s.sendall(b"\xde\xad\xbe\xef" + b"\0" * 24)
        expect(closed(s), "server accepted a request with a bad magic")
    else:
        print("unknown case", case)
        sys.exit(2)
    s.close()


if __name__ == "__main__":
    try:
        main()
    except (EOFError, AssertionError, ConnectionError, socket.timeout) as e:
        print("FAIL:", e)
        sys.exit(1)
