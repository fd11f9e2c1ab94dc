#!/bin/bash
# vhd compact: zero blocks (dynamic) and parent-equal blocks (differencing)
# are dropped, later blocks move into the gaps, the file shrinks, and the
# content stays the same for us and for qemu-img.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd qemu-img qemu-io jq

M=$((1 << 20))
alloc() { "$VHD" info --json "$1" | jq -r .allocated_blocks; }

note "dynamic: blocks rewritten with zeros are dropped"
"$VHD" create "$T/d.vhd" 32M
rnd "$T/r" $((12 * M))
"$VHD" write "$T/d.vhd" 0 --from "$T/r"
"$VHD" write "$T/d.vhd" 2M --pattern 0 --length 6M       # blocks 1-3 now zero
"$VHD" write "$T/d.vhd" 30M --pattern 0x7e --length 2M
vraw "$T/d.vhd" "$T/want"
assert_eq "$(alloc "$T/d.vhd")" 7 "blocks before"
before=$(stat -c %s "$T/d.vhd")
"$VHD" compact "$T/d.vhd" >"$T/out"
grep -q "3 blocks dropped" "$T/out" || { cat "$T/out"; fail "compact report"; }
assert_eq "$(alloc "$T/d.vhd")" 4 "blocks after"
after=$(stat -c %s "$T/d.vhd")
((after <= before - 3 * (2 * M + 512))) || fail "file did not shrink: $before -> $after"
vraw "$T/d.vhd" "$T/got"
same "$T/got" "$T/want" "content after compact"
qraw "$T/d.vhd" "$T/got"
same "$T/got" "$T/want" "content after compact through qemu-img"
expect_exit 0 "$VHD" check "$T/d.vhd"
"$VHD" compact "$T/d.vhd" >"$T/out"
grep -q "0 blocks dropped, 0 moved" "$T/out" || { cat "$T/out"; fail "second compact changed something"; }

note "an image QEMU wrote zeros into"
qemu-img create -q -f vpc "$T/q.vhd" 16M
qemu-io -f vpc -c "write -P 0x11 0 4M" -c "write -z 0 2M" -c "write -P 0 6M 2M" "$T/q.vhd" >/dev/null
qemu-img convert -f vpc -O raw "$T/q.vhd" "$T/qwant"
"$VHD" compact "$T/q.vhd" >"$T/out"
qemu-img convert -f vpc -O raw "$T/q.vhd" "$T/got"
same "$T/got" "$T/qwant" "qemu image after compact"
expect_exit 0 "$VHD" check "$T/q.vhd"

note "differencing: blocks equal to the parent's data are dropped"
"$VHD" create "$T/base.vhd" 16M
"$VHD" write "$T/base.vhd" 0 --pattern 0x10 --length 8M
"$VHD" snapshot "$T/base.vhd" "$T/kid.vhd"
"$VHD" write "$T/kid.vhd" 0 --pattern 0x10 --length 2M        # same as the parent
"$VHD" write "$T/kid.vhd" 2M --pattern 0x10 --length 1M        # same, half a block
"$VHD" write "$T/kid.vhd" 4M --pattern 0 --length 2M           # zeros over parent data
"$VHD" write "$T/kid.vhd" 12M --pattern 0 --length 1M          # zeros over zeros
vraw "$T/kid.vhd" "$T/want"
"$VHD" compact "$T/kid.vhd" >"$T/out"
grep -q "3 blocks dropped" "$T/out" || { cat "$T/out"; fail "compact report of the child"; }
assert_eq "$(alloc "$T/kid.vhd")" 1 "child blocks after"
vraw "$T/kid.vhd" "$T/got"
same "$T/got" "$T/want" "child content after compact"
expect_exit 0 "$VHD" check "$T/kid.vhd"

note "fixed disks are refused"
"$VHD" create --fixed "$T/f.vhd" 1M
expect_exit 1 "$VHD" compact "$T/f.vhd"
assert_stderr "fixed"
echo "compact checks passed"
