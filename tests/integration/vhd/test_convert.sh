#!/bin/bash
# vhd convert: raw <-> dynamic/fixed VHD, chain -> flat, --azure, foreign
# formats through qemu-img; sparse-aware; DST appears only when complete.
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd qemu-img qemu-io jq

M=$((1 << 20))
src=$T/src.raw
truncate -s 64M "$src"
dd if=/dev/urandom of="$src" bs=1M count=3 seek=1 conv=notrunc status=none
dd if=/dev/zero of="$src" bs=1M count=8 seek=20 conv=notrunc status=none   # allocated zeros
dd if=/dev/urandom of="$src" bs=4096 count=1 seek=$((63 * 256 + 5)) conv=notrunc status=none

note "raw -> dynamic: same data, zeros allocate nothing"
"$VHD" convert "$src" "$T/d.vhd"
assert_eq "$("$VHD" info --json "$T/d.vhd" | jq -r .type)" dynamic "type"
vraw "$T/d.vhd" "$T/back"
same "$T/back" "$src" "raw -> dynamic"
qraw "$T/d.vhd" "$T/q"
same "$T/q" "$src" "raw -> dynamic through qemu-img"
# data in MiB 1-3 touches blocks 0 and 1; the 4 KiB near the end block 31
assert_eq "$("$VHD" info --json "$T/d.vhd" | jq -r .allocated_blocks)" 3 "allocated blocks"
expect_exit 0 "$VHD" check "$T/d.vhd"

note "block size option"
"$VHD" convert --block-size 512K "$src" "$T/d512.vhd"
assert_eq "$("$VHD" info --json "$T/d512.vhd" | jq -r .block_size)" 524288 "block size"
assert_eq "$("$VHD" info --json "$T/d512.vhd" | jq -r .allocated_blocks)" 7 "allocated 512K blocks"

note "dynamic -> raw (sparse), dynamic -> fixed -> dynamic"
"$VHD" convert -O raw "$T/d.vhd" "$T/r.raw"
same "$T/r.raw" "$src" "dynamic -> raw"
(($(du -k "$T/r.raw" | cut -f1) < 16 * 1024)) || fail "raw output is not sparse"
"$VHD" convert -O vhd-fixed "$T/d.vhd" "$T/f.vhd"
assert_eq "$("$VHD" info --json "$T/f.vhd" | jq -r .type)" fixed "type"
assert_eq "$(stat -c %s "$T/f.vhd")" $((64 * M + 512)) "fixed file size"
cmp -s -n $((64 * M)) "$T/f.vhd" "$src" || fail "fixed data differs"
qraw "$T/f.vhd" "$T/q"
same "$T/q" "$src" "fixed through qemu-img"
"$VHD" convert "$T/f.vhd" "$T/d2.vhd"
vraw "$T/d2.vhd" "$T/back"
same "$T/back" "$src" "fixed -> dynamic"
assert_eq "$("$VHD" info --json "$T/d2.vhd" | jq -r .allocated_blocks)" 3 "fixed -> dynamic allocation"

note "chain -> flat"
"$VHD" snapshot "$T/d.vhd" "$T/child.vhd"
"$VHD" write "$T/child.vhd" $((2 * M + 3)) --pattern 0xee --length 100000
"$VHD" write "$T/child.vhd" $((40 * M)) --pattern 0x01 --length 4096
vraw "$T/child.vhd" "$T/chain.raw"
"$VHD" convert "$T/child.vhd" "$T/flat.vhd"
assert_eq "$("$VHD" info --json "$T/flat.vhd" | jq -r '.type, (.chain | length)' | tr '\n' ' ')" \
	"dynamic 1 " "flat image type and depth"
vraw "$T/flat.vhd" "$T/back"
same "$T/back" "$T/chain.raw" "chain -> flat"

note "--azure: fixed, size rounded up to a whole MiB"
truncate -s $((M + 512)) "$T/odd.raw"
echo hello | dd of="$T/odd.raw" bs=1 seek=$M conv=notrunc status=none
"$VHD" convert --azure "$T/odd.raw" "$T/az.vhd"
assert_eq "$(stat -c %s "$T/az.vhd")" $((2 * M + 512)) "azure file size"
assert_eq "$("$VHD" info --json "$T/az.vhd" | jq -r '.type, .virtual_size' | tr '\n' ' ')" \
	"fixed $((2 * M)) " "azure type and size"
cmp -s -n $((M + 512)) "$T/az.vhd" "$T/odd.raw" || fail "azure data differs"

for fmt in qcow2 vmdk vdi vhdx; do
	note "$fmt source through qemu-img"
	qemu-img create -q -f $fmt "$T/s.$fmt" 32M
	qemu-io -f $fmt -c "write -P 0x42 1M 3M" -c "write -P 0x43 31M 4k" "$T/s.$fmt" >/dev/null
	qemu-img convert -f $fmt -O raw "$T/s.$fmt" "$T/qc.raw"
	"$VHD" convert "$T/s.$fmt" "$T/qc-$fmt.vhd"
	vraw "$T/qc-$fmt.vhd" "$T/back"
	same "$T/back" "$T/qc.raw" "$fmt -> vhd"
	"$VHD" convert -O raw "$T/s.$fmt" "$T/qc-$fmt.raw"
	same "$T/qc-$fmt.raw" "$T/qc.raw" "$fmt -> raw"
done
! compgen -G "$T/*raw-*" >/dev/null || fail "temporary raw file left behind"

note "a raw source of an odd size becomes a VHD of whole sectors"
head -c 1000 /dev/urandom >"$T/odd1000.raw"
"$VHD" convert "$T/odd1000.raw" "$T/odd.vhd"
assert_eq "$(vsize "$T/odd.vhd")" 1024 "size rounded up to a sector"
"$VHD" read "$T/odd.vhd" 0 1000 | cmp -s - "$T/odd1000.raw" || fail "odd-size data"
assert_eq "$("$VHD" read "$T/odd.vhd" 1000 24 | tr -d '\0' | wc -c)" 0 "padding reads zeros"

note "without qemu-img a foreign source gets a clear message"
expect_exit 1 env PATH=/nonexistent "$VHD" convert "$T/s.qcow2" "$T/noqemu.vhd"
assert_stderr "qcow2.*qemu-img"
[[ ! -e $T/noqemu.vhd ]] || fail "DST written without qemu-img"

note "refusals leave nothing behind"
cp "$T/d.vhd" "$T/exists.vhd"
expect_exit 1 "$VHD" convert "$src" "$T/exists.vhd"
assert_stderr "exists"
cmp -s "$T/exists.vhd" "$T/d.vhd" || fail "existing DST was touched"
mv "$T/d.vhd" "$T/d.moved"
expect_exit 1 "$VHD" convert "$T/child.vhd" "$T/nope.vhd"
assert_stderr "d.vhd"
[[ ! -e $T/nope.vhd ]] || fail "a failed convert left DST"
! compgen -G "$T/*.part-*" >/dev/null || fail "a failed convert left a temporary file"
truncate -s 2041G "$T/huge.raw"
expect_exit 1 "$VHD" convert "$T/huge.raw" "$T/huge.vhd"
assert_stderr "2040"
[[ ! -e $T/huge.vhd ]] || fail "refused convert left DST"
! compgen -G "$T/*.part-*" >/dev/null || fail "a refused convert left a temporary file"
echo "convert checks passed"
