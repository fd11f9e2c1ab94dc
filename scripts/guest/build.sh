#!/bin/bash
# Fetches and builds the guest material of vhdvisor from Debian packages
# only, cached outside the source tree:
#
#   $VHDVISOR_CACHE/guest/   (default /var/cache/vhdvisor/guest)
#     vmlinuz      the Debian kernel (bzImage) of linux-image-amd64
#     vmlinux      its uncompressed ELF (PVH entry; boots fastest under TCG)
#     initrd.img   busybox initramfs (cpio.gz) with the virtio/ext4/isofs
#                  modules, scripts/guest/init as /init and udhcpc.script
#     rootfs/      the initramfs tree (the tiny recipe reuses it)
#     kver         the kernel release, e.g. 6.1.0-56-amd64
#
# Idempotent: when nothing changed it returns at once.
#
#   scripts/guest/build.sh [--print|--refresh]
#     --print: print the guest folder; --refresh: rebuild from the archive
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VHDVISOR_CACHE:-/var/cache/vhdvisor}
OUT=$CACHE/guest
MODULES=(virtio_pci virtio_blk virtio_net virtio_console ext4 pvpanic_pci button evdev isofs)

log() { echo "guest: $*" >&2; }

# The stamp names what the cache was built from: the hash of this script and
# of init (package versions are resolved only when building; --refresh
# rebuilds against the archive's current ones).
stamp=$(cat "$0" "$HERE/init" "$HERE/udhcpc.script" | sha256sum | cut -c1-16)
mkdir -p "$CACHE"
exec 9>"$CACHE/.guest.lock"
flock 9   # one builder at a time; the others then find the stamp
if [[ ${1:-} != --refresh && -f $OUT/.stamp && $(cat "$OUT/.stamp") == "$stamp" ]]; then
	[[ ${1:-} == --print ]] && echo "$OUT"
	exit 0
fi

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
[[ -n $kpkg ]] || { log "cannot resolve linux-image-amd64 (apt-get update?)"; exit 1; }

mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/.guest-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

debs=$CACHE/debs
mkdir -p "$debs"
for p in "$kpkg" busybox-static; do
	if ! ls "$debs/${p}_"*.deb >/dev/null 2>&1; then
		log "downloading $p"
		(cd "$work" && apt-get download -q "$p" >/dev/null 2>&1) ||
			{ log "apt-get download $p failed"; exit 1; }
		mv "$work/${p}_"*.deb "$debs/"
	fi
done

log "extracting"
dpkg-deb -x "$(ls "$debs/${kpkg}_"*.deb | tail -1)" "$work/k"
dpkg-deb -x "$(ls "$debs/busybox-static_"*.deb | tail -1)" "$work/b"
kver=$(ls "$work/k/lib/modules")
cp "$work/k/boot/vmlinuz-$kver" "$work/vmlinuz"

# The bzImage payload is XZ: find the stream magic, decompress, keep the ELF.
log "cutting vmlinux out of the bzImage"
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$work/vmlinuz" | head -1 | cut -d: -f1)
[[ -n $off ]] || { log "no XZ payload in vmlinuz"; exit 1; }
tail -c +$((off + 1)) "$work/vmlinuz" | xz -dc --single-stream >"$work/vmlinux" 2>/dev/null || true
[[ $(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] ||
	{ log "decompressed payload is not an ELF"; exit 1; }

log "resolving module order"
depmod -b "$work/k" "$kver"
root=$work/rootfs
mkdir -p "$root"/{bin,dev,proc,sys,etc,tmp,mnt,lib/modules}
: >"$root/etc/modules.order"
for m in "${MODULES[@]}"; do
	modprobe -d "$work/k" -S "$kver" --show-depends "$m" | while read -r kind path _; do
		[[ $kind == insmod ]] || continue
		rel=${path#"$work/k/lib/modules/$kver/"}
		grep -qxF "$rel" "$root/etc/modules.order" && continue
		mkdir -p "$root/lib/modules/$(dirname "$rel")"
		cp "$path" "$root/lib/modules/$rel"
		echo "$rel" >>"$root/etc/modules.order"
	done
done
# Modules are compressed with xz in newer packages; busybox insmod wants them plain.
find "$root/lib/modules" -name '*.ko.xz' -exec xz -d {} +
sed -i 's/\.ko\.xz$/.ko/' "$root/etc/modules.order"

cp "$work/b/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$HERE/init" "$root/init"
install -m 0755 "$HERE/udhcpc.script" "$root/etc/udhcpc.script"
log "packing initramfs"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio -o -0 -H newc --owner=0:0 --quiet) | gzip -9 >"$work/initrd.img"

echo "$kver" >"$work/kver"
rm -rf "$OUT.new"
mkdir -p "$OUT.new"
mv "$work/vmlinuz" "$work/vmlinux" "$work/initrd.img" "$work/kver" "$root" "$OUT.new/"
echo "$stamp" >"$OUT.new/.stamp"
rm -rf "$OUT.old"
[[ -d $OUT ]] && mv "$OUT" "$OUT.old"
mv "$OUT.new" "$OUT"
rm -rf "$OUT.old"
log "ready in $OUT (kernel $kver)"
[[ ${1:-} == --print ]] && echo "$OUT"
exit 0
