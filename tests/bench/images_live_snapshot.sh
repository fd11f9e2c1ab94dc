#!/bin/bash
# Live snapshot of a running VM whose guest keeps writing (TCG): the wall
# time of `vhdvisor vm snapshot` (catalog + pause + export switch +
# resume, a new VHD layer) vs QEMU's own external snapshot of a qcow2 disk
# (QMP blockdev-snapshot-sync through socat, a new qcow2 overlay), median
# of RUNS each. Neither side's guest may miss a write: each side's final
# disk holds at least the last count its guest reported.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-system-x86_64 qemu-img jq socat
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "no guest material"
export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run PATH=$VV_BUILD/bin:$PATH
mkdir -p "$VHDVISOR_RUN"
RUNS=${RUNS:-7}
APPEND="vv.run=count:vda:2048:4"

# wait_count CONSOLE N: until the guest printed VV-COUNT >= N
wait_count() {
	local c
	for _ in $(seq 1 3000); do
		c=$(sed -n 's/^VV-COUNT=0*\([0-9][0-9]*\)\r*$/\1/p' "$1" 2>/dev/null | tail -1 || true)
		[[ -n $c ]] && ((c >= $2)) && return 0
		sleep 0.05
	done
	echo "FAIL: no count $2 in $1" >&2
	exit 1
}
last_count() { sed -n 's/^VV-COUNT=0*\([0-9][0-9]*\)\r*$/\1/p' "$1" | tail -1; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# ---- ours
truncate -s 64M "$T/tmpl.raw"
"$VHDVISOR" image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
"$VHDVISOR" vm create v --from tmpl --mem 192M >/dev/null
trap '"$VHDVISOR" vm stop v >/dev/null 2>&1 || true; kill "${qpid:-}" 2>/dev/null || true
      rm -rf "$T"' EXIT
"$VHDVISOR" vm start v --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
	--append "$APPEND" >/dev/null
con=$VHDVISOR_RUN/v.console
wait_count "$con" 5
: >"$T/ours.t"
for i in $(seq 1 "$RUNS"); do
	secs "$VHDVISOR" vm snapshot v "s$i" >>"$T/ours.t"
	echo >>"$T/ours.t"
	wait_count "$con" $(($(last_count "$con") + 3))
done
printed=$(last_count "$con")
"$VHDVISOR" vm stop v >/dev/null
final=$("$VHD" read "$("$VHDVISOR" vm show v --json | jq -r .disk)" $((2048 * 1024)) 21 |
	sed -n 's/^VV-COUNT=0*\([0-9]*\)$/\1/p')
((final >= printed)) || { echo "FAIL: ours lost writes ($final < $printed)"; exit 1; }
ours=$(median <"$T/ours.t")

# ---- QEMU: a qcow2 disk and blockdev-snapshot-sync
qemu-img create -q -f qcow2 "$T/q0.qcow2" 64M
qmp() { # qmp JSON: one command after the capabilities handshake; prints the reply
	printf '{"execute":"qmp_capabilities"}\n%s\n' "$1" |
		socat -t 30 - "UNIX-CONNECT:$T/qmp.sock" | grep -v '"QMP"\|"event"' | tail -1
}
qemu-system-x86_64 -nodefaults -no-user-config -machine q35 -accel tcg -smp 1 -m 192M \
	-display none -chardev "file,id=con0,path=$T/q.console" -serial chardev:con0 \
	-qmp "unix:$T/qmp.sock,server=on,wait=off" \
	-drive "if=none,id=d0,file=$T/q0.qcow2,format=qcow2,cache=writeback" \
	-device virtio-blk-pci,drive=d0 \
	-kernel "$G/vmlinux" -initrd "$G/initrd.img" -append "console=ttyS0 quiet $APPEND" \
	>"$T/qemu.out" 2>&1 &
qpid=$!
wait_count "$T/q.console" 5
: >"$T/qemu.t"
for i in $(seq 1 "$RUNS"); do
	cmd="{\"execute\":\"blockdev-snapshot-sync\",\"arguments\":{\"device\":\"d0\",\"snapshot-file\":\"$T/q$i.qcow2\",\"format\":\"qcow2\"}}"
	s=$(date +%s.%N)
	qmp "$cmd" | grep -q '"return"' || { echo "FAIL: QEMU refused the snapshot"; exit 1; }
	echo "$(date +%s.%N) - $s" | bc -l | xargs printf '%.3f\n' >>"$T/qemu.t"
	wait_count "$T/q.console" $(($(last_count "$T/q.console") + 3))
done
printed=$(last_count "$T/q.console")
qmp '{"execute":"quit"}' >/dev/null || true
wait "$qpid" 2>/dev/null || true
qemu-img convert -O raw "$T/q$RUNS.qcow2" "$T/q.raw"
final=$(dd if="$T/q.raw" bs=1K skip=2048 count=1 status=none | head -c 21 |
	sed -n 's/^VV-COUNT=0*\([0-9]*\)$/\1/p')
((final >= printed)) || { echo "FAIL: QEMU lost writes ($final < $printed)"; exit 1; }
qemu=$(median <"$T/qemu.t")

compare "live snapshot, guest writing (median)" "$ours" "$qemu" "blockdev-snap"
