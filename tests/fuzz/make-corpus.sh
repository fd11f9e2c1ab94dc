#!/bin/bash
# tests/fuzz/make-corpus.sh OUTDIR VHD: writes seed inputs for fuzz_vhd_open
# into OUTDIR (small images made by our tool VHD and by qemu-img when it is
# installed), named by their SHA-256. Seeds are generated, never checked in.
set -euo pipefail
out=${1:?usage: make-corpus.sh OUTDIR VHD}
vhd=${2:?usage: make-corpus.sh OUTDIR VHD}
mkdir -p "$out"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

"$vhd" create "$w/dyn-empty.vhd" 3M
"$vhd" create --block-size 512K "$w/dyn-data.vhd" 1537K
"$vhd" write "$w/dyn-data.vhd" 1024K --pattern 0x5a --length 4096
"$vhd" create --fixed "$w/fixed.vhd" 8K
"$vhd" write "$w/fixed.vhd" 512 --pattern 0x33 --length 1000
"$vhd" create --block-size 512K "$w/base.vhd" 1M
"$vhd" snapshot "$w/base.vhd" "$w/child-empty.vhd"
"$vhd" snapshot "$w/base.vhd" "$w/child-data.vhd"
"$vhd" write "$w/child-data.vhd" 1536 --pattern 0x77 --length 700
"$vhd" create "$w/big-sparse.vhd" 2040G
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f vpc "$w/qemu-dyn.vhd" 2M
	qemu-img create -q -f vpc -o force_size=on "$w/qemu-force.vhd" 1M
	qemu-img create -q -f vpc -o subformat=fixed "$w/qemu-fixed.vhd" 16K
fi
# damaged variants: a truncated child, a bad footer copy
head -c 2048 "$w/child-data.vhd" >"$w/child-cut.vhd"
cp "$w/dyn-empty.vhd" "$w/dyn-badcopy.vhd"
printf 'X' | dd of="$w/dyn-badcopy.vhd" bs=1 seek=30 conv=notrunc status=none
# current_size near 2^64 in both footers (checksums fixed): once wrapped
# the BAT-size check (issue 17)
if command -v python3 >/dev/null; then
	for size in 0xFFFFFFFFFFFFFE00 0xFFFFFFFFFFE00200; do
		cp "$w/dyn-data.vhd" "$w/dyn-size-$size.vhd"
		python3 - "$w/dyn-size-$size.vhd" "$size" <<'PY'
import struct, sys
p, size = sys.argv[1], int(sys.argv[2], 0)
b = bytearray(open(p, 'rb').read())
for off in (0, len(b) - 512):
    struct.pack_into('>Q', b, off + 48, size)
    struct.pack_into('>I', b, off + 64, 0)
    struct.pack_into('>I', b, off + 64, ~sum(b[off:off + 512]) & 0xffffffff)
open(p, 'wb').write(b)
PY
	done
fi
for f in "$w"/*.vhd; do
	cp "$f" "$out/$(sha256sum "$f" | cut -c1-16)"
done
echo "$(ls "$out" | wc -l) seeds in $out"
