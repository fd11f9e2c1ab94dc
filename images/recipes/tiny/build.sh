#!/bin/bash
# The tiny template: a small VHD that boots the Debian kernel and the busybox
# test userspace of scripts/guest/ every way vhdvisor boots a disk.
#
#   images/recipes/tiny/build.sh [--uefi] [--print] [OUT]
#     -> $VHDVISOR_CACHE/images/tiny.vhd (tiny-uefi.vhd with --uefi);
#        --print prints that path, OUT gets a copy (how `vhdvisor image
#        build tiny` calls it, see recipe.env; ../tiny-uefi/ adds --uefi)
#
# The BIOS disk: an MBR table with one active Linux partition at 1 MiB
# holding an ext4 filesystem made by mke2fs -d (no mount needed to populate
# it) with the busybox tree, /boot/vmlinuz, /boot/initrd.img,
# /boot/grub/grub.cfg and /boot/extlinux/extlinux.conf; GRUB2 (i386-pc)
# installed in the MBR and the gap before the partition for firmware
# (SeaBIOS) boot, without loop devices or mounts (the build machines' kernel
# does not scan partitions).
# The UEFI disk (--uefi, like a Hyper-V/Azure Gen2 disk): a GPT table with
# an EFI System Partition (FAT made by mkfs.vfat in a file, filled with
# mtools) holding GRUB2 (x86_64-efi) at the removable path
# EFI/BOOT/BOOTX64.EFI, and the same ext4 root as partition 2; GRUB's prefix
# is (,gpt2)/boot/grub on the disk it was loaded from.
# The guest's userspace is its initramfs; the kernel command line's
# vv.run=... drives it as the tests' scripted guest (scripts/guest/init);
# with nothing asked it stays up as a small lab machine (DHCP on eth0, a
# login on ttyS0, shutdown on the ACPI power button). Under firmware boot, grub.cfg adds what
# `vhdvisor run --append` put in the SMBIOS OEM string "vv.append=..."
# (type 11) to the kernel command line.
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
ESP_MIB=8         # --uefi: the ESP at PART_START, the root after it

log() { echo "tiny: $*" >&2; }

print=0 uefi=0 dest=
for a in "$@"; do
	case $a in
	--print) print=1 ;;
	--uefi) uefi=1 ;;
	-*) log "usage: build.sh [--uefi] [--print] [OUT]"; exit 2 ;;
	*) dest=$a ;;
	esac
done
name=tiny
((uefi)) && name=tiny-uefi
# finish: hand the cached image to the caller as asked.
finish() {
	[[ -n $dest ]] && cp --reflink=auto "$OUT/$name.vhd" "$dest"
	((print)) && echo "$OUT/$name.vhd"
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
exec 8>"$OUT/.$name.lock"
flock 8
if [[ -f $OUT/$name.vhd && -f $OUT/.$name.stamp && $(cat "$OUT/.$name.stamp") == "$stamp" ]]; then
	finish
fi
tools=(sfdisk mke2fs grub-mkimage)
((uefi)) && tools+=(mkfs.vfat mmd mcopy)
for c in "${tools[@]}"; do
	command -v "$c" >/dev/null || { log "$c is missing (make deps)"; exit 1; }
done
grub_dir=/usr/lib/grub/i386-pc
((uefi)) && grub_dir=/usr/lib/grub/x86_64-efi
[[ -d $grub_dir ]] || { log "$grub_dir is missing (make deps)"; exit 1; }

work=$(mktemp -d "$OUT/.$name-build.XXXXXX")
cleanup() {
	rm -rf "$work"
}
trap cleanup EXIT

# grub_cfg PARTMOD ROOT_LINE: the grub.cfg of the template. Under firmware
# boot `vhdvisor run --append ARGS` reaches the guest as the SMBIOS OEM
# string "vv.append=ARGS" (type 11; the byte at offset 4 is the string
# count, so --get-string 4 is the first string); the entry adds ARGS to the
# kernel command line. vhdvisor's own grub.cfg reader (image boot) takes the
# last linux line of the entry, the plain one, and adds --append itself.
grub_cfg() {
	cat <<CFG
# vhdvisor $name template
set default=0
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry 'vhdvisor tiny (Debian kernel, busybox)' {
	insmod $1
	insmod ext2
	$2
	set vv_append=
	if smbios --type 11 --get-string 4 --set vv_oem; then
		regexp --set 1:vv_append '^vv\.append=(.*)\$' "\$vv_oem"
	fi
	if [ -n "\$vv_append" ]; then
		linux /boot/vmlinuz console=ttyS0 quiet \$vv_append
	else
		linux /boot/vmlinuz console=ttyS0 quiet
	fi
	initrd /boot/initrd.img
}
CFG
}

log "populating the root filesystem"
tree=$work/tree
cp -a "$GUEST/rootfs" "$tree"
mkdir -p "$tree/boot/grub/${grub_dir##*/}" "$tree/boot/extlinux"
cp "$grub_dir"/*.mod "$grub_dir"/*.lst "$tree/boot/grub/${grub_dir##*/}/"
cp "$GUEST/vmlinuz" "$tree/boot/vmlinuz"
cp "$GUEST/initrd.img" "$tree/boot/initrd.img"
if ((uefi)); then
	grub_cfg part_gpt "# root: the prefix's partition, (,gpt2) of the boot disk"
else
	grub_cfg part_msdos "set root=(hd0,msdos1)"
fi >"$tree/boot/grub/grub.cfg"
cat >"$tree/boot/extlinux/extlinux.conf" <<'CFG'
DEFAULT tiny
LABEL tiny
	KERNEL /boot/vmlinuz
	INITRD /boot/initrd.img
	APPEND console=ttyS0 quiet
CFG

# bios_disk RAW: MBR, the root partition, GRUB2 for SeaBIOS.
bios_disk() {
	local part_bytes core_sectors

	echo "start=$PART_START, type=83, bootable" | sfdisk -q --label dos "$1"
	part_bytes=$(( (SIZE_MIB << 20) - PART_START * 512 ))
	mke2fs -q -t ext4 -L tiny -E offset=$((PART_START * 512)) -d "$tree" \
		"$1" "$((part_bytes / 1024))k"
	log "installing GRUB2 (i386-pc)"
	# What grub-install does, without a loop device: core.img (its first
	# sector is diskboot.img, whose default blocklist reads the rest from
	# sector 2 on) goes to sector 1, boot.img's code (440 bytes; its
	# default kernel sector is 1) to the MBR, the partition table stays.
	# $prefix points at the partition, where the modules were copied with
	# the tree.
	grub-mkimage -O i386-pc -p '(hd0,msdos1)/boot/grub' -o "$work/core.img" \
		biosdisk part_msdos ext2
	core_sectors=$(( ($(stat -c %s "$work/core.img") + 511) / 512 ))
	((core_sectors < PART_START - 1)) ||
		{ log "core.img does not fit before the partition"; exit 1; }
	dd if="$work/core.img" of="$1" bs=512 seek=1 conv=notrunc status=none
	dd if="$grub_dir/boot.img" of="$1" bs=440 count=1 conv=notrunc status=none
}

# uefi_disk RAW: GPT, the ESP with GRUB2 at the removable path, the root
# partition after it (1 MiB left at the end for the backup GPT).
uefi_disk() {
	local esp_sectors=$((ESP_MIB * 2048)) root_start root_sectors

	root_start=$((PART_START + esp_sectors))
	root_sectors=$((SIZE_MIB * 2048 - root_start - 2048))
	sfdisk -q "$1" <<-PT
		label: gpt
		start=$PART_START, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"
		start=$root_start, size=$root_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
	PT
	mke2fs -q -t ext4 -L tiny -E offset=$((root_start * 512)) -d "$tree" \
		"$1" "$((root_sectors / 2))k"
	log "making the EFI System Partition (GRUB2 x86_64-efi)"
	grub-mkimage -O x86_64-efi -p '(,gpt2)/boot/grub' -o "$work/BOOTX64.EFI" \
		part_gpt ext2
	mkfs.vfat -C -n ESP "$work/esp.img" $((ESP_MIB * 1024)) >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
	MTOOLS_SKIP_CHECK=1 mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
	dd if="$work/esp.img" of="$1" bs=512 seek=$PART_START conv=notrunc status=none
}

log "partitioning and making the filesystems"
raw=$work/$name.raw
truncate -s "${SIZE_MIB}M" "$raw"
if ((uefi)); then
	uefi_disk "$raw"
else
	bios_disk "$raw"
fi

log "converting to a dynamic VHD"
"$VHD_TOOL" convert -O vhd "$raw" "$work/$name.vhd"
mv -f "$work/$name.vhd" "$OUT/$name.vhd"
echo "$stamp" >"$OUT/.$name.stamp"
log "ready: $OUT/$name.vhd"
finish
