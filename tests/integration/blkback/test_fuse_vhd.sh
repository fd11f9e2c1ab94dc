#!/bin/bash
# vhd mount of a dynamic VHD: mkfs.ext4, files copied in through a loop
# mount (or debugfs), umount, remount, same checksums, e2fsck clean; the
# image stays readable by qemu-img. A differencing child mounted
# read-write leaves its parent byte-identical.
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd mkfs.ext4 debugfs e2fsck fusermount3 qemu-img
[[ -e /dev/fuse ]] || skip "no /dev/fuse"

M=$T/mnt
L=$T/loop
mkdir -p "$M" "$L"
qemu-img create -q -f vpc -o subformat=dynamic "$T/d.vhd" 128M
head -c 5M /dev/urandom >"$T/f1"
head -c 300k /dev/urandom >"$T/f2"

"$VHD" mount "$T/d.vhd" "$M" || fail "vhd mount failed"
at_exit "umount $L; fusermount3 -u $M"
mkfs.ext4 -q -F "$M/disk" || fail "mkfs.ext4 on the FUSE disk failed"
if mount -o loop "$M/disk" "$L" 2>"$T/loop.err"; then
	note "copying through a loop mount"
	cp "$T/f1" "$T/f2" "$L/"
	umount "$L" || fail "umount of the loop mount failed"
else
	note "loop mount unavailable ($(cat "$T/loop.err")); copying with debugfs"
	debugfs -w -R "write $T/f1 f1" "$M/disk" >/dev/null 2>&1 || fail "debugfs write f1"
	debugfs -w -R "write $T/f2 f2" "$M/disk" >/dev/null 2>&1 || fail "debugfs write f2"
fi
sum=$(sha "$M/disk")
"$VHD" umount "$M" || fail "vhd umount failed"

note "the image read by qemu-img is what the mount showed"
qemu-img convert -f vpc -O raw "$T/d.vhd" "$T/via-qemu.raw"
assert_eq "$(sha "$T/via-qemu.raw")" "$sum" "qemu's view"
e2fsck -fn "$T/via-qemu.raw" >"$T/fsck" 2>&1 || fail "e2fsck: $(cat "$T/fsck")"

note "remount: same bytes, same files"
"$VHD" mount "$T/d.vhd" "$M" || fail "remount failed"
assert_eq "$(sha "$M/disk")" "$sum" "remounted disk"
e2fsck -fn "$M/disk" >"$T/fsck" 2>&1 || fail "e2fsck on the mount: $(cat "$T/fsck")"
for f in f1 f2; do
	debugfs -R "dump $f $T/$f.back" "$M/disk" >/dev/null 2>&1
	cmp "$T/$f" "$T/$f.back" || fail "$f differs after remount"
done
"$VHD" umount "$M" || fail "vhd umount failed"

note "a differencing child mounted read-write leaves its parent alone"
psum=$(sha "$T/d.vhd")
"$VHD" snapshot "$T/d.vhd" "$T/kid.vhd" || fail "vhd snapshot failed"
"$VHD" mount "$T/kid.vhd" "$M" || fail "mount of the child failed"
debugfs -w -R "rm f1" "$M/disk" >/dev/null 2>&1 || fail "debugfs rm in the child"
head -c 1M /dev/urandom | dd of="$M/disk" bs=1M seek=100 conv=notrunc 2>/dev/null ||
	fail "raw write into the child"
"$VHD" umount "$M" || fail "vhd umount of the child failed"
assert_eq "$(sha "$T/d.vhd")" "$psum" "parent after writing its child"
# qemu's vpc driver cannot read differencing disks: look via a new mount
"$VHD" mount --read-only "$T/kid.vhd" "$M" || fail "read-only mount of the child failed"
debugfs -R "ls" "$M/disk" >"$T/kidls" 2>/dev/null
"$VHD" umount "$M"
grep -q f2 "$T/kidls" || fail "f2 missing in the child: $(cat "$T/kidls")"
if grep -q f1 "$T/kidls"; then fail "rm f1 did not reach the child"; fi
