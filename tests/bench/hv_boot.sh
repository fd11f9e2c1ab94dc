#!/bin/bash
# VM runtime benchmarks, side by side in one run:
#  1. wall time from start to the guest's userspace marker: `vhdvisor run`
#     vs plain QEMU with the same kernel, initramfs and machine (direct
#     boot, no disk; then with one VHD disk: our NBD export vs QEMU's vpc);
#  2. guest dd (O_DIRECT, 1 MiB blocks) on a 512 MiB disk: our NBD-backed
#     dynamic VHD vs QEMU's vpc driver on the same VHD vs QEMU on a raw copy
#     (host page cache on all three, like our export; under TCG this
#     mostly measures the emulator);
#  3. memory (RSS) of our side per running VM: vhdvisor and its NBD export.
#  VV_BENCH_RUNS (default 3) runs each; medians are reported.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-system-x86_64 qemu-img
RUNS=${VV_BENCH_RUNS:-3}
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print) || skip "no guest material"
export VHDVISOR_RUN=$T/run
MARK=VHDVISOR-GUEST-UP

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# until_marker CONSOLE CMD...: starts CMD in the background, prints the
# seconds until CONSOLE shows the marker, then waits for CMD to end.
until_marker() {
	local con=$1 s pid t
	shift
	rm -f "$con"
	s=$(date +%s.%N)
	"$@" >/dev/null 2>"$T/err" &
	pid=$!
	until grep -qa "$MARK" "$con" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { cat "$T/err" >&2; echo "FAIL: no marker" >&2; exit 1; }
		sleep 0.01
	done
	t=$(echo "$(date +%s.%N) - $s" | bc -l)
	wait "$pid" || { cat "$T/err" >&2; echo "FAIL: exit $?" >&2; exit 1; }
	printf '%.3f\n' "$t"
}

qemu_plain() { # qemu_plain CONSOLE [QEMU ARGS...]: what vhdvisor runs, by hand
	local con=$1
	shift
	qemu-system-x86_64 -nodefaults -no-user-config -machine q35 -accel tcg -smp 1 -m 256M \
		-display none -chardev "file,id=con0,path=$con" -serial chardev:con0 \
		-device pvpanic-pci -action panic=shutdown,reboot=shutdown \
		-kernel "$G/vmlinux" -initrd "$G/initrd.img" -append "console=ttyS0 quiet $APPEND" "$@"
}
ours() { # ours CONSOLE [vhdvisor ARGS...]
	local con=$1
	shift
	"$VHDVISOR" run --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append "quiet $APPEND" \
		--console "file:$con" "$@"
}

boot_pair() { # boot_pair WHAT "OURS ARGS" "QEMU ARGS"
	local what=$1 o=() q=() i
	read -r -a o <<<"$2"
	read -r -a q <<<"$3"
	: >"$T/o.t"
	: >"$T/q.t"
	for ((i = 0; i < RUNS; i++)); do
		until_marker "$T/q.con" qemu_plain "$T/q.con" "${q[@]}" >>"$T/q.t"
		until_marker "$T/o.con" ours "$T/o.con" "${o[@]}" >>"$T/o.t"
	done
	local om qm
	om=$(median <"$T/o.t")
	qm=$(median <"$T/q.t")
	compare "$what (to userspace)" "$om" "$qm" "plain QEMU"
	printf '    overhead %+.1f%% (ours %s, plain %s; %d runs each)\n' \
		"$(echo "($om - $qm) * 100 / $qm" | bc -l)" "$(tr '\n' ' ' <"$T/o.t")" \
		"$(tr '\n' ' ' <"$T/q.t")" "$RUNS"
}

echo "--- boot time, direct kernel boot, 1 vCPU, 256 MiB (TCG)"
APPEND=""
boot_pair "direct boot, no disk" "" ""
"$VHD" create "$T/boot.vhd" 64M >/dev/null
boot_pair "direct boot, one VHD disk" "--disk $T/boot.vhd" \
	"-blockdev driver=vpc,node-name=d0,file.driver=file,file.filename=$T/boot.vhd -device virtio-blk-pci,drive=d0"

echo "--- memory of our side per VM (RSS while the guest runs)"
"$VHDVISOR" run --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append "quiet vv.run=hold" \
	--console "file:$T/m.con" --disk "$T/boot.vhd" >/dev/null 2>&1 &
vpid=$!
trap 'kill -TERM $vpid 2>/dev/null; wait $vpid; rm -rf "$T"' EXIT
until grep -qa VV-HOLD "$T/m.con" 2>/dev/null; do
	kill -0 "$vpid" || { echo "FAIL: the VM did not come up"; exit 1; }
	sleep 0.1
done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
epid=$(pgrep -f -- "serve --socket $VHDVISOR_RUN/" | head -1)
qpid=$(pgrep -P "$vpid" -f qemu-system | head -1)
printf 'vhdvisor run %6d KiB   vhd serve (1 disk) %6d KiB   ours total %6d KiB   (QEMU itself %d KiB)\n' \
	"$(rss "$vpid")" "$(rss "$epid")" "$(($(rss "$vpid") + $(rss "$epid")))" "$(rss "$qpid")"
kill -TERM "$vpid"
wait "$vpid" || true
trap 'rm -rf "$T"' EXIT

echo "--- guest dd, 512 MiB, O_DIRECT, 1 MiB blocks (TCG: the emulator dominates)"
APPEND="vv.run=ddw:vda:512,ddr:vda:512"
"$VHD" create "$T/dd.vhd" 512M >/dev/null
qemu-img create -q -f vpc -o subformat=dynamic "$T/dd-q.vhd" 512M
truncate -s 512M "$T/dd.raw"
ours "$T/dd-o.con" --disk "$T/dd.vhd" >/dev/null 2>"$T/dd-o.err" || cat "$T/dd-o.err"
qemu_plain "$T/dd-v.con" -blockdev "driver=vpc,node-name=d0,file.driver=file,file.filename=$T/dd-q.vhd" \
	-device virtio-blk-pci,drive=d0 >/dev/null 2>&1
qemu_plain "$T/dd-r.con" -blockdev "driver=raw,node-name=d0,file.driver=file,file.filename=$T/dd.raw" \
	-device virtio-blk-pci,drive=d0 >/dev/null 2>&1
val() { tr -d '\r' <"$1" | grep -ao "$2=[0-9A-Z]*" | tail -1 | cut -d= -f2; }
for op in DDW DDR; do
	o=$(val "$T/dd-o.con" "VV-$op-MS") v=$(val "$T/dd-v.con" "VV-$op-MS") r=$(val "$T/dd-r.con" "VV-$op-MS")
	[[ $o =~ ^[0-9]+$ && $v =~ ^[0-9]+$ && $r =~ ^[0-9]+$ ]] || { echo "FAIL: dd results $o $v $r"; exit 1; }
	printf '%s 512 MiB: ours (NBD, VHD) %5d ms %6.0f MiB/s | QEMU vpc %5d ms %6.0f MiB/s | QEMU raw %5d ms %6.0f MiB/s | vs vpc %.2fx, vs raw %.2fx\n' \
		"$([[ $op == DDW ]] && echo write || echo read)" \
		"$o" "$(echo "512000 / $o" | bc -l)" "$v" "$(echo "512000 / $v" | bc -l)" \
		"$r" "$(echo "512000 / $r" | bc -l)" "$(echo "$v / $o" | bc -l)" "$(echo "$r / $o" | bc -l)"
done
