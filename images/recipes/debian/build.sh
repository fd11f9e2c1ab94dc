#!/bin/bash
# The Debian template: a minimal bootable Debian 12 made with debootstrap.
#
#   images/recipes/debian/build.sh OUT     (as root)
#
# debootstrap --variant=minbase with linux-image-amd64, systemd-sysv, udev
# (systemd-networkd, DHCP on every en* link), from the Debian mirror of the
# host's apt sources (the only archive reachable from the build machines).
# The disk: an MBR table with one active Linux partition at 1 MiB holding
# ext4 made by mke2fs -d (no mounts, no loop devices) with a fixed UUID;
# grub.cfg boots the kernel and initramfs with root=UUID=... console=ttyS0
# (read by `vhdvisor run --boot image`), and GRUB2 (i386-pc) goes in the
# MBR gap for firmware boot, as in the tiny recipe. /etc/machine-id is left
# empty so that every clone makes its own; root's password stays locked.
# Converted raw -> dynamic VHD with our `vhd convert` into OUT.
#
# Downloaded packages are kept in $VHDVISOR_CACHE/debootstrap (default
# /var/cache/vhdvisor) for the next build.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CACHE=${VHDVISOR_CACHE:-/var/cache/vhdvisor}
SUITE=bookworm
SIZE_MIB=2048
PART_START=2048   # sectors
INCLUDE=linux-image-amd64,systemd-sysv,udev

log() { echo "debian: $*" >&2; }

[[ $# == 1 && $1 != -* ]] || { log "usage: build.sh OUT"; exit 2; }
dest=$1
[[ $(id -u) == 0 ]] || { log "debootstrap needs root"; exit 1; }
VHD_TOOL=${VHD:-}
if [[ -z $VHD_TOOL ]]; then
	for c in "$ROOT/build/bin/vhd" "$(command -v vhd || true)"; do
		[[ -n $c && -x $c ]] && { VHD_TOOL=$c; break; }
	done
fi
[[ -x $VHD_TOOL ]] || { log "the vhd tool is not built (make, or set VHD=)"; exit 1; }
for c in debootstrap sfdisk mke2fs grub-mkimage; do
	command -v "$c" >/dev/null || { log "$c is missing (make deps)"; exit 1; }
done

# The first non-security Debian archive of the host's apt sources.
mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		sed -n -e 's/^URIs:[[:space:]]*//p' \
			-e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "$f"
	done | tr ' ' '\n' | grep -v -e security -e '^$' | grep -m1 debian
}
MIRROR=$(mirror) || { log "no Debian mirror in the apt sources"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/vv-debian.XXXXXX")
cleanup() {
	# debootstrap leaves its mounts behind when it is interrupted
	umount -l "$work/tree/proc" "$work/tree/sys" "$work/tree/dev/pts" "$work/tree/dev" \
		2>/dev/null || true
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
tree=$work/tree
mkdir -p "$CACHE/debootstrap"

log "debootstrap $SUITE from $MIRROR (minutes)"
debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$CACHE/debootstrap" \
	"$SUITE" "$tree" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
	{ tail -5 "$work/debootstrap.log" >&2; log "debootstrap failed"; exit 1; }

log "configuring"
kver=$(ls "$tree/lib/modules" | sort -V | tail -1)
[[ -f $tree/boot/vmlinuz-$kver && -f $tree/boot/initrd.img-$kver ]] ||
	{ log "no kernel or initramfs for $kver in the tree"; exit 1; }
uuid=$(cat /proc/sys/kernel/random/uuid)
echo debian >"$tree/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n' >"$tree/etc/hosts"
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >"$tree/etc/fstab"
: >"$tree/etc/machine-id"
rm -f "$tree/var/lib/dbus/machine-id"
printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' >"$tree/etc/systemd/network/20-dhcp.network"
chroot "$tree" systemctl enable -q systemd-networkd
rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
mkdir -p "$tree/boot/grub/i386-pc"
cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst "$tree/boot/grub/i386-pc/"
cat >"$tree/boot/grub/grub.cfg" <<CFG
# vhdvisor debian template
set default=0
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry 'Debian GNU/Linux 12 ($kver)' {
	insmod part_msdos
	insmod ext2
	set root=(hd0,msdos1)
	linux /boot/vmlinuz-$kver root=UUID=$uuid ro console=ttyS0
	initrd /boot/initrd.img-$kver
}
CFG

log "partitioning and making the filesystem"
raw=$work/debian.raw
truncate -s "${SIZE_MIB}M" "$raw"
echo "start=$PART_START, type=83, bootable" | sfdisk -q --label dos "$raw"
part_bytes=$(( (SIZE_MIB << 20) - PART_START * 512 ))
mke2fs -q -t ext4 -L debian -U "$uuid" -E offset=$((PART_START * 512)) -d "$tree" \
	"$raw" "$((part_bytes / 1024))k"

log "installing GRUB2 (i386-pc)"
grub-mkimage -O i386-pc -p '(hd0,msdos1)/boot/grub' -o "$work/core.img" \
	biosdisk part_msdos ext2
core_sectors=$(( ($(stat -c %s "$work/core.img") + 511) / 512 ))
((core_sectors < PART_START - 1)) || { log "core.img does not fit before the partition"; exit 1; }
dd if="$work/core.img" of="$raw" bs=512 seek=1 conv=notrunc status=none
dd if=/usr/lib/grub/i386-pc/boot.img of="$raw" bs=440 count=1 conv=notrunc status=none

log "converting to a dynamic VHD"
"$VHD_TOOL" convert -O vhd "$raw" "$dest"
log "ready: $dest (kernel $kver)"
