#!/bin/bash
# scripts/iso/build.sh: `make iso`. Builds $BUILD/vhdvisor.iso, the turnkey
# installer/live ISO (issue 15), from Debian 12 packages only:
#
#   1. debootstrap a minbase Debian 12 root, then apt-get the kernel,
#      live-boot and vhdvisor's runtime dependencies into it (the packages
#      vhdvisor's own binaries link against are found with ldd + dpkg -S);
#      every .deb is cached in $VHDVISOR_CACHE/iso/debs (outside the tree);
#   2. `make install DESTDIR=` our binaries, add the console menu
#      (scripts/iso/menu.sh) and its systemd units;
#   3. write the package manifest (dpkg-query) into the root and the ISO;
#   4. squashfs (xz) the root; grub-mkrescue (GRUB2 for BIOS and UEFI,
#      xorriso) makes a hybrid image for CD and USB.
#
# Needs root (debootstrap, chroot). Environment: BUILD (build), VHDVISOR_CACHE
# (/var/cache/vhdvisor), VV_ISO_MIRROR (http://deb.debian.org/debian).
set -euo pipefail

SRC=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
BUILD=$(readlink -f "${BUILD:-build}")
CACHE=$(readlink -f "${VHDVISOR_CACHE:-/var/cache/vhdvisor}")/iso
MIRROR=${VV_ISO_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
WORK=$BUILD/iso
ROOT=$WORK/root
STAGE=$WORK/stage
OUT=$BUILD/vhdvisor.iso

log() { printf 'iso: %s\n' "$*" >&2; }
die() { printf 'iso: error: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot)"
for c in debootstrap mksquashfs grub-mkrescue xorriso mformat; do
	command -v "$c" >/dev/null || die "$c missing: run 'make deps'"
done
[[ -d /usr/lib/grub/i386-pc && -d /usr/lib/grub/x86_64-efi ]] ||
	die "GRUB modules for BIOS and UEFI missing (grub-pc-bin, grub-efi-amd64-bin)"

# The packages of the live (and installed) system. Recommends are not
# installed; everything else they need comes in as a dependency.
PKGS=(
	linux-image-amd64 live-boot initramfs-tools systemd-sysv udev kmod dbus
	iproute2 iputils-ping procps less util-linux fdisk e2fsprogs dosfstools
	lvm2 thin-provisioning-tools grub2-common grub-pc-bin grub-efi-amd64-bin
	efibootmgr qemu-system-x86 qemu-utils dnsmasq-base nftables ovmf seabios
	ca-certificates openssl
)

mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT
bind() { mount --bind "$1" "$2"; mounted+=("$2"); }

# The Debian packages vhdvisor's programs link against (ldd, dpkg -S), so
# the list follows the code without being kept by hand.
runtime_pkgs() {
	local b lib
	for b in "$BUILD"/bin/*; do
		ldd "$b" | awk '/=> \//{print $3}'
	done | sort -u | while read -r lib; do
		lib=$(readlink -f "$lib")
		dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null ||
			dpkg -S "${lib#/usr}" 2>/dev/null || true
	done | sed 's/:.*//' | sort -u
}

t0=$(date +%s)
log "make all"
make -C "$SRC" --no-print-directory BUILD="$BUILD" -j2 all >/dev/null
mapfile -t RT < <(runtime_pkgs)
log "runtime libraries of our programs: ${RT[*]}"

mkdir -p "$CACHE/debs" "$WORK"
rm -rf "$ROOT" "$STAGE"
log "debootstrap $SUITE (minbase) from $MIRROR, cache $CACHE/debs"
debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$ROOT" "$MIRROR" \
	>"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"; }

cat >"$ROOT/etc/apt/sources.list" <<EOT
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOT
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
bind /proc "$ROOT/proc"
bind /sys "$ROOT/sys"
bind /dev "$ROOT/dev"
bind "$CACHE/debs" "$ROOT/var/cache/apt/archives"
echo vhdvisor-live >"$ROOT/etc/hostname"
log "apt-get install ${#PKGS[@]}+${#RT[@]} packages"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
chroot "$ROOT" apt-get -q update >"$WORK/apt.log" 2>&1 ||
	{ tail -20 "$WORK/apt.log" >&2; die "apt-get update failed"; }
chroot "$ROOT" apt-get -y -q -o Dpkg::Options::=--force-confdef \
	install --no-install-recommends "${PKGS[@]}" "${RT[@]}" >>"$WORK/apt.log" 2>&1 ||
	{ tail -30 "$WORK/apt.log" >&2; die "apt-get install failed (log: $WORK/apt.log)"; }

log "our programs (make install DESTDIR)"
make -C "$SRC" --no-print-directory BUILD="$BUILD" install DESTDIR="$ROOT" PREFIX=/usr/local >/dev/null
install -D -m 0755 "$SRC/scripts/iso/menu.sh" "$ROOT/usr/lib/vhdvisor/menu"
bash "$SRC/scripts/iso/overlay.sh" "$ROOT"

# The guest material, so `vhdvisor image build tiny` works offline.
if [[ -d ${VHDVISOR_CACHE:-/var/cache/vhdvisor}/guest ]]; then
	mkdir -p "$ROOT/var/cache/vhdvisor"
	cp -a "${VHDVISOR_CACHE:-/var/cache/vhdvisor}/guest" "$ROOT/var/cache/vhdvisor/"
fi

log "manifest"
# shellcheck disable=SC2016 # dpkg-query's own ${fields}
chroot "$ROOT" dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' |
	LC_ALL=C sort >"$WORK/manifest.txt"
install -D -m 0644 "$WORK/manifest.txt" "$ROOT/usr/share/vhdvisor/manifest.txt"
git -C "$SRC" rev-parse HEAD >"$ROOT/usr/share/vhdvisor/commit" 2>/dev/null || echo unknown >"$ROOT/usr/share/vhdvisor/commit"

log "trim"
cleanup; mounted=()
rm -f "$ROOT/usr/sbin/policy-rc.d"
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/log/*.log \
	"$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
	"$ROOT"/tmp/* "$ROOT"/var/tmp/*
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C*' ! -name locale.alias -exec rm -rf {} +
mod=$(echo "$ROOT"/lib/modules/*/kernel)
rm -rf "$mod/sound" "$mod/drivers/media" "$mod/drivers/net/wireless" "$mod/drivers/infiniband" \
	"$mod/drivers/staging" "$mod/drivers/bluetooth" "$mod/net/bluetooth" "$mod/net/wireless" \
	"$mod/net/mac80211" "$mod/drivers/gpu/drm/amd" "$mod/drivers/gpu/drm/nouveau" "$mod/drivers/iio"
kver=$(basename "$(dirname "$mod")")
chroot "$ROOT" depmod "$kver"
: >"$ROOT/etc/machine-id"

log "squashfs"
mkdir -p "$STAGE/live" "$STAGE/boot/grub"
cp "$ROOT/boot/vmlinuz-$kver" "$STAGE/live/vmlinuz"
cp "$ROOT/boot/initrd.img-$kver" "$STAGE/live/initrd.img"
cp "$WORK/manifest.txt" "$STAGE/manifest.txt"
mksquashfs "$ROOT" "$STAGE/live/filesystem.squashfs" -comp xz -b 1M -noappend \
	-no-progress -wildcards -e 'proc/*' 'sys/*' 'dev/*' 'run/*' >"$WORK/mksquashfs.log"
install -m 0644 "$SRC/scripts/iso/grub.cfg" "$STAGE/boot/grub/grub.cfg"

log "grub-mkrescue"
grub-mkrescue -o "$OUT.tmp" "$STAGE" -- -volid VHDVISOR >"$WORK/grub-mkrescue.log" 2>&1 ||
	{ tail -20 "$WORK/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
mv "$OUT.tmp" "$OUT"
chmod 0644 "$OUT"
log "$OUT: $(($(stat -c %s "$OUT") >> 20)) MiB, $(wc -l <"$WORK/manifest.txt") packages, $(($(date +%s) - t0)) s"
