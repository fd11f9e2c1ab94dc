#!/bin/bash
# The main job of the README (`make demo`): build what is needed, make the
# tiny template VHD from its recipe, and boot a VM from a linked clone of it
# with `vhdvisor run`, its console on this terminal. The guest prints its
# marker and powers itself off; the demo then ends.
#
#   BUILD=build scripts/demo.sh    (make demo runs `make` first)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
VHD=$BUILD/bin/vhd
VHDVISOR=$BUILD/bin/vhdvisor
say() { printf '\n==> %s\n' "$*"; }

if [[ ! -x $VHD || ! -x $VHDVISOR ]]; then
	say "building"
	make -C "$ROOT" -j"$(nproc)" BUILD="$BUILD" all
fi

say "guest material (Debian kernel, busybox initramfs) from Debian packages"
bash "$ROOT/scripts/guest/build.sh"
say "the tiny template (images/recipes/tiny)"
tiny=$(VHD=$VHD bash "$ROOT/images/recipes/tiny/build.sh" --print)
"$VHD" info "$tiny" | sed 's/^/    /'

work=$(mktemp -d "${TMPDIR:-/tmp}/vhdvisor-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "a linked clone of it (a differencing VHD; the template stays untouched)"
"$VHD" create --parent "$tiny" "$work/demo.vhd"

cpus=2
say "vhdvisor run --disk $work/demo.vhd --cpus $cpus --mem 256M"
echo "    (kernel and initrd read out of the VHD's ext4 partition via grub.cfg;"
echo "     the disk served by our NBD export; QEMU with TCG where there is no"
echo "     hardware virtualization; the guest powers itself off)"
echo
start=$(date +%s.%N)
rc=0
"$VHDVISOR" run --disk "$work/demo.vhd" --cpus "$cpus" --mem 256M \
	--append "vv.run=cpus,mem" || rc=$?
secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
echo
if ((rc == 0)); then
	say "the guest powered off (exit 0) after ${secs}s"
else
	say "vhdvisor run exited $rc after ${secs}s"
fi
exit "$rc"
