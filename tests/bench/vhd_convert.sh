#!/bin/bash
# vhd convert vs qemu-img convert (and cp --sparse=always) on a 2 GiB raw
# image, half random data and half zeros: raw -> dynamic VHD, VHD -> raw,
# raw -> fixed VHD. Each time is the best of 3 runs and includes flushing
# the output to disk (we fsync before renaming; for the peers `sync FILE`
# is timed too), so both sides pay for durability. Outputs are verified
# byte for byte. VV_BENCH_SIZE_MIB overrides 2048.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-img bc

mib=${VV_BENCH_SIZE_MIB:-2048}
src=$T/src.raw
truncate -s "${mib}M" "$src"
# 64 MiB stripes: random, hole, random, allocated zeros (16 MiB) + hole
for ((i = 0; i < mib / 64; i++)); do
	case $((i % 4)) in
	0 | 2) dd if=/dev/urandom of="$src" bs=1M count=64 seek=$((i * 64)) conv=notrunc status=none ;;
	3) dd if=/dev/zero of="$src" bs=1M count=16 seek=$((i * 64)) conv=notrunc status=none ;;
	esac
done
sync
echo "source: ${mib} MiB raw, half random, half zero (partly allocated zeros)"

# best OUT CMD...: the best wall time of 3 runs of CMD writing OUT (+ sync)
best() {
	local out=$1 b= t
	shift
	for _ in 1 2 3; do
		rm -f "$out"
		sync
		t=$(secs sh -c '"$@" && sync "$0"' "$out" "$@")
		[[ -z $b ]] || (($(echo "$t < $b" | bc))) && b=$t
	done
	echo "$b"
}

q_vhd=(--image-opts "driver=vpc,force_size_calc=current_size,file.filename=$T/ours.vhd")
ours=$(best "$T/ours.vhd" "$VHD" convert -O vhd "$src" "$T/ours.vhd")
theirs=$(best "$T/qemu.vhd" qemu-img convert -f raw -O vpc "$src" "$T/qemu.vhd")
compare "raw -> dynamic VHD" "$ours" "$theirs" "qemu-img"
cpt=$(best "$T/cp.raw" cp --sparse=always "$src" "$T/cp.raw")
compare "raw -> dynamic VHD vs sparse copy" "$ours" "$cpt" "cp"
printf '  file sizes: ours %s, qemu-img %s\n' "$(du -h "$T/ours.vhd" | cut -f1)" \
	"$(du -h "$T/qemu.vhd" | cut -f1)"

ours=$(best "$T/back.raw" "$VHD" convert -O raw "$T/ours.vhd" "$T/back.raw")
theirs=$(best "$T/qback.raw" qemu-img convert "${q_vhd[@]}" -O raw "$T/qback.raw")
compare "dynamic VHD -> raw" "$ours" "$theirs" "qemu-img"

ours=$(best "$T/fixed.vhd" "$VHD" convert -O vhd-fixed "$src" "$T/fixed.vhd")
theirs=$(best "$T/qfixed.vhd" qemu-img convert -f raw -O vpc -o subformat=fixed "$src" "$T/qfixed.vhd")
compare "raw -> fixed VHD" "$ours" "$theirs" "qemu-img"

cmp "$src" "$T/back.raw" || { echo "round trip through our VHD differs"; exit 1; }
cmp "$src" "$T/qback.raw" || { echo "qemu-img reads other data from our VHD"; exit 1; }
cmp -n $((mib << 20)) "$src" "$T/fixed.vhd" || { echo "fixed VHD data differs"; exit 1; }
echo "outputs verified identical"
