#!/bin/bash
# Guest disk paths side by side in one run (issue 11): a guest (TCG, 1
# vCPU, 256 MiB of shared memfd memory for every row) writes then reads
# 512 MiB with dd (O_DIRECT, 1 MiB blocks) on a fresh dynamic VHD served
#   ours over vhost-user-blk (vhd serve --vhost-user),
#   ours over NBD (vhd serve --socket; what hv/ attaches today),
#   QEMU's in-process vpc driver,
#   qemu-storage-daemon exporting the vpc image over vhost-user-blk,
#   QEMU on a raw file.
# Also the host CPU seconds of the serving process per GiB moved (ours and
# qemu-storage-daemon). One run each; under TCG the emulator dominates.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-system-x86_64 qemu-img
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print) || skip "no guest material"
MIB=${VV_BENCH_DD_MIB:-512}
S=$T/disk.sock

guest() { # guest CONSOLE DISK-ARGS...
	local con=$1
	shift
	qemu-system-x86_64 -nodefaults -no-user-config -machine q35,memory-backend=mem \
		-object memory-backend-memfd,id=mem,size=256M,share=on -accel tcg -smp 1 -m 256M \
		-display none -no-reboot -serial "file:$con" \
		-kernel "$G/vmlinux" -initrd "$G/initrd.img" \
		-append "console=ttyS0 quiet vv.run=ddw:vda:$MIB,ddr:vda:$MIB" "$@" >"$T/qemu.err" 2>&1 ||
		{ cat "$T/qemu.err"; echo "FAIL: qemu"; exit 1; }
}
wait_sock() { local i; for ((i = 0; i < 200; i++)); do [[ -S $1 ]] && return 0; sleep 0.05; done; echo "FAIL: no $1"; exit 1; }
cpu_secs() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }   # USER_HZ 100
stop_server() { kill -TERM "$1"; wait "$1" || true; rm -f "$S"; }
val() { tr -d '\r' <"$1" | grep -ao "$2=[0-9A-Z]*" | tail -1 | cut -d= -f2; }
declare -A W R CPU

# ours, vhost-user
"$VHD" create "$T/vu.vhd" "${MIB}M" >/dev/null
"$VHD" serve --vhost-user "$S" "$T/vu.vhd" 2>"$T/vu.err" &
pid=$!
wait_sock "$S"
guest "$T/vu.con" -chardev "socket,id=vu0,path=$S" -device vhost-user-blk-pci,chardev=vu0
CPU[vu]=$(cpu_secs $pid)
stop_server $pid
# ours, NBD
"$VHD" create "$T/nbd.vhd" "${MIB}M" >/dev/null
"$VHD" serve --socket "$S" "$T/nbd.vhd" 2>"$T/nbd.err" &
pid=$!
wait_sock "$S"
guest "$T/nbd.con" -blockdev "driver=nbd,server.type=unix,server.path=$S,export=nbd.vhd,node-name=d0" \
	-device virtio-blk-pci,drive=d0
CPU[nbd]=$(cpu_secs $pid)
stop_server $pid
# QEMU vpc
qemu-img create -q -f vpc -o subformat=dynamic "$T/q.vhd" "${MIB}M"
guest "$T/vpc.con" -blockdev "driver=vpc,node-name=d0,file.driver=file,file.filename=$T/q.vhd" \
	-device virtio-blk-pci,drive=d0
# qemu-storage-daemon, vpc over vhost-user-blk
if command -v qemu-storage-daemon >/dev/null; then
	qemu-img create -q -f vpc -o subformat=dynamic "$T/qsd.vhd" "${MIB}M"
	qemu-storage-daemon --blockdev "driver=file,node-name=f0,filename=$T/qsd.vhd" \
		--blockdev driver=vpc,node-name=d0,file=f0 \
		--export "type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,addr.path=$S,writable=on" \
		2>"$T/qsd.err" &
	pid=$!
	wait_sock "$S"
	guest "$T/qsd.con" -chardev "socket,id=vu0,path=$S" -device vhost-user-blk-pci,chardev=vu0
	CPU[qsd]=$(cpu_secs $pid)
	stop_server $pid
fi
# QEMU raw
truncate -s "${MIB}M" "$T/d.raw"
guest "$T/raw.con" -blockdev "driver=raw,node-name=d0,file.driver=file,file.filename=$T/d.raw" \
	-device virtio-blk-pci,drive=d0

echo "--- guest dd, $MIB MiB, O_DIRECT, 1 MiB blocks, 1 vCPU, TCG (the emulator dominates; one run)"
printf '%-34s %10s %10s %9s %9s %14s\n' path "write MiB/s" "read MiB/s" "w vs vu" "r vs vu" "host CPU s/GiB"
for k in vu nbd vpc qsd raw; do
	[[ -f $T/$k.con ]] || continue
	w=$(val "$T/$k.con" VV-DDW-MS) r=$(val "$T/$k.con" VV-DDR-MS)
	[[ $w =~ ^[0-9]+$ && $r =~ ^[0-9]+$ ]] || { echo "FAIL: $k: dd results '$w' '$r'"; exit 1; }
	W[$k]=$w R[$k]=$r
done
for k in vu nbd vpc qsd raw; do
	[[ -n ${W[$k]:-} ]] || continue
	case $k in
	vu) name="ours, vhost-user-blk" ;; nbd) name="ours, NBD" ;; vpc) name="QEMU vpc driver" ;;
	qsd) name="qemu-storage-daemon vhost-user" ;; raw) name="QEMU raw file" ;;
	esac
	cpu=-
	[[ -n ${CPU[$k]:-} ]] && cpu=$(echo "${CPU[$k]} * 1024 / (2 * $MIB)" | bc -l | xargs printf '%.2f')
	printf '%-34s %10.0f %10.0f %8.2fx %8.2fx %14s\n' "$name" \
		"$(echo "$MIB * 1000 / ${W[$k]}" | bc -l)" "$(echo "$MIB * 1000 / ${R[$k]}" | bc -l)" \
		"$(echo "${W[vu]} / ${W[$k]}" | bc -l)" "$(echo "${R[vu]} / ${R[$k]}" | bc -l)" "$cpu"
done
echo "(\"vs vu\" > 1: that path is faster than ours over vhost-user-blk)"

# Host side, no guest: tests/tools/vu_bench (our own vhost-user client)
# drives ours and qemu-storage-daemon (vpc, and raw for reference) the same
# way on a fresh 1 GiB disk: 1 MiB sequential writes then reads at queue
# depth 4, 4 KiB random reads and writes at depth 16.
B=$VV_BUILD/tests/tools/vu_bench
[[ -x $B ]] || { echo "FAIL: $B missing (make tests-build)"; exit 1; }
WORK=("write 1048576 4 256" "read 1048576 4 256" "randread 4096 16 64" "randwrite 4096 16 32")
host_rows() { # host_rows NAME PID: runs WORK against $S, one line
	local name=$1 pid=$2 w line=()
	for w in "${WORK[@]}"; do
		# shellcheck disable=SC2086
		line+=("$("$B" "$S" $w)") || { echo "FAIL: vu_bench $w on $name"; exit 1; }
	done
	printf '%-34s %10s %10s %8s %8s %8s %9s\n' "$name" \
		"$(cut -d' ' -f1 <<<"${line[0]}")" "$(cut -d' ' -f1 <<<"${line[1]}")" \
		"$(cut -d' ' -f2 <<<"${line[2]}")" "$(cut -d' ' -f2 <<<"${line[3]}")" \
		"$(cpu_secs "$pid")" "$(echo "$(cpu_secs "$pid") * 1024 / (256 + 256 + 64 + 32)" | bc -l | xargs printf '%.2f')"
}
echo "--- host side, no guest (vu_bench), 1 GiB disk; one run"
printf '%-34s %10s %10s %8s %8s %8s %9s\n' path "seqW MiB/s" "seqR MiB/s" "rR IOPS" "rW IOPS" "CPU s" "CPU s/GiB"
"$VHD" create "$T/h.vhd" 1G >/dev/null
"$VHD" serve --vhost-user "$S" "$T/h.vhd" 2>"$T/h.err" &
pid=$!
wait_sock "$S"
host_rows "ours, vhost-user-blk (VHD)" $pid
stop_server $pid
if command -v qemu-storage-daemon >/dev/null; then
	qemu-img create -q -f vpc -o subformat=dynamic "$T/hq.vhd" 1G
	qemu-storage-daemon --blockdev "driver=file,node-name=f0,filename=$T/hq.vhd" \
		--blockdev driver=vpc,node-name=d0,file=f0 \
		--export "type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,addr.path=$S,writable=on" \
		2>"$T/hq.err" &
	pid=$!
	wait_sock "$S"
	host_rows "qemu-storage-daemon (vpc)" $pid
	stop_server $pid
	truncate -s 1G "$T/hq.raw"
	qemu-storage-daemon --blockdev "driver=file,node-name=f0,filename=$T/hq.raw" \
		--export "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$S,writable=on" \
		2>"$T/hr.err" &
	pid=$!
	wait_sock "$S"
	host_rows "qemu-storage-daemon (raw file)" $pid
	stop_server $pid
fi
