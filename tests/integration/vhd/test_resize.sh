#!/bin/bash
# vhd resize: dynamic grow (BAT extended in place, and moved when blocks
# follow it), fixed grow and shrink, shrink refusal and --force, children,
# QEMU-made images; qemu-img, vhdiinfo and our check judge the results.
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd qemu-img qemu-io vhdiinfo jq

M=$((1 << 20))
judge() { # judge IMG REF: check clean; we, qemu-img and vhdiinfo agree with REF
	expect_exit 0 "$VHD" check "$1"
	assert_eq "$(vsize "$1")" "$(stat -c %s "$2")" "size of $1"
	vraw "$1" "$T/got"
	same "$T/got" "$2" "$1 through us"
	qraw "$1" "$T/got"
	same "$T/got" "$2" "$1 through qemu-img"
	vhdiinfo "$1" >"$T/vi.txt" || fail "vhdiinfo rejects $1"
	grep -q "Media size.*($(stat -c %s "$2") bytes)" "$T/vi.txt" || fail "vhdiinfo size of $1"
}

note "dynamic grow within the BAT's padding"
"$VHD" create "$T/d.vhd" 3M
rnd "$T/r" $((3 * M))
"$VHD" write "$T/d.vhd" 0 --from "$T/r"
cp "$T/r" "$T/ref"
"$VHD" resize "$T/d.vhd" 100M
truncate -s 100M "$T/ref"
judge "$T/d.vhd" "$T/ref"

note "dynamic grow that needs a larger BAT than the room before the first block"
"$VHD" resize "$T/d.vhd" 3G
truncate -s 3G "$T/ref"
"$VHD" write "$T/d.vhd" $((3 * 1024 * M - 4096)) --pattern 0x44 --length 4096
head -c 4096 /dev/zero | tr '\0' '\104' |
	dd of="$T/ref" bs=4096 seek=$((3 * 256 * 1024 - 1)) conv=notrunc status=none
judge "$T/d.vhd" "$T/ref"
assert_eq "$("$VHD" info --json "$T/d.vhd" | jq -r .max_bat_entries)" 1536 "BAT entries"

note "shrink: refused over data, allowed with --force, cut part reads zeros later"
expect_exit 1 "$VHD" resize "$T/d.vhd" 1M
assert_stderr "force"
assert_eq "$(vsize "$T/d.vhd")" $((3 << 30)) "size after a refused shrink"
"$VHD" resize --force "$T/d.vhd" 1M
truncate -s 1M "$T/ref"
judge "$T/d.vhd" "$T/ref"
"$VHD" resize "$T/d.vhd" 8M
truncate -s 8M "$T/ref"
judge "$T/d.vhd" "$T/ref"
"$VHD" resize "$T/d.vhd" 4M   # the part cut off holds nothing: no --force needed
truncate -s 4M "$T/ref"
judge "$T/d.vhd" "$T/ref"

note "fixed grow and shrink"
"$VHD" create --fixed "$T/f.vhd" 5M
rnd "$T/r" $((5 * M))
"$VHD" write "$T/f.vhd" 0 --from "$T/r"
cp "$T/r" "$T/fref"
"$VHD" resize "$T/f.vhd" $((9 * M + 512))
truncate -s $((9 * M + 512)) "$T/fref"
judge "$T/f.vhd" "$T/fref"
assert_eq "$(stat -c %s "$T/f.vhd")" $((9 * M + 1024)) "fixed file size"
expect_exit 1 "$VHD" resize "$T/f.vhd" 2M
"$VHD" resize --force "$T/f.vhd" 2M
truncate -s 2M "$T/fref"
judge "$T/f.vhd" "$T/fref"

note "a differencing child grows past its parent"
"$VHD" create "$T/base.vhd" 4M
"$VHD" write "$T/base.vhd" 0 --pattern 0x10 --length 4M
"$VHD" snapshot "$T/base.vhd" "$T/kid.vhd"
"$VHD" resize "$T/kid.vhd" 12M
"$VHD" write "$T/kid.vhd" 10M --pattern 0x20 --length 1M
{ head -c 4M /dev/zero | tr '\0' '\020'; head -c 6M /dev/zero
  head -c 1M /dev/zero | tr '\0' '\040'; head -c 1M /dev/zero; } >"$T/kref"
vraw "$T/kid.vhd" "$T/got"
same "$T/got" "$T/kref" "grown child"
expect_exit 0 "$VHD" check "$T/kid.vhd"

note "an image QEMU made (creator 'qemu', sized by geometry)"
qemu-img create -q -f vpc "$T/q.vhd" 10M
qemu-io -f vpc -c "write -P 0x5a 0 1M" "$T/q.vhd" >/dev/null
"$VHD" resize "$T/q.vhd" 30M
assert_eq "$(vsize "$T/q.vhd")" $((30 * M)) "exact size after resize"
assert_eq "$("$VHD" read "$T/q.vhd" 1000 1 | od -An -tx1 | tr -d ' ')" 5a "data kept"
expect_exit 0 "$VHD" check "$T/q.vhd"

note "limits"
expect_exit 1 "$VHD" resize "$T/d.vhd" 2041G
assert_stderr "2040"
expect_exit 1 "$VHD" resize "$T/d.vhd" 1000
expect_exit 0 "$VHD" check "$T/d.vhd"
echo "resize checks passed"
