#!/usr/bin/env python3
"""Drives an interactive program on a pseudo-terminal, as a person would.

    pty_drive.py SECONDS TRANSCRIPT -- CMD ARGS... < SCRIPT

CMD runs with a pty as its stdin/stdout/stderr. SCRIPT holds one step a
line: "expect REGEX" waits until the output (since the previous match)
matches, "send TEXT" types TEXT (Python escapes: \\r, \\x1d), "eof" waits
for CMD to exit. Exits with CMD's status when every step passed; 1 with
the step that failed otherwise (after SECONDS in all). Everything CMD
printed goes to TRANSCRIPT.
"""
import os
import pty
import re
import select
import sys
import time


def main():
    limit, transcript = float(sys.argv[1]), sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    steps = [line.rstrip("\n").split(" ", 1) for line in sys.stdin if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    end = time.monotonic() + limit
    out, seen = b"", 0
    status = None

    def pump(timeout):
        nonlocal out, status
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if data:
            out += data
        else:
            _, st = os.waitpid(pid, 0)
            status = os.waitstatus_to_exitcode(st)

    def fail(why):
        print("pty_drive: %s" % why, file=sys.stderr)
        if status is None:
            os.kill(pid, 9)
        sys.exit(1)

    try:
        for step in steps:
            kind, arg = step[0], step[1] if len(step) > 1 else ""
            if kind == "send":
                os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
            elif kind == "expect":
                rx = re.compile(arg.encode())
                while True:
                    m = rx.search(out, seen)
                    if m:
                        seen = m.end()
                        break
                    if status is not None or time.monotonic() > end:
                        fail("no %r in the output" % arg)
                    pump(0.2)
            elif kind == "eof":
                while status is None:
                    if time.monotonic() > end:
                        fail("the program did not exit")
                    pump(0.2)
            else:
                fail("bad step %r" % kind)
        if status is None:
            os.kill(pid, 15)
            os.waitpid(pid, 0)
            status = 0
    finally:
        with open(transcript, "wb") as f:
            f.write(out)
    sys.exit(status)


main()
