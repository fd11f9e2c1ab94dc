#!/bin/bash
# vhd serve on raw images: qemu-io, qemu-img convert, nbdinfo, nbdcopy and a
# read-only export, checked against the file itself after SIGTERM.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-io qemu-img nbdinfo nbdcopy

S=$T/sock
truncate -s 64M "$T/disk.img"
head -c 8M /dev/urandom >"$T/src8"
serve_start "$S" "$T/disk.img"
U=$(nbd_uri "$S" disk.img)

note "qemu-io writes and reads patterns"
qio -f raw -c 'write -P 0x5a 1M 3M' -c 'write -P 0x11 60M 4M' \
	-c 'read -P 0x5a 1M 3M' -c 'read -P 0 0 1M' -c 'flush' "$U"

note "qemu-img convert into the export, read back with nbdcopy"
qemu-img convert -n -f raw -O raw --target-image-opts "$T/src8" \
	"driver=nbd,server.type=unix,server.path=$S,export=disk.img" 2>/dev/null ||
	qemu-img convert -n -f raw -O raw "$T/src8" "$U"
nbdcopy "$U" "$T/back.img"
cmp -n 8M "$T/src8" "$T/back.img" || fail "nbdcopy read back differs from what convert wrote"

note "nbdinfo --map reports the sparse tail as a hole"
nbdinfo --map "$U" >"$T/map"
grep -Eq '^ *8388608 +[0-9]+ +3 +hole,zero' "$T/map" || fail "no hole after 8M: $(cat "$T/map")"
size=$(nbdinfo --size "$U")
assert_eq "$size" 67108864 "export size"

serve_stop
note "what the clients wrote is in the file"
cmp "$T/back.img" "$T/disk.img" || fail "file differs from what was read through NBD"
cmp -n 8M "$T/src8" "$T/disk.img" || fail "file lacks the converted data"
qio -f raw -r -c 'read -P 0x11 60M 4M' "$T/disk.img"

note "read-only export: the flag is set and qemu-io cannot write"
serve_start "$S" --read-only "$T/disk.img"
nbdinfo "$U" | grep -q 'is_read_only: true' || fail "export not read-only"
if qemu-io -f raw -c 'write -P 0x77 0 4k' "$U" >"$T/ro" 2>&1 && ! grep -qi 'read-only\|permission\|error' "$T/ro"; then
	fail "write to a read-only export succeeded"
fi
serve_stop
cmp "$T/back.img" "$T/disk.img" || fail "read-only export changed the file"

note "a second writer is refused with a clear message"
serve_start "$S" "$T/disk.img"
expect_exit 1 "$VHD" serve --socket "$T/sock2" "$T/disk.img"
assert_stderr 'in use|locked'
serve_stop

note "SIGTERM with a client still connected: exit 0, its flushed write is kept"
serve_start "$S" "$T/disk.img"
qemu-io -f raw -c 'write -P 0x3c 5M 1M' -c flush -c 'sleep 20000' "$U" >/dev/null 2>&1 &
client=$!
for ((i = 0; i < 100; i++)); do
	out=$(qemu-io -f raw -r -U -c 'read -P 0x3c 5M 1M' "$T/disk.img" 2>&1 || true)
	[[ $out == *'read 1048576'* && $out != *'verification failed'* ]] && break
	sleep 0.05
done
start=$(date +%s)
serve_stop
(($(date +%s) - start < 10)) || fail "shutdown with a connected client took too long"
kill "$client" 2>/dev/null || true
qio -f raw -r -c 'read -P 0x3c 5M 1M' "$T/disk.img"

note "TCP on 127.0.0.1: refused without authentication, read-only unless --writable"
expect_exit 2 "$VHD" serve --port 10809 "$T/disk.img"
assert_stderr 'TCP without authentication: give --tls-psk FILE, or --insecure-no-auth'
expect_exit 2 "$VHD" serve --port 10809 --read-only --writable --insecure-no-auth "$T/disk.img"
serve_start_tcp --insecure-no-auth "$T/disk.img"
qio -f raw -r -c 'read -P 0x3c 5M 1M' "nbd://127.0.0.1:$PORT/disk.img"
nbdinfo "nbd://127.0.0.1:$PORT/disk.img" | grep -q 'is_read_only: true' ||
	fail "TCP export without --writable is not read-only"
if qemu-io -f raw -c 'write -P 0x77 5M 4k' "nbd://127.0.0.1:$PORT/disk.img" >/dev/null 2>&1; then
	fail "wrote through a TCP export without --writable"
fi
ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PORT " || fail "not bound to 127.0.0.1:$PORT"
kill -TERM $SERVE_PID
wait $SERVE_PID || fail "TCP server exit status $?"
qio -f raw -r -c 'read -P 0x3c 5M 1M' "$T/disk.img"   # the refused write left no trace
serve_start_tcp --insecure-no-auth --writable "$T/disk.img"
qio -f raw -c 'write -P 0x3d 40M 4k' -c 'read -P 0x3d 40M 4k' "nbd://127.0.0.1:$PORT/disk.img"
kill -TERM $SERVE_PID
wait $SERVE_PID || fail "TCP server exit status $?"
qio -f raw -r -c 'read -P 0x3d 40M 4k' "$T/disk.img"

note "--export-name renames the export; a wrong name is refused"
serve_start "$S" --export-name boot "$T/disk.img"
assert_eq "$(nbdinfo --size "$(nbd_uri "$S" boot)")" 67108864 "size of export 'boot'"
if nbdinfo --size "$(nbd_uri "$S" disk.img)" >/dev/null 2>&1; then
	fail "export still reachable under its file name"
fi
serve_stop

note "a block device (loop) is served as a raw image"
if dev=$(losetup -f --show "$T/disk.img" 2>/dev/null); then
	at_exit "losetup -d $dev"
	serve_start "$S" --read-only "$dev"
	name=$(basename "$dev")
	assert_eq "$(nbdinfo --size "$(nbd_uri "$S" "$name")")" 67108864 "size of $dev"
	qio -f raw -r -c 'read -P 0x3c 5M 1M' "$(nbd_uri "$S" "$name")"
	serve_stop
	losetup -d "$dev"
else
	note "no loop device here; block device part not run"
fi
