#!/bin/bash
# timeout: 240
# Image locks shared with QEMU (docs/locking.md, issue 18): our readers and
# QEMU's readers coexist; a writer on either side keeps the other side's
# writers and consistent readers out (QEMU: "Failed to get ... lock", we:
# "image is in use by another process"); -U (force-share) reads anyway on
# both sides; a parent we hold read-only stays readable by QEMU. QEMU is
# real: qemu-img, qemu-io, qemu-nbd and a running qemu-system-x86_64.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-img qemu-io qemu-nbd qemu-system-x86_64 cmp

# wait_lock FILE BYTE PID: waits until an OFD lock covers BYTE of FILE in
# /proc/locks (QEMU holds its permission bytes once it has opened FILE);
# fails when PID exits first.
wait_lock() {
	local ino i
	ino=$(stat -c %i "$1")
	for ((i = 0; i < 400; i++)); do
		awk -v ino=":$ino" -v b="$2" '$2 == "OFDLCK" &&
			substr($6, length($6) - length(ino) + 1) == ino &&
			$7 <= b && ($8 == "EOF" || $8 >= b) { f = 1 } END { exit !f }' /proc/locks &&
			return 0
		kill -0 "$3" 2>/dev/null || fail "the process holding $1 exited: $(cat "$T/hold.out")"
		sleep 0.05
	done
	fail "no lock on byte $2 of $1"
}

# hold_start BYTE QEMU-IO-ARGS... IMG: qemu-io keeps IMG open (reading its
# commands from a fifo) until hold_stop; returns once its lock on BYTE
# (100: it reads, 101: it writes) is there.
hold_start() {
	local byte=$1
	shift
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	qemu-io "$@" <"$T/fifo" >"$T/hold.out" 2>&1 &
	HOLD_PID=$!
	at_exit "kill -9 $HOLD_PID 2>/dev/null"
	exec 8>"$T/fifo"
	wait_lock "${@: -1}" "$byte" "$HOLD_PID"
}
hold_stop() {
	echo quit >&8
	exec 8>&-
	wait "$HOLD_PID" || fail "qemu-io holding the image failed: $(cat "$T/hold.out")"
}

# refused_by_qemu CMD...: QEMU refuses to open because of our lock.
refused_by_qemu() {
	expect_exit 1 "$@"
	assert_stderr 'Failed to (get .*lock|lock byte)'
}
# refused_by_us CMD...: we refuse because of QEMU's (or our own) lock.
refused_by_us() {
	local rc=0
	"$@" >/dev/null 2>"$T/stderr" || rc=$?
	[[ $rc != 0 ]] || fail "$* was not refused"
	grep -q "image is in use by another process" "$T/stderr" ||
		fail "$*: want 'image is in use by another process', got: $(cat "$T/stderr")"
}

img=$T/d.vhd
"$VHD" create "$img" 8M >/dev/null
"$VHD" write "$img" 0 --pattern 0x11 --length 65536
head -c 65536 /dev/zero | tr '\0' '\021' >"$T/p11"

note "our reader (vhd serve --read-only) + QEMU readers"
serve_start "$T/s.sock" --read-only "$img"
expect_exit 0 qemu-img info -f vpc "$img"
expect_exit 0 qemu-io -r -f vpc -c "read -P 0x11 0 64k" "$img"
qemu-nbd -r -f vpc --fork --pid-file "$T/qnbd.pid" -k "$T/qnbd.sock" "$img" 2>"$T/qnbd.err" ||
	fail "qemu-nbd -r next to our reader: $(cat "$T/qnbd.err")"
at_exit "kill \$(cat '$T/qnbd.pid') 2>/dev/null"
qemu-io -r -f raw -c "read -P 0x11 0 64k" "nbd+unix:///?socket=$T/qnbd.sock" >"$T/q.out" 2>&1 ||
	fail "read through qemu-nbd: $(cat "$T/q.out")"
kill "$(cat "$T/qnbd.pid")"
"$VHD" read "$img" 0 64K >"$T/got"           # two of our readers
same "$T/got" "$T/p11" "our second reader"
refused_by_qemu qemu-io -f vpc -c "write 0 512" "$img"
refused_by_us "$VHD" write "$img" 0 --pattern 1 --length 512
serve_stop

note "raw files we export take the same locks"
truncate -s 1M "$T/r.img"
serve_start "$T/s.sock" --read-only "$T/r.img"
expect_exit 0 qemu-img info -f raw "$T/r.img"
refused_by_qemu qemu-io -f raw -c "write 0 512" "$T/r.img"
serve_stop
serve_start "$T/s.sock" "$T/r.img"
refused_by_qemu qemu-io -f raw -c "write 0 512" "$T/r.img"
expect_exit 0 qemu-io -r -U -f raw -c "read 0 512" "$T/r.img"
serve_stop

note "a QEMU reader (qemu-io -r holding the image) + our readers and writers"
hold_start 100 -r -f vpc "$img"
expect_exit 0 "$VHD" info "$img"
"$VHD" read "$img" 0 64K >"$T/got"
same "$T/got" "$T/p11" "our reader next to qemu-io -r"
serve_start "$T/s.sock" --read-only "$img"
serve_stop
refused_by_us "$VHD" write "$img" 0 --pattern 1 --length 512
hold_stop

note "our writer (vhd serve) keeps QEMU writers and readers out; -U reads"
serve_start "$T/s.sock" "$img"
qemu-io -f raw -c "write -P 0x5a 0 64k" -c flush "nbd+unix:///d.vhd?socket=$T/s.sock" \
	>"$T/q.out" 2>&1 || fail "write through our export: $(cat "$T/q.out")"
refused_by_qemu qemu-io -f vpc -c "write 0 512" "$img"
refused_by_qemu qemu-img info -f vpc "$img"
expect_exit 0 qemu-img info -U -f vpc "$img"
expect_exit 0 qemu-io -r -U -f vpc -c "read -P 0x5a 0 64k" "$img"
refused_by_us "$VHD" info "$img"
refused_by_us "$VHD" read "$img" 0 512
refused_by_us "$VHD" write "$img" 0 --pattern 1 --length 512
head -c 65536 /dev/zero | tr '\0' 'Z' >"$T/p5a"
"$VHD" read -U "$img" 0 64K >"$T/got" || fail "vhd read -U next to our writer"
same "$T/got" "$T/p5a" "vhd read -U"
expect_exit 0 "$VHD" info -U "$img"
serve_stop

note "a QEMU writer (qemu-io holding the image for writing) keeps ours out; -U reads"
hold_start 101 -f vpc "$img"
refused_by_us "$VHD" write "$img" 0 --pattern 1 --length 512
refused_by_us "$VHD" info "$img"
refused_by_us "$VHD" read "$img" 0 512
refused_by_us "$VHD" check "$img"
refused_by_us "$VHD" serve --socket "$T/x.sock" "$img"
expect_exit 0 "$VHD" info -U "$img"
expect_exit 0 "$VHD" info --force-share --json "$img"
expect_exit 0 "$VHD" map -U "$img"
expect_exit 0 "$VHD" check -U "$img"
expect_exit 2 "$VHD" check -U --repair "$img"
"$VHD" read --force-share "$img" 0 64K >"$T/got" || fail "vhd read -U next to qemu-io"
same "$T/got" "$T/p5a" "vhd read -U next to qemu-io"
refused_by_us "$VHD" convert -O raw "$img" "$T/cv.raw"
expect_exit 0 "$VHD" convert -U -O raw "$img" "$T/cv.raw"
cmp -s <(head -c 65536 "$T/cv.raw") "$T/p5a" || fail "vhd convert -U copied other data"
serve_start "$T/s.sock" --read-only -U "$img"
qemu-io -r -f raw -c "read -P 0x5a 0 64k" "nbd+unix:///d.vhd?socket=$T/s.sock" \
	>"$T/q.out" 2>&1 || fail "read through vhd serve -U: $(cat "$T/q.out")"
serve_stop
expect_exit 2 "$VHD" serve --socket "$T/x.sock" -U "$img"   # -U only with --read-only
hold_stop

note "a running QEMU (qemu-system-x86_64, -drive format=vpc) keeps our writers out"
qemu-img create -q -f qcow2 "$T/q.qcow2" 1M
qemu-system-x86_64 -machine none -nodefaults -display none -monitor none -serial none \
	-drive "file=$img,format=vpc,if=none,id=d0" \
	-drive "file=$T/q.qcow2,format=qcow2,if=none,id=d1" >"$T/hold.out" 2>&1 &
HOLD_PID=$!
at_exit "kill -9 $HOLD_PID 2>/dev/null"
wait_lock "$img" 101 "$HOLD_PID"
refused_by_us "$VHD" write "$img" 0 --pattern 1 --length 512
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || G=
if [[ -n $G && -e $G/vmlinux && -e $G/initrd.img ]]; then
	export VHDVISOR_RUN=$T/run
	refused_by_us timeout 120 "$VHDVISOR" run --disk "$img" --kernel "$G/vmlinux" \
		--initrd "$G/initrd.img" --console none --accel tcg
else
	fail "no guest kernel/initrd for the vhdvisor run check ($G)"
fi
expect_exit 0 "$VHD" info -U "$img"
wait_lock "$T/q.qcow2" 101 "$HOLD_PID"          # foreign sources: qemu-img's -U
refused_by_qemu "$VHD" convert "$T/q.qcow2" "$T/q.vhd"
expect_exit 0 "$VHD" convert -U "$T/q.qcow2" "$T/q.vhd"
kill "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null || true

note "chains: a parent we hold read-only stays readable by QEMU, and -U reaches parents"
par=$T/p.vhd
kid=$T/c.vhd
"$VHD" create "$par" 8M >/dev/null
"$VHD" write "$par" 0 --pattern 0x11 --length 65536
"$VHD" create --parent "$par" "$kid" >/dev/null
serve_start "$T/s.sock" "$kid"
expect_exit 0 qemu-img info -f vpc "$par"
expect_exit 0 qemu-io -r -f vpc -c "read -P 0x11 0 64k" "$par"
qemu-nbd -r -f vpc --fork --pid-file "$T/qnbd2.pid" -k "$T/qnbd2.sock" "$par" 2>"$T/qnbd.err" ||
	fail "qemu-nbd -r of a parent we hold: $(cat "$T/qnbd.err")"
kill "$(cat "$T/qnbd2.pid")"
refused_by_qemu qemu-io -f vpc -c "write 0 512" "$par"
serve_stop
hold_start 101 -f vpc "$par"
refused_by_us "$VHD" read "$kid" 0 512
"$VHD" read -U "$kid" 0 64K >"$T/got" || fail "vhd read -U of a child whose parent QEMU writes"
same "$T/got" "$T/p11" "vhd read -U through a parent QEMU writes"
hold_stop
echo "ok"
