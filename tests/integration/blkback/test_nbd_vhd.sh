#!/bin/bash
# vhd serve on a dynamic VHD made by qemu-img: qemu-io and qemu-img convert
# write through NBD, two clients at once; qemu-img map, nbdinfo --map and
# nbdcopy see the sparseness; afterwards qemu-img -f vpc, libvhdi and vhd
# read agree byte for byte with what NBD showed.
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-io qemu-img nbdinfo nbdcopy

S=$T/sock
qemu-img create -q -f vpc -o subformat=dynamic "$T/d.vhd" 256M
head -c 6M /dev/urandom >"$T/src"
qsize=$(qemu-img info -f vpc --output=json "$T/d.vhd" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
serve_start "$S" "$T/d.vhd"
U=$(nbd_uri "$S" d.vhd)
size=$(nbdinfo --size "$U")
assert_eq "$size" "$qsize" "export size vs qemu's idea of the VHD's size"

note "qemu-img convert writes 6 MiB at the start"
qemu-img convert -n -f raw -O raw "$T/src" "$U" || fail "qemu-img convert into NBD failed"

note "two qemu-io clients write at once"
qemu-io -f raw -c 'write -P 0x41 64M 8M' -c 'write -P 0x42 100M 512' "$U" >"$T/c1" 2>&1 &
c1=$!
qemu-io -f raw -c 'write -P 0x43 80M 8M' -c 'write -z 80M 4k' "$U" >"$T/c2" 2>&1 &
c2=$!
wait $c1 || fail "client 1: $(cat "$T/c1")"
wait $c2 || fail "client 2: $(cat "$T/c2")"
qio -f raw -c 'read -P 0x41 64M 8M' -c 'read -P 0x43 84M 4M' -c 'read -P 0 80M 4k' \
	-c 'read -P 0x42 100M 512' -c 'read -P 0 200M 1M' "$U"

note "FUA writes, trim and write zeroes"
qio -f raw -c 'write -f -P 0x44 120M 64k' -c 'write -P 0x45 130M 4M' -c 'discard 130M 2M' \
	-c 'discard 133M 100k' -c 'write -z 133M 4k' -c 'read -P 0x44 120M 64k' \
	-c 'read -P 0x45 132M 1M' -c 'read -P 0 133M 4k' -c 'read -P 0x45 139464704 1020k' "$U"
qio -f raw -c 'write -P 0x45 130M 2M' "$U"   # restore for the readers below

note "block status: qemu-img map and nbdinfo --map list the allocated ranges"
qemu-img map -f raw --output=json "$U" >"$T/qmap"
# allocated: [0,6M), [64M,72M), [80M,88M) and 100M's 2 MiB block
grep -q '"start": 0, "length": 6291456, .*"data": true' "$T/qmap" ||
	fail "qemu-img map lacks [0,6M) as data: $(cat "$T/qmap")"
grep -q '"start": 6291456, .*"data": false' "$T/qmap" || fail "no hole after 6M: $(cat "$T/qmap")"
nbdinfo --map "$U" >"$T/nmap"
grep -Eq '^ *67108864 +8388608 +0 +data' "$T/nmap" || fail "nbdinfo --map lacks 64M+8M: $(cat "$T/nmap")"
grep -Eq '^ *75497472 +8388608 +3 +hole,zero' "$T/nmap" || fail "nbdinfo --map lacks the hole at 72M: $(cat "$T/nmap")"
grep -Eq '^ *83886080 +8388608 +0 +data' "$T/nmap" || fail "nbdinfo --map lacks 80M+8M: $(cat "$T/nmap")"
grep -Eq '^ *104857600 +2097152 +0 +data' "$T/nmap" || fail "nbdinfo --map lacks 100M block: $(cat "$T/nmap")"
grep -Eq 'hole,zero' "$T/nmap" || fail "nbdinfo --map shows no holes"

note "nbdcopy reads the whole export (sparse-aware)"
nbdcopy "$U" "$T/via-nbd.raw" || fail "nbdcopy failed"
cmp -n 6M "$T/src" "$T/via-nbd.raw" || fail "nbdcopy data differs from what was written"
serve_stop

note "independent readers agree with NBD"
qemu-img convert -f vpc -O raw "$T/d.vhd" "$T/via-qemu.raw"
cmp "$T/via-nbd.raw" "$T/via-qemu.raw" || fail "qemu-img -f vpc reads something else"
"$VHD" read "$T/d.vhd" 0 "$size" >"$T/via-vhd.raw" || fail "vhd read failed"
cmp "$T/via-nbd.raw" "$T/via-vhd.raw" || fail "vhd read reads something else"
"$VHD" check "$T/d.vhd" >"$T/check" 2>&1 || fail "vhd check: $(cat "$T/check")"
if command -v vhdimount >/dev/null && [[ -e /dev/fuse ]]; then
	mkdir "$T/vm"
	vhdimount "$T/d.vhd" "$T/vm" >/dev/null 2>&1 || fail "vhdimount failed"
	at_exit "fusermount -u $T/vm; fusermount3 -u $T/vm"
	cmp -n "$size" "$T/via-nbd.raw" "$T/vm/vhdi1" || fail "libvhdi reads something else"
	fusermount3 -u "$T/vm" 2>/dev/null || fusermount -u "$T/vm"
fi
command -v vhdiinfo >/dev/null && { vhdiinfo "$T/d.vhd" >/dev/null || fail "vhdiinfo rejects the image"; }
exit 0
