#!/bin/bash
# Bad input gets a clear error and leaves nothing half-imported: a corrupt
# VHD, a truncated one, a chain with its parent missing, a foreign image
# qemu-img cannot read, a missing file, and a full disk (small tmpfs).
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3

mkraw "$T/d.raw" 16M
"$VHD" convert -O vhd "$T/d.raw" "$T/good.vhd"
nothing_imported() {
	assert_eq "$(vv image list --json | jq length)" 0 "images after: $1"
	assert_eq "$(nfiles "$VHDVISOR_STATE/images")" 0 "files after: $1"
	assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "tmp after: $1"
}

note "corrupt dynamic header"
cp "$T/good.vhd" "$T/bad.vhd"
printf 'XXXXXXXX' | dd of="$T/bad.vhd" bs=1 seek=512 conv=notrunc status=none
expect_exit 1 vv image import "$T/bad.vhd" --name bad
assert_stderr "not imported"
nothing_imported corrupt

note "BAT entry pointing past the end of the file"
cp "$T/good.vhd" "$T/bat.vhd"
bat=$(( $(od -An -j $((512 + 16)) -N8 --endian=big -t u8 "$T/bat.vhd") ))
printf '\x00\xff\xff\x00' | dd of="$T/bat.vhd" bs=1 seek=$bat conv=notrunc status=none
expect_exit 1 vv image import "$T/bat.vhd"
assert_stderr "damaged|not imported"
nothing_imported bat

note "truncated"
head -c 1500000 "$T/good.vhd" >"$T/trunc.vhd"
expect_exit 1 vv image import "$T/trunc.vhd"
assert_stderr "not imported"
nothing_imported truncated

note "missing parent"
mkdir "$T/chain"
cp "$T/good.vhd" "$T/chain/base.vhd"
"$VHD" snapshot "$T/chain/base.vhd" "$T/chain/child.vhd"
rm "$T/chain/base.vhd"
expect_exit 1 vv image import "$T/chain/child.vhd"
assert_stderr "parent.*not found|base.vhd"
nothing_imported "missing parent"

note "foreign image qemu-img cannot read"
{ printf 'QFI\xfb'; head -c 4000 /dev/urandom; } >"$T/junk.qcow2"
expect_exit 1 vv image import "$T/junk.qcow2"
assert_stderr "qemu-img cannot read"
nothing_imported qcow2
expect_exit 1 vv image import "$T/nope.raw" --format raw
assert_stderr "No such file"

note "full disk: a 24 MiB tmpfs as the state directory"
if [[ $(id -u) == 0 ]] && mkdir -p "$T/small" && mount -t tmpfs -o size=24M tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount -l '$T/small'"
	truncate -s 1G "$T/big.raw"
	head -c 40M /dev/urandom | dd of="$T/big.raw" bs=1M seek=100 conv=notrunc status=none
	VHDVISOR_STATE=$T/small/state expect_exit 1 vv image import "$T/big.raw" --format raw --name big
	assert_stderr "[Nn]o space"
	VHDVISOR_STATE=$T/small/state nothing_imported "full disk"
	# the catalog still works, and a small image fits
	VHDVISOR_STATE=$T/small/state vv image import "$T/d.raw" --format raw --name small >/dev/null
	VHDVISOR_STATE=$T/small/state consistent
	assert_eq "$(VHDVISOR_STATE=$T/small/state vv image list --json | jq length)" 1 "small fits"
else
	note "SKIPPED full-disk part: cannot mount a tmpfs here"
fi

note "a good image still imports into the same catalog"
vv image import "$T/good.vhd" --name good >/dev/null
consistent
