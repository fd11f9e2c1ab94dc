#!/bin/bash
# The tiny template: a small VHD that boots the Debian kernel and the busybox
# test userspace of scripts/guest/ every way vhdvisor boots a disk.
#
#   images/recipes/tiny/build.sh [--print] [OUT]
#     -> $VHDVISOR_CACHE/images/tiny.vhd; --print prints that path, OUT gets
#        a copy (how `vhdvisor image build tiny` calls it, see recipe.env)
#
# The disk: an MBR table with one active Linux partition at 1 MiB holding an
# ext4 filesystem made by mke2fs -d (no mount needed to populate it) with the
# busybox tree, /boot/vmlinuz, /boot/initrd.img, /boot/grub/grub.cfg and
# /boot/extlinux/extlinux.conf; GRUB2 (i386-pc) installed in the MBR and the
# gap before the partition for firmware (SeaBIOS) boot, without loop devices
# or mounts (the build machines' kernel does not scan partitions). The guest's userspace is its
# initramfs; the kernel command line's vv.run=... drives it (scripts/guest/init)
# and, with nothing asked, it prints its marker and powers off.
# Converted raw -> dynamic VHD with our own `vhd convert`.
#
# Idempotent: rebuilt only when this recipe or the guest material changed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CACHE=${VHDVISOR_CACHE:-/var/cache/vhdvisor}
OUT=$CACHE/images
VHD_TOOL=${VHD:-}
SIZE_MIB=64
PART_START=2048   # sectors

log() { echo "tiny: $*" >&2; }

print=0 dest=
for a in "$@"; do
	case $a in
	--print) print=1 ;;
	-*) log "usage: build.sh [--print] [OUT]"; exit 2 ;;
	*) dest=$a ;;
	esac
done
# finish: hand the cached image to the caller as asked.
finish() {
	[[ -n $dest ]] && cp --reflink=auto "$OUT/tiny.vhd" "$dest"
	((print)) && echo "$OUT/tiny.vhd"
	exit 0
}

if [[ -z $VHD_TOOL ]]; then
	for c in "$ROOT/build/bin/vhd" "$(command -v vhd || true)"; do
		[[ -n $c && -x $c ]] && { VHD_TOOL=$c; break; }
	done
fi
[[ -x $VHD_TOOL ]] || { log "the vhd tool is not built (make, or set VHD=)"; exit 1; }

GUEST=$(bash "$ROOT/scripts/guest/build.sh" --print)
stamp="$(cat "$0" | sha256sum | cut -c1-16) $(cat "$GUEST/.stamp")"
mkdir -p "$OUT"
exec 8>"$OUT/.tiny.lock"
flock 8
if [[ -f $OUT/tiny.vhd && -f $OUT/.tiny.stamp && $(cat "$OUT/.tiny.stamp") == "$stamp" ]]; then
	finish
fi
for c in sfdisk mke2fs grub-mkimage; do
	command -v "$c" >/dev/null || { log "$c is missing (make deps)"; exit 1; }
done

work=$(mktemp -d "$OUT/.tiny-build.XXXXXX")
cleanup() {
	rm -rf "$work"
}
trap cleanup EXIT

log "populating the root filesystem"
tree=$work/tree
cp -a "$GUEST/rootfs" "$tree"
mkdir -p "$tree/boot/grub/i386-pc" "$tree/boot/extlinux"
cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst "$tree/boot/grub/i386-pc/"
cp "$GUEST/vmlinuz" "$tree/boot/vmlinuz"
cp "$GUEST/initrd.img" "$tree/boot/initrd.img"
cat >"$tree/boot/grub/grub.cfg" <<'CFG'
# vhdvisor tiny template
set default=0
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry 'vhdvisor tiny (Debian kernel, busybox)' {
	insmod part_msdos
	insmod ext2
	set root=(hd0,msdos1)
	linux /boot/vmlinuz console=ttyS0 quiet
	initrd /boot/initrd.img
}
CFG
cat >"$tree/boot/extlinux/extlinux.conf" <<'CFG'
DEFAULT tiny
LABEL tiny
	KERNEL /boot/vmlinuz
	INITRD /boot/initrd.img
	APPEND console=ttyS0 quiet
CFG

log "partitioning and making the filesystem"
raw=$work/tiny.raw
truncate -s "${SIZE_MIB}M" "$raw"
echo "start=$PART_START, type=83, bootable" | sfdisk -q --label dos "$raw"
part_bytes=$(( (SIZE_MIB << 20) - PART_START * 512 ))
mke2fs -q -t ext4 -L tiny -E offset=$((PART_START * 512)) -d "$tree" \
	"$raw" "$((part_bytes / 1024))k"

log "installing GRUB2 (i386-pc)"
# What grub-install does, without a loop device: core.img (its first sector
# is diskboot.img, whose default blocklist reads the rest from sector 2 on)
# goes to sector 1, boot.img's code (440 bytes; its default kernel sector
# is 1) to the MBR, the partition table stays. $prefix points at the
# partition, where the modules were copied with the tree.
grub-mkimage -O i386-pc -p '(hd0,msdos1)/boot/grub' -o "$work/core.img" \
	biosdisk part_msdos ext2
core_sectors=$(( ($(stat -c %s "$work/core.img") + 511) / 512 ))
((core_sectors < PART_START - 1)) || { log "core.img does not fit before the partition"; exit 1; }
dd if="$work/core.img" of="$raw" bs=512 seek=1 conv=notrunc status=none
dd if=/usr/lib/grub/i386-pc/boot.img of="$raw" bs=440 count=1 conv=notrunc status=none

log "converting to a dynamic VHD"
"$VHD_TOOL" convert -O vhd "$raw" "$work/tiny.vhd"
mv -f "$work/tiny.vhd" "$OUT/tiny.vhd"
echo "$stamp" >"$OUT/.tiny.stamp"
log "ready: $OUT/tiny.vhd"
finish
