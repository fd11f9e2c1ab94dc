#!/bin/bash
# vhd mount of a raw image: mkfs.ext4 on DIR/disk, files in with debugfs,
# vhd umount flushes and detaches, a remount shows the same bytes, e2fsck
# is clean; a read-only mount refuses writes.
source "$VV_ROOT/tests/integration/lib.sh"
need_cmd mkfs.ext4 debugfs e2fsck fusermount3 python3
[[ -e /dev/fuse ]] || skip "no /dev/fuse"

M=$T/mnt
mkdir -p "$M"
truncate -s 64M "$T/disk.img"
head -c 3M /dev/urandom >"$T/payload"

"$VHD" mount "$T/disk.img" "$M" || fail "vhd mount failed"
at_exit "fusermount3 -u $M"
[[ $(ls "$M") == disk ]] || fail "mount shows '$(ls "$M")', want just disk"
assert_eq "$(stat -c %s "$M/disk")" 67108864 "disk size"
mkfs.ext4 -q -F "$M/disk" || fail "mkfs.ext4 on the FUSE disk failed"
debugfs -w -R "write $T/payload payload" "$M/disk" >/dev/null 2>&1 || fail "debugfs write failed"
sum_mounted=$(sha "$M/disk")
"$VHD" umount "$M" || fail "vhd umount failed"
if mountpoint -q "$M"; then fail "still mounted after vhd umount"; fi

assert_eq "$(sha "$T/disk.img")" "$sum_mounted" "image after umount vs what the mount showed"
e2fsck -fn "$T/disk.img" >"$T/fsck" 2>&1 || fail "e2fsck: $(cat "$T/fsck")"

note "remount read-only: same bytes, writes refused"
"$VHD" mount --read-only "$T/disk.img" "$M" || fail "read-only mount failed"
assert_eq "$(sha "$M/disk")" "$sum_mounted" "remounted disk"
debugfs -R "dump payload $T/payload.back" "$M/disk" >/dev/null 2>&1
cmp "$T/payload" "$T/payload.back" || fail "file read back through the mount differs"
if dd if=/dev/zero of="$M/disk" bs=4k count=1 conv=notrunc 2>/dev/null; then
	fail "write to a read-only mount succeeded"
fi
"$VHD" umount "$M" || fail "vhd umount (ro) failed"
assert_eq "$(sha "$T/disk.img")" "$sum_mounted" "image after the read-only mount"

note "fusermount3 -u alone also flushes: the server writes back and exits"
"$VHD" mount "$T/disk.img" "$M" || fail "mount failed"
pid=$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.vhdvisor.pid").decode())' "$M/disk")
kill -0 "$pid" || fail "no server process $pid"
head -c 1M /dev/urandom >"$T/blob"
dd if="$T/blob" of="$M/disk" bs=1M seek=40 conv=notrunc status=none
fusermount3 -u "$M"
for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "server $pid still running after fusermount3 -u"
cmp -n 1M -i 0:41943040 "$T/blob" "$T/disk.img" || fail "write lost after fusermount3 -u"

note "--foreground: SIGTERM flushes, detaches and exits 0"
"$VHD" mount --foreground "$T/disk.img" "$M" 2>"$T/fg.err" &
fg=$!
for ((i = 0; i < 100; i++)); do [[ -e $M/disk ]] && break; sleep 0.05; done
[[ -e $M/disk ]] || fail "foreground mount did not come up: $(cat "$T/fg.err")"
head -c 1M /dev/urandom >"$T/blob2"
dd if="$T/blob2" of="$M/disk" bs=1M seek=50 conv=notrunc status=none
kill -TERM $fg
rc=0
wait $fg || rc=$?
assert_eq "$rc" 0 "exit status of a foreground mount after SIGTERM"
if mountpoint -q "$M"; then fail "still mounted after SIGTERM"; fi
cmp -n 1M -i 0:52428800 "$T/blob2" "$T/disk.img" || fail "write lost after SIGTERM"
