#!/usr/bin/env python3
"""partial_put.py SOCK URLPATH FILE START COUNT WATCH [RELEASE]: a PUT on
the Unix socket SOCK whose headers announce FILE from byte START to its
end (Content-Range, Content-Length) but which sends only COUNT bytes, then
waits until the file WATCH (the server's upload) has START + COUNT bytes
(and, with RELEASE, until the file RELEASE exists) and closes the
connection: an upload broken off at a known offset."""
import os
import socket
import sys
import time

sock, path, name, start, count, watch = sys.argv[1:7]
release = sys.argv[7] if len(sys.argv) > 7 else None
start, count = int(start), int(count)
total = os.path.getsize(name)
with open(name, "rb") as f:
    f.seek(start)
    data = f.read(count)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
s.sendall((f"PUT {path} HTTP/1.1\r\nHost: localhost\r\n"
           f"Content-Type: application/octet-stream\r\n"
           f"Content-Range: bytes {start}-{total - 1}/{total}\r\n"
           f"Content-Length: {total - start}\r\n\r\n").encode() + data)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if os.path.getsize(watch) >= start + count:
            break
    except FileNotFoundError:
        pass
    time.sleep(0.05)
else:
    sys.exit(f"the server never had {start + count} bytes in {watch}")
while release and not os.path.exists(release):
    if time.monotonic() > deadline + 60:
        sys.exit(f"{release} never appeared")
    time.sleep(0.05)
s.close()
