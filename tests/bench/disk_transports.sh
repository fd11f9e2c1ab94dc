#!/bin/bash
# Guest disk paths side by side in one run (issue 11), on the same VHD
# content (a 512 MiB dynamic VHD, fully written; a fresh copy per row):
#
#  1. In a guest (TCG, 1 vCPU, 256 MiB), tests/bench/guest_diskbench.c in a
#     throwaway initramfs, O_DIRECT on /dev/vda: sequential 1 MiB write and
#     read (256 MiB, one request at a time), random 4 KiB read and write at
#     queue depth 16 (native AIO, 10 s each), over
#       ours, vhost-user   vhdvisor run --disk-transport vhost-user
#       ours, NBD          vhdvisor run --disk-transport nbd
#       QEMU vpc           QEMU's in-process vpc driver on the same VHD
#       qsd vhost-user     qemu-storage-daemon (vpc) exporting vhost-user-blk
#       QEMU raw           QEMU on a raw copy of the same content
#     with MiB/s, IOPS, the ratios to QEMU vpc and to raw, host CPU s per GiB
#     moved: all (QEMU + our runtime + its disk service + qsd) and the disk
#     service alone (what is not QEMU itself).
#  2. Host side, no guest: tests/tools/vu_bench (our own vhost-user client)
#     drives `vhd serve --vhost-user` and qemu-storage-daemon (vpc, and raw
#     for reference) with the same four rows; ratios to qsd vpc and raw; CPU
#     of the server per GiB.
#  3. Memory of our side per VM (RSS, PSS, private) at the end of the guest
#     run, vhost-user (disk service in-process) vs NBD.
# One run each. Sizes: VV_BENCH_SEQ_MIB (256), VV_BENCH_RAND_SECS (10),
# VV_BENCH_HOST_SECS (5). A guest whose console stays silent for
# VV_BENCH_STALL s (default 3 x RAND_SECS + 60: its requests stopped
# completing) is stopped and run once more; a second stall shows STALLED
# in its row and fails the bench.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-system-x86_64 qemu-img qemu-storage-daemon gcc cpio gzip bc
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print) || skip "no guest material"
gcc -static -O2 -o "$T/guest_diskbench" "$VV_ROOT/tests/bench/guest_diskbench.c" 2>"$T/gcc.err" ||
	{ cat "$T/gcc.err"; skip "gcc -static cannot link (libc6-dev's libc.a missing?)"; }
VU=$VV_BUILD/tests/tools/vu_bench
[[ -x $VU ]] || { echo "FAIL: $VU missing (make tests-build)"; exit 1; }
SEQ=${VV_BENCH_SEQ_MIB:-256}
SECS=${VV_BENCH_RAND_SECS:-10}
HSECS=${VV_BENCH_HOST_SECS:-5}
DISK=512
DEPTH=16
HZ=$(getconf CLK_TCK)
S=$T/disk.sock
export VHDVISOR_RUN=$T/run
ROWS=$T/rows   # "KEY PHASE BYTES NS OPS ALL_TICKS SERVICE_TICKS" and "KEY mem ..."
: >"$ROWS"

# The guest: the cached busybox tree plus our program and an init that
# loads the virtio modules and runs it on /dev/vda, then powers off.
cp -a "$G/rootfs" "$T/rootfs"
mkdir -p "$T/rootfs/vvbench"
install -m 0755 "$T/guest_diskbench" "$T/rootfs/vvbench/guest_diskbench"
cat >"$T/rootfs/vvbench/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done </etc/modules.order
args=
for a in $(cat /proc/cmdline); do case $a in vvbench=*) args=${a#vvbench=} ;; esac; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
IFS=: 
set -- $args
IFS=' '
/vvbench/guest_diskbench /dev/vda "$@" || echo "VV-BENCH-FAIL exit"
sleep 2   # the host samples memory on VV-BENCH-DONE
poweroff -f
EOF
chmod 0755 "$T/rootfs/vvbench/init"
(cd "$T/rootfs" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --owner=0:0 --quiet) |
	gzip -1 >"$T/initrd.img"
APPEND="quiet rdinit=/vvbench/init vvbench=$SEQ:$SECS:$DISK:$DEPTH"

# The content: every block allocated, a non-zero pattern.
"$VHD" create "$T/base.vhd" "${DISK}M" >/dev/null
"$VHD" write "$T/base.vhd" 0 --pattern 0x33 --length "${DISK}M" >/dev/null
"$VHD" read "$T/base.vhd" 0 "${DISK}M" >"$T/base.raw"
VPC=driver=vpc   # QEMU sees the same 512 MiB (our creator and geometry)

tree() { local p; for p; do echo "$p"; tree $(pgrep -P "$p"); done; }
# ticks ROOT...: "ALL SERVICE" CPU ticks of the roots and their descendants
# (SERVICE: all but QEMU's system emulator)
ticks() {
	local p all=0 svc=0 f comm
	for p in $(tree "$@"); do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		comm=${f#*(}
		comm=${comm%%)*}
		read -r -a f <<<"${f##*) }"
		all=$((all + f[11] + f[12]))
		[[ $comm == qemu-system* ]] || svc=$((svc + f[11] + f[12]))
	done
	echo "$all $svc"
}
# mem ROOT: "RSS PSS PRIVATE NAMES" in KiB of the non-QEMU processes of the tree
mem() {
	local p rss=0 pss=0 prv=0 names=() comm
	for p in $(tree "$@"); do
		comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		[[ $comm == qemu-system* ]] && continue
		names+=("$comm")
		rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")))
		pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
		prv=$((prv + $(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$p/smaps_rollup")))
	done
	echo "$rss $pss $prv $(IFS=+; echo "${names[*]}")"
}
# follow KEY CONSOLE GUEST_PID ROOT...: reads the guest's console as it
# grows; on each phase's begin and end samples the CPU ticks of the roots,
# appends the phase's row to $ROWS; on VV-BENCH-DONE the memory row. A
# console silent for $STALL s (a lost request) appends "KEY hang PHASE"
# and returns 2.
STALL=${VV_BENCH_STALL:-$((3 * SECS + 60))}
follow() {
	local key=$1 con=$2 gpid=$3 fd line part='' c0=() c1=() re phase=boot last=$SECONDS
	shift 3
	re='VV-BENCH-END ([a-z]+) ([0-9]+) ([0-9]+) ([0-9]+)'
	until [[ -e $con ]]; do
		[[ $(awk '{print $3}' "/proc/$gpid/stat" 2>/dev/null) == [SRD] ]] || return 1
		sleep 0.05
	done
	exec {fd}<"$con"
	while :; do
		if ! IFS= read -r line <&"$fd"; then
			part+=$line
			[[ $(awk '{print $3}' "/proc/$gpid/stat" 2>/dev/null) == [SRD] ]] || break
			if ((SECONDS - last > STALL)); then
				echo "$key hang $phase" >>"$ROWS"
				[[ $key == vu || $key == nbd ]] && echo "$key mem $(mem "$gpid")" >>"$ROWS"
				exec {fd}<&-
				return 2
			fi
			sleep 0.05
			continue
		fi
		line=$part${line%$'\r'}
		part=''
		last=$SECONDS
		if [[ $line == *VV-BENCH-BEGIN* ]]; then
			phase=${line##*VV-BENCH-BEGIN }
			read -r -a c0 <<<"$(ticks "$@")"
		elif [[ $line =~ $re ]]; then
			read -r -a c1 <<<"$(ticks "$@")"
			echo "$key ${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}" \
				"$((c1[0] - c0[0])) $((c1[1] - c0[1]))" >>"$ROWS"
		elif [[ $line == *VV-BENCH-DONE* ]]; then
			[[ $key == vu || $key == nbd ]] && echo "$key mem $(mem "$gpid")" >>"$ROWS"
			exec {fd}<&-
			return 0
		elif [[ $line == *VV-BENCH-FAIL* ]]; then
			echo "FAIL: $key: $line"
			break
		fi
	done
	exec {fd}<&-
	return 1
}
# row KEY SERVER_PID|- CMD...: runs the guest command in the background
# and follows its console ($T/KEY.con).
row() {
	local key=$1 spid=$2 pid rc=0
	shift 2
	"$@" >"$T/$key.out" 2>&1 &
	pid=$!
	if [[ $spid == - ]]; then follow "$key" "$T/$key.con" "$pid" "$pid" || rc=$?
	else follow "$key" "$T/$key.con" "$pid" "$pid" "$spid" || rc=$?; fi
	if ((rc == 2)); then   # stalled: stop it, go on with the other rows
		echo "STALL: $key: no console output for $STALL s in $(grep "^$key hang " "$ROWS" | cut -d' ' -f3)"
		kill -TERM "$pid"
		wait "$pid" || true
		return 0
	fi
	wait "$pid" || rc=1
	((rc == 0)) || { echo "FAIL: $key"; tail -5 "$T/$key.out"; tail -20 "$T/$key.con" 2>/dev/null; exit 1; }
}
qemu_guest() { # qemu_guest KEY DISK-ARGS...
	local key=$1
	shift
	exec qemu-system-x86_64 -nodefaults -no-user-config -machine q35,memory-backend=mem \
		-object memory-backend-memfd,id=mem,size=256M,share=on -accel tcg -smp 1 -m 256M \
		-display none -no-reboot -serial "file:$T/$key.con" \
		-kernel "$G/vmlinux" -initrd "$T/initrd.img" -append "console=ttyS0 $APPEND" "$@"
}
ours_guest() { # ours_guest KEY TRANSPORT
	exec "$VHDVISOR" run --accel tcg --cpus 1 --mem 256M --kernel "$G/vmlinux" --initrd "$T/initrd.img" \
		--append "$APPEND" --console "file:$T/$1.con" --disk "$T/$1.vhd" --disk-transport "$2"
}
wait_sock() { local i; for ((i = 0; i < 200; i++)); do [[ -S $1 ]] && return 0; sleep 0.05; done; echo "FAIL: no $1"; exit 1; }
stop_server() { kill -TERM "$1"; wait "$1" || true; rm -f "$S"; }
qsd() { # qsd IMAGE DRIVER-OPTS: qemu-storage-daemon exporting IMAGE over vhost-user-blk at $S
	qemu-storage-daemon --blockdev "driver=file,node-name=f0,filename=$1" \
		--blockdev "$2,node-name=d0,file=f0" \
		--export "type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,addr.path=$S,writable=on" \
		2>"$T/qsd.err" &
	QSD=$!
	wait_sock "$S"
}

# One guest row each, on a fresh copy of the content.
run_vu() { cp --sparse=always "$T/base.vhd" "$T/vu.vhd"; row vu - ours_guest vu vhost-user; }
run_nbd() { cp --sparse=always "$T/base.vhd" "$T/nbd.vhd"; row nbd - ours_guest nbd nbd; }
run_vpc() {
	cp --sparse=always "$T/base.vhd" "$T/vpc.vhd"
	row vpc - qemu_guest vpc -blockdev "$VPC,node-name=d0,file.driver=file,file.filename=$T/vpc.vhd" \
		-device virtio-blk-pci,drive=d0
}
run_qsd() {
	cp --sparse=always "$T/base.vhd" "$T/qsd.vhd"
	qsd "$T/qsd.vhd" "$VPC"
	row qsd "$QSD" qemu_guest qsd -chardev "socket,id=vu0,path=$S" -device vhost-user-blk-pci,chardev=vu0
	stop_server "$QSD"
}
run_raw() {
	cp --sparse=always "$T/base.raw" "$T/raw.raw"
	row raw - qemu_guest raw -blockdev "driver=raw,node-name=d0,file.driver=file,file.filename=$T/raw.raw" \
		-device virtio-blk-pci,drive=d0
}
echo "--- in the guest: 1 vCPU TCG, O_DIRECT on /dev/vda, $DISK MiB VHD fully allocated; one run"
# A stalled guest is run once more: under TCG on a loaded host a guest
# rarely waits forever for random writes its virtio-blk device has already
# completed (seen on QEMU's own virtio-blk + raw too, device idle with
# nothing in use, vCPU halted); the stall stays on record in the output.
for k in vu nbd vpc qsd raw; do
	"run_$k"
	grep -q "^$k hang " "$ROWS" || continue
	echo "STALL: $k: running it once more"
	sed -i "/^$k /d" "$ROWS"
	mv "$T/$k.con" "$T/$k.con.stalled"
	"run_$k"
done

# Host side: vu_bench against each server, CPU of the server per row.
host_rows() { # host_rows KEY SERVER_PID
	local key=$1 pid=$2 w a c0 c1 out
	for w in "seqwrite write 1048576 1 $SEQ" "seqread read 1048576 1 $SEQ" \
		"randread randread 4096 $DEPTH ${HSECS}s" "randwrite randwrite 4096 $DEPTH ${HSECS}s"; do
		read -r -a a <<<"$w"
		c0=$(ticks "$pid" | cut -d' ' -f1)
		out=$("$VU" "$S" "${a[@]:1}") || { echo "FAIL: vu_bench ${a[*]:1} on $key"; exit 1; }
		c1=$(ticks "$pid" | cut -d' ' -f1)
		read -r -a out <<<"$out"
		echo "$key ${a[0]} ${out[2]} $(echo "${out[3]} * 1000000000 / 1" | bc) $((out[2] / a[2]))" \
			"$((c1 - c0)) $((c1 - c0))" >>"$ROWS"
	done
}
cp --sparse=always "$T/base.vhd" "$T/h.vhd"
"$VHD" serve --vhost-user "$S" "$T/h.vhd" 2>"$T/h.err" &
pid=$!
wait_sock "$S"
host_rows h-vu $pid
stop_server $pid
cp --sparse=always "$T/base.vhd" "$T/hq.vhd"
qsd "$T/hq.vhd" "$VPC"
host_rows h-qsd "$QSD"
stop_server "$QSD"
cp --sparse=always "$T/base.raw" "$T/hr.raw"
qsd "$T/hr.raw" driver=raw
host_rows h-qsdraw "$QSD"
stop_server "$QSD"

# The tables.
table() { # table REF REF2 KEY:LABEL...
	awk -v ref="$1" -v ref2="$2" -v hz="$HZ" -v labels="${*:3}" '
	$2 == "hang" { hang[$1 "|" $3] = 1 }
	$2 != "mem" && $2 != "hang" { k = $1 "|" $2; have[k] = 1; s = $4 / 1e9
		mibs[k] = $3 / 1048576 / s; iops[k] = $5 / s
		gib = $3 / 1073741824; all[k] = $6 / hz / gib; svc[k] = $7 / hz / gib }
	END {
		n = split(labels, L, " ")
		split("seqwrite seqread randread randwrite", P, " ")
		split("seq write 1M|seq read 1M|rand read 4K QD16|rand write 4K QD16", PN, "|")
		printf "%-18s %-26s %9s %8s %8s %8s %10s %10s\n", "row", "path", "MiB/s", "IOPS", "vs ref", "vs ref2", "CPU s/GiB", "svc s/GiB"
		for (i = 1; i <= 4; i++) {
			first = 1
			for (j = 1; j <= n; j++) {
				split(L[j], kv, ":"); k = kv[1] "|" P[i]; r = ref "|" P[i]; r2 = ref2 "|" P[i]
				gsub("_", " ", kv[2])
				if (!have[k] && hang[k]) {
					printf "%-18s %-26s  STALLED: the guest went silent, twice\n", (first ? PN[i] : ""), kv[2]
					first = 0
				}
				if (!have[k]) continue
				name = first ? PN[i] : ""
				io = i > 2 ? sprintf("%.0f", iops[k]) : "-"
				ratio = have[r] ? sprintf("%.2fx", mibs[k] / mibs[r]) : "-"
				ratio2 = have[r2] ? sprintf("%.2fx", mibs[k] / mibs[r2]) : "-"
				sv = (svc[k] == 0 && all[k] != svc[k]) ? "-" : sprintf("%.1f", svc[k])
				printf "%-18s %-26s %9.1f %8s %8s %8s %10.1f %10s\n", name, kv[2], mibs[k], io, ratio, ratio2, all[k], sv
				first = 0
			}
		}
	}' "$ROWS"
}
echo "--- in the guest (TCG: QEMU's emulation of the guest dominates these figures and"
echo "    their CPU; compare the paths with each other, not with a KVM host)."
echo "    vs ref: / QEMU vpc driver; vs ref2: / QEMU raw file"
table vpc raw vu:ours,_vhost-user nbd:ours,_NBD vpc:QEMU_vpc_driver qsd:qsd_vpc_vhost-user raw:QEMU_raw_file
echo "    CPU s/GiB: host CPU (QEMU + our runtime and disk service, or qemu-storage-daemon)"
echo "    per GiB moved; svc: the disk service alone (not QEMU), '-' where it is QEMU itself"
echo "--- host side, no guest (tests/tools/vu_bench, same rows; seq ${SEQ} MiB QD1, random ${HSECS} s QD$DEPTH)"
echo "    vs ref: / qemu-storage-daemon vpc; vs ref2: / qsd raw file; CPU (and svc): the server process"
table h-qsd h-qsdraw h-vu:ours,_vhd_serve_--vhost-user h-qsd:qsd_vpc h-qsdraw:qsd_raw_file
echo "--- memory of our side per VM at the end of the guest run (KiB; QEMU itself not counted)"
awk '$2 == "mem" { printf "%-22s RSS %7d  PSS %7d  private %7d  processes: %s\n",
	$1 == "vu" ? "vhost-user (in-process)" : "NBD", $3, $4, $5, $6 }' "$ROWS"
echo "    (with vhost-user the runtime maps the guest RAM memfd: pages it touched count in its"
echo "    RSS and, shared with QEMU, half in PSS; private is what is ours alone)"
for k in vu nbd vpc qsd raw; do
	[[ $(grep -c "^$k " "$ROWS") -ge 4 ]] || grep -q "^$k hang" "$ROWS" || { echo "FAIL: rows missing for $k"; exit 1; }
done
if grep -q " hang " "$ROWS"; then
	echo "FAIL: a guest stalled twice: no console output for $STALL s:"
	awk '$2 == "hang" { print "    " $1 " in " $3 }' "$ROWS"
	exit 1
fi
