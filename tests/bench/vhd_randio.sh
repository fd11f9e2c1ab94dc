#!/bin/bash
# Random 4 KiB reads and writes through our library (tests/bench/vhd_randio.c)
# vs qemu-io -f vpc on the same image and offsets; then reads through a
# differencing chain of depth 16 vs the same data at depth 1.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-io qemu-img gcc bc

bin=$T/vhd_randio
gcc -O2 -I"$VV_ROOT" -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -o "$bin" \
	"$VV_ROOT/tests/bench/vhd_randio.c" "$VV_BUILD/lib/libvhd.a" -pthread
n=${VV_BENCH_OPS:-20000}
span=$((1 << 30))
img=$T/r.vhd
"$VHD" create "$img" 1G
"$VHD" write "$img" 0 --pattern 0x33 --length 1G >/dev/null   # fully allocated

ops_ours() { "$bin" "$@" | sed -n 's/.*: \([0-9]*\) ops\/s/\1/p'; }
ops_qemu() { # ops_qemu read|write IMAGE: the same requests through qemu-io
	"$bin" x "qemu-$1" "$n" "$span" 7 >"$T/cmds"
	local s e
	s=$(date +%s.%N)
	qemu-io -f vpc -t writeback "$2" <"$T/cmds" >/dev/null
	e=$(date +%s.%N)
	echo "$n / ($e - $s)" | bc -l | xargs printf '%.0f'
}
report() { printf '%-36s ours %8s ops/s  qemu-io %8s ops/s  ratio %.2fx\n' "$1" "$2" "$3" \
	"$(echo "$2 / $3" | bc -l)"; }

echo "(qemu-io parses one command per request: its figures include that overhead;"
echo " qemu-img bench, strided not random, is shown as a second reference)"
report "random 4K reads (allocated)" "$(ops_ours "$img" read "$n" "$span" 7)" "$(ops_qemu read "$img")"
qb=$(qemu-img bench -f vpc -t writeback -c "$n" -s 4k -S 1052672 "$img" 2>&1 |
	sed -n 's/.*Run completed in \([0-9.]*\) seconds.*/\1/p')
[[ -n $qb ]] && printf '%-36s qemu-img bench %8.0f ops/s\n' "strided 4K reads" "$(echo "$n / $qb" | bc -l)"
w=$T/w.vhd
"$VHD" create "$w" 1G
cp "$w" "$T/w2.vhd"
report "random 4K writes (fresh image)" "$(ops_ours "$w" write "$n" "$span" 7)" \
	"$(ops_qemu write "$T/w2.vhd")"
report "random 4K writes (allocated)" "$(ops_ours "$img" write "$n" "$span" 7)" \
	"$(ops_qemu write "$img")"

# A chain of 16: each layer writes its own 64 MiB stripe.
mkdir -p "$T/chain"
prev=$T/chain/l1.vhd
"$VHD" create "$prev" 1G
"$VHD" write "$prev" 0 --pattern 1 --length 64M
for i in $(seq 2 16); do
	"$VHD" snapshot "$prev" "$T/chain/l$i.vhd"
	"$VHD" write "$T/chain/l$i.vhd" $(((i - 1) * 64))M --pattern "$i" --length 64M
	prev=$T/chain/l$i.vhd
done
"$VHD" convert "$prev" "$T/flat.vhd"
d16=$(ops_ours "$prev" read "$n" "$span" 9)
d1=$(ops_ours "$T/flat.vhd" read "$n" "$span" 9)
printf '%-36s depth 16 %8s ops/s  depth 1 %8s ops/s  ratio %.2f\n' "random 4K reads, chain" \
	"$d16" "$d1" "$(echo "$d16 / $d1" | bc -l)"
s16=$(secs "$VHD" read "$prev" 0 1G)
s1=$(secs "$VHD" read "$T/flat.vhd" 0 1G)
printf '%-36s depth 16 %8.3fs       depth 1 %8.3fs\n' "sequential 1 GiB read, chain" "$s16" "$s1"
