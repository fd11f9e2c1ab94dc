#!/bin/bash
# vhd convert vs qemu-img convert (and cp --sparse=always) on a 2 GiB raw
# image, half random data and half zeros: raw -> dynamic VHD, VHD -> raw.
# Results are checked byte for byte. VV_BENCH_SIZE_MIB overrides 2048.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-img bc

mib=${VV_BENCH_SIZE_MIB:-2048}
src=$T/src.raw
truncate -s "${mib}M" "$src"
# 64 MiB stripes: random, zero (a hole), random written as zeros, ...
for ((i = 0; i < mib / 64; i++)); do
	case $((i % 4)) in
	0 | 2) dd if=/dev/urandom of="$src" bs=1M count=64 seek=$((i * 64)) conv=notrunc status=none ;;
	3) dd if=/dev/zero of="$src" bs=1M count=16 seek=$((i * 64)) conv=notrunc status=none ;;
	esac
done
cat "$src" >/dev/null   # warm the page cache for both tools
echo "source: ${mib} MiB raw, half random, half zero (partly allocated zeros)"

ours=$(secs "$VHD" convert -O vhd "$src" "$T/ours.vhd")
theirs=$(secs qemu-img convert -f raw -O vpc "$src" "$T/qemu.vhd")
compare "raw -> dynamic VHD" "$ours" "$theirs" "qemu-img"
cpt=$(secs cp --sparse=always "$src" "$T/cp.raw")
compare "raw -> dynamic VHD vs sparse copy" "$ours" "$cpt" "cp"
printf '  file sizes: ours %s, qemu-img %s\n' "$(du -h "$T/ours.vhd" | cut -f1)" \
	"$(du -h "$T/qemu.vhd" | cut -f1)"

ours=$(secs "$VHD" convert -O raw "$T/ours.vhd" "$T/back.raw")
# current_size: QEMU would otherwise size our (creator 'vhdv') image by CHS
theirs=$(secs qemu-img convert --image-opts \
	"driver=vpc,force_size_calc=current_size,file.filename=$T/ours.vhd" -O raw "$T/qback.raw")
compare "dynamic VHD -> raw" "$ours" "$theirs" "qemu-img"

ours=$(secs "$VHD" convert -O vhd-fixed "$src" "$T/fixed.vhd")
theirs=$(secs qemu-img convert -f raw -O vpc -o subformat=fixed "$src" "$T/qfixed.vhd")
compare "raw -> fixed VHD" "$ours" "$theirs" "qemu-img"

cmp "$src" "$T/back.raw" || { echo "round trip through our VHD differs"; exit 1; }
cmp "$src" "$T/qback.raw" || { echo "qemu-img reads other data from our VHD"; exit 1; }
cmp -n $((mib << 20)) "$src" "$T/fixed.vhd" || { echo "fixed VHD data differs"; exit 1; }
echo "outputs verified identical"
