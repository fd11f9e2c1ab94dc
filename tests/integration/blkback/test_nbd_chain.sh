#!/bin/bash
# 20 differencing children of one template served by one `vhd serve`
# process share one open parent (checked in /proc/PID/fd); each reads the
# template through its chain and writes only itself; --snapshot leaves the
# image untouched and removes its temporary child.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-io qemu-img nbdinfo

S=$T/sock
qemu-img create -q -f vpc -o subformat=dynamic "$T/base.vhd" 64M
qemu-io -f vpc -c 'write -P 0x7e 0 4M' "$T/base.vhd" >/dev/null
base_sum=$(sha "$T/base.vhd")
kids=()
for i in $(seq 1 20); do
	"$VHD" snapshot "$T/base.vhd" "$T/kid$i.vhd" || fail "vhd snapshot kid$i failed"
	kids+=("$T/kid$i.vhd")
done

serve_start "$S" "${kids[@]}"
n=$(find /proc/"$SERVE_PID"/fd -lname "$T/base.vhd" | wc -l)
assert_eq "$n" 1 "open descriptors of the shared parent"
n=$(find /proc/"$SERVE_PID"/fd -lname "$T/kid*.vhd" | wc -l)
assert_eq "$n" 20 "open descriptors of the children"

for i in 1 7 20; do
	qio -f raw -c 'read -P 0x7e 0 4M' -c "write -P $i 1M 64k" -c "read -P $i 1M 64k" \
		"$(nbd_uri "$S" "kid$i.vhd")"
done
qio -f raw -c 'read -P 0x7e 1M 64k' "$(nbd_uri "$S" kid2.vhd)"  # no other child's write
note "qemu:allocation-depth tells which layer holds each range"
nbdinfo --map=qemu:allocation-depth "$(nbd_uri "$S" kid7.vhd)" >"$T/depth"
grep -Eq '^ *0 +1048576 +2 +backing depth 2' "$T/depth" || fail "no parent range: $(cat "$T/depth")"
grep -Eq '^ *1048576 +65536 +1 +local' "$T/depth" || fail "no local range: $(cat "$T/depth")"
grep -Eq ' 0 +absent' "$T/depth" || fail "no unallocated range: $(cat "$T/depth")"
nbdinfo --list "nbd+unix://?socket=$S" >"$T/list" || fail "nbdinfo --list failed"
assert_eq "$(grep -c '^export=' "$T/list")" 20 "exports listed"
serve_stop

assert_eq "$(sha "$T/base.vhd")" "$base_sum" "template after 20 children were served"
qio -f vpc -r -c 'read -P 7 1M 64k' "$T/kid7.vhd"  # kid7's write is in kid7.vhd

note "--snapshot: writes are visible while serving, gone afterwards"
mkdir "$T/tmp"
TMPDIR=$T/tmp serve_start "$S" --snapshot "$T/base.vhd"
U=$(nbd_uri "$S" base.vhd)
qio -f raw -c 'write -P 0x99 0 1M' -c 'read -P 0x99 0 1M' -c 'read -P 0x7e 1M 3M' "$U"
[[ -n $(ls "$T/tmp") ]] || fail "no temporary child while serving --snapshot"
serve_stop
assert_eq "$(sha "$T/base.vhd")" "$base_sum" "image after --snapshot"
[[ -z $(ls "$T/tmp") ]] || fail "snapshot leftovers: $(ls "$T/tmp")"

note "missing and corrupt images are refused with vhd/'s reason"
expect_exit 1 "$VHD" serve --socket "$S" "$T/none.vhd"
assert_stderr 'none.vhd'
cp "$T/kid1.vhd" "$T/bad.vhd"
printf 'garbage!' | dd of="$T/bad.vhd" bs=1 seek=512 conv=notrunc 2>/dev/null
expect_exit 1 "$VHD" serve --socket "$S" "$T/bad.vhd"
assert_stderr 'bad.vhd'
[[ ! -e $S ]] || fail "socket created for an image that could not be opened"
