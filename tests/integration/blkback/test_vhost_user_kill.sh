#!/bin/bash
# kill -9 around vhost-user-blk while a guest writes and flushes a counter
# (init's count action: write, fsync, print): after kill -9 of QEMU the
# server drains, serves the next client and the image passes vhd check;
# after kill -9 of the server everything the guest flushed is there too.
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>"$T/guest.log") ||
	fail "guest material could not be built: $(tail -1 "$T/guest.log")"
S=$T/vu.sock

# qemu_bg CONSOLE RUN: a guest on $S in the background; sets QPID.
qemu_bg() {
	qemu-system-x86_64 -nodefaults -no-user-config \
		-machine q35,memory-backend=mem -accel tcg -smp 1 -m 256M \
		-object memory-backend-memfd,id=mem,size=256M,share=on \
		-display none -no-reboot -serial "file:$1" \
		-kernel "$G/vmlinux" -initrd "$G/initrd.img" \
		-append "console=ttyS0 quiet vv.run=$2" \
		-chardev "socket,id=vu0,path=$S" -device vhost-user-blk-pci,chardev=vu0 \
		>"$T/qemu.out" 2>&1 &
	QPID=$!
	at_exit "kill -9 $QPID"
}
# wait_count CONSOLE N: until the guest printed VV-COUNT=N (flushed N).
wait_count() {
	local end=$((SECONDS + 180))
	until grep -aq "^VV-COUNT=$2\b" "$1" 2>/dev/null; do
		((SECONDS < end)) || { tail -5 "$1" >&2; cat "$T/serve.err" >&2; fail "no VV-COUNT=$2"; }
		kill -0 "$QPID" 2>/dev/null || { cat "$T/qemu.out" >&2; fail "qemu died"; }
		sleep 0.2
	done
}
last_count() { grep -a '^VV-COUNT=[0-9]' "$1" | tail -1 | cut -d= -f2 | tr -d '\r'; }
disk_count() { "$VHD" read "$T/d.vhd" 8M 32 | tr -d '\0' | sed -n 's/^VV-COUNT=0*//p'; }

"$VHD" create "$T/d.vhd" 64M
vu_start "$S" "$T/d.vhd"

note "kill -9 of QEMU while the guest writes"
qemu_bg "$T/c1" count:vda:8192
wait_count "$T/c1" 10
kill -9 "$QPID"
wait "$QPID" 2>/dev/null || true
flushed=$(last_count "$T/c1")
note "the server serves the next guest"
for ((i = 0; i < 100; i++)); do grep -q 'client gone' "$T/serve.err" && break; sleep 0.1; done
grep -q 'client gone' "$T/serve.err" || fail "the server did not notice QEMU's death"
qemu_bg "$T/c2" read:vda:0:4,poweroff
for ((i = 0; i < 900; i++)); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
grep -aq '^VV-READ-SHA=' "$T/c2" || fail "the second guest could not read: $(tail -5 "$T/c2")"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "server exit after SIGTERM"
"$VHD" check "$T/d.vhd" >"$T/check" 2>&1 || fail "vhd check after kill -9 of QEMU: $(cat "$T/check")"
got=$(disk_count)
((got >= 10#$flushed)) || fail "counter on disk $got < $flushed the guest had flushed"
echo "QEMU killed: guest flushed $((10#$flushed)), disk holds $got"

note "kill -9 of the server while the guest writes"
vu_start "$S" "$T/d.vhd"
qemu_bg "$T/c3" count:vda:8192
wait_count "$T/c3" 10
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
flushed=$(last_count "$T/c3")
kill -9 "$QPID"
wait "$QPID" 2>/dev/null || true
"$VHD" check "$T/d.vhd" >"$T/check" 2>&1 || fail "vhd check after kill -9 of the server: $(cat "$T/check")"
got=$(disk_count)
((got >= 10#$flushed)) || fail "counter on disk $got < $flushed the guest had flushed"
echo "server killed: guest flushed $((10#$flushed)), disk holds $got"
