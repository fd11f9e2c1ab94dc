#!/bin/bash
# vhost-user clients that lie (tests/integration/blkback/vu_evil.py, no
# guest): wrong message sizes, too many fds, bad queue indices, queue sizes
# that are not powers of two, rings and descriptors outside the memory
# table, chains that loop, bad indirect tables, a 4 GiB length, the header
# in a writable descriptor, the status in a read-only one. Each gets a
# failing REPLY_ACK, its connection dropped, its request failed or its
# queue stopped, with a log line; the server survives and serves the next
# client, and a real client's writes, reads, flushes, write zeroes and
# discards work before and after.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd python3
EVIL="python3 $VV_ROOT/tests/integration/blkback/vu_evil.py"
S=$T/vu.sock

"$VHD" create "$T/d.vhd" 16M
vu_start "$S" "$T/d.vhd"
$EVIL "$S" good || fail "case good (before)"
for c in msgs bigsize manyfds truncated noack ringout requests \
	loop desc-outside len-4g next-outside indirect-outside indirect-len indirect-nested \
	read-after-write; do
	note "case $c"
	$EVIL "$S" "$c" || fail "case $c"
	kill -0 "$SERVE_PID" || fail "server died on case $c"
done
$EVIL "$S" good || fail "case good (after)"
$EVIL "$S" offset || fail "case offset (memory at an unaligned file offset)"
$EVIL "$S" remap || fail "case remap (a new memory table, a stopped and restarted ring)"
timeout 60 $EVIL "$S" pipecall || fail "case pipecall (a full pipe as the call fd)"
for re in 'loops' 'outside guest memory' 'nested indirect' 'indirect table length' \
	'more than 8 file descriptors' 'size 268435456' 'ring addresses outside the memory table' \
	'queue index out of range' 'not a power of two' 'status byte' 'request header not in device-readable'; do
	grep -q -- "$re" "$T/serve.err" || { cat "$T/serve.err" >&2; fail "no log line about '$re'"; }
done
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
assert_eq "$rc" 0 "server exit status"
"$VHD" check "$T/d.vhd" >/dev/null || fail "vhd check"
# what case good wrote (pattern at sector 8, zeroes at 9-10) is in the image
python3 - "$T/pat" <<'PY'
import sys
pat = bytearray((i * 7) & 0xFF for i in range(8192))
pat[512:1536] = bytes(1024)
open(sys.argv[1], "wb").write(pat)
PY
assert_eq "$("$VHD" read "$T/d.vhd" 4096 8192 | sha256sum | cut -d' ' -f1)" "$(sha "$T/pat")" "data of case good"

note "read-only export"
vu_start "$S" --read-only "$T/d.vhd"
$EVIL "$S" ro || fail "case ro"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "read-only server exit"

note "--snapshot: the client's writes leave the image untouched"
sum=$(sha "$T/d.vhd")
vu_start "$S" --snapshot "$T/d.vhd"
$EVIL "$S" good || fail "case good (--snapshot)"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "snapshot server exit"
assert_eq "$(sha "$T/d.vhd")" "$sum" "image after a --snapshot export"

note "usage errors"
expect_exit 2 "$VHD" serve --vhost-user "$S" --socket "$T/x" "$T/d.vhd"
expect_exit 2 "$VHD" serve --vhost-user "$S" "$T/d.vhd" "$T/d.vhd"
expect_exit 2 "$VHD" serve --socket "$T/x" --queues 2 "$T/d.vhd"
expect_exit 2 "$VHD" serve --vhost-user "$S" --queues 17 "$T/d.vhd"
assert_stderr 'queues'
expect_exit 1 "$VHD" serve --vhost-user "$S" "$T/missing.vhd"
[[ ! -e $S ]] || fail "socket left by a failed start"
touch "$T/file"
expect_exit 1 "$VHD" serve --vhost-user "$T/file" "$T/d.vhd"
assert_stderr 'not replaced|not a socket'
