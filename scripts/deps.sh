#!/bin/bash
# Install every build, test and run dependency of vhdvisor from Debian's
# archive. Idempotent: when everything is present it only runs dpkg-query.
set -euo pipefail

PKGS=(
	# build
	build-essential pkg-config clang libclang-rt-14-dev
	libcriterion-dev zlib1g-dev libfuse3-dev libsqlite3-dev sqlite3
	libext2fs-dev liblzma-dev liburing-dev libjson-c-dev libmnl-dev libdevmapper-dev
	libvhdi-dev libssl-dev libarchive-dev libmicrohttpd-dev libgnutls28-dev
	libcurl4-gnutls-dev
	# independent judges and real components used by tests and at run time
	qemu-utils qemu-system-x86 libvhdi-utils fuse3 libnbd-bin
	e2fsprogs busybox-static cpio xz-utils kmod file
	seabios ovmf grub-pc-bin fdisk dnsmasq-base nftables iproute2 util-linux
	hyperfine fio iperf3 jq python3 bc debootstrap genisoimage
	socat
	grub-efi-amd64-bin dosfstools mtools
	curl libblkid-dev lvm2
	# make iso (scripts/iso/build.sh)
	squashfs-tools xorriso
	chromium   # the web console's end-to-end test (playwright-core drives it)
)

# npm tools the tests use (swagger-cli validates vhdvisord's OpenAPI
# document), pinned by scripts/npm/package-lock.json and installed with
# `npm ci` into $VHDVISOR_CACHE/npm; a changed lockfile reinstalls them.
NPM_DIR=${VHDVISOR_CACHE:-/var/cache/vhdvisor}/npm
NPM_SRC=$(dirname "$(readlink -f "$0")")/npm
npm_tools() {
	if [[ -x $NPM_DIR/node_modules/.bin/swagger-cli ]] &&
	   cmp -s "$NPM_SRC/package-lock.json" "$NPM_DIR/package-lock.json"; then
		return 0
	fi
	command -v npm >/dev/null || { echo "deps: npm missing (Node.js)" >&2; return 1; }
	if [[ $(id -u) != 0 ]]; then
		echo "deps: missing npm tools in $NPM_DIR; run 'make deps' as root" >&2
		return 1
	fi
	echo "deps: npm ci (scripts/npm/package-lock.json) into $NPM_DIR"
	mkdir -p "$NPM_DIR"
	cp "$NPM_SRC/package.json" "$NPM_SRC/package-lock.json" "$NPM_DIR/"
	(cd "$NPM_DIR" && npm ci --no-audit --no-fund)
}
# the web console's packages (appliance/web/package-lock.json), so that
# `make` builds it offline afterwards
web_npm() {
	[[ $(id -u) == 0 ]] || return 0
	"$(dirname "$NPM_SRC")/../appliance/web/build.sh" --deps
}

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $st == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#PKGS[@]} packages present"
	npm_tools
	web_npm
	exit
fi

if [[ $(id -u) != 0 ]]; then
	echo "deps: missing: ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/lists/.vhdvisor-updated
if [[ ! -e $stamp ]] || [[ -n $(find "$stamp" -mmin +1440 2>/dev/null) ]]; then
	apt-get update -q
	touch "$stamp"
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_tools
web_npm
