#!/bin/bash
# Import/export round trips keep the guest-visible content (SHA-256) for
# raw, dynamic, fixed and differencing VHDs and qcow2; equal content gets
# equal ids whatever the format; Azure exports are whole MiB fixed VHDs.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd qemu-img jq

mkraw "$T/disk.raw" 48M
want=$(sha "$T/disk.raw")

note "raw import, then export in every format"
vv image import "$T/disk.raw" --format raw --name base:1 --os debian-12 >"$T/out"
id=$(image_id base:1)
[[ ${#id} == 64 ]] || fail "id '$id'"
for f in raw vhd vhd-fixed; do
	vv image export base "$T/exp.$f" --format "$f" --verify
done
assert_eq "$(sha "$T/exp.raw")" "$want" "export raw"
qraw "$T/exp.vhd" "$T/exp.vhd.raw"
assert_eq "$(sha "$T/exp.vhd.raw")" "$want" "export vhd read by qemu-img"
qraw "$T/exp.vhd-fixed" "$T/exp.fixed.raw"
assert_eq "$(sha "$T/exp.fixed.raw")" "$want" "export vhd-fixed read by qemu-img"
assert_eq "$(stat -c %s "$T/exp.vhd-fixed")" $((48 * 1048576 + 512)) "fixed file size"
(( $(stat -c %s "$T/exp.vhd") < 20 * 1048576 )) || fail "dynamic export is not sparse"
(( $(du -k "$T/exp.raw" | cut -f1) < 20000 )) || fail "raw export is not sparse"

note "the same content as dynamic, fixed VHD and qcow2 gets the same id"
"$VHD" convert -O vhd "$T/disk.raw" "$T/dyn.vhd"
"$VHD" convert -O vhd-fixed "$T/disk.raw" "$T/fixed.vhd"
qemu-img convert -f raw -O qcow2 "$T/disk.raw" "$T/disk.qcow2"
for f in dyn.vhd fixed.vhd disk.qcow2; do
	vv image import "$T/$f" --json >"$T/imp.json"
	assert_eq "$(jq -r .id "$T/imp.json")" "$id" "id of $f"
	assert_eq "$(jq -r .existed "$T/imp.json")" true "$f stored once"
done
assert_eq "$(nfiles "$VHDVISOR_STATE/images")" 1 "one file per content"
assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "tmp left empty"

note "differencing chain: flattened on import, content kept"
"$VHD" snapshot "$T/dyn.vhd" "$T/child.vhd"
head -c 100000 /dev/urandom >"$T/marker"
"$VHD" write "$T/child.vhd" 2000000 --from "$T/marker" >/dev/null
vraw "$T/child.vhd" "$T/child.raw"
vv image import "$T/child.vhd" --name child >/dev/null
vv image export child "$T/child.exp" --format raw
assert_eq "$(sha "$T/child.exp")" "$(sha "$T/child.raw")" "chain round trip"
[[ $(image_id child) != "$id" ]] || fail "child has its parent's id"
"$VHD" info "$VHDVISOR_STATE/images/$(image_id child).vhd" | grep -qi dynamic ||
	fail "stored image is not a standalone dynamic VHD"

note "azure: fixed, whole MiB, readable by qemu-img and libvhdi"
mkraw "$T/odd.raw" $((33 * 1048576 + 3072))
vv image import "$T/odd.raw" --format raw --name odd >/dev/null
vv image export odd "$T/odd.azure" --format azure
assert_eq "$(stat -c %s "$T/odd.azure")" $((34 * 1048576 + 512)) "azure file size"
qemu-img info -f vpc "$T/odd.azure" >/dev/null || fail "qemu-img cannot read the azure export"
qemu-img info --output=json --image-opts \
	"driver=vpc,force_size_calc=current_size,file.filename=$T/odd.azure" >"$T/qi.json"
assert_eq "$(jq -r '.["virtual-size"]' "$T/qi.json")" $((34 * 1048576)) "qemu-img size"
if command -v vhdiinfo >/dev/null; then
	vhdiinfo "$T/odd.azure" >"$T/vi.txt"
	grep -q 'Disk type.*Fixed' "$T/vi.txt" || fail "vhdiinfo: not fixed"
	grep -q "Media size.*($((34 * 1048576)) bytes)" "$T/vi.txt" || fail "vhdiinfo size"
fi
qraw "$T/odd.azure" "$T/odd.back"
cmp -n $((33 * 1048576 + 3072)) "$T/odd.raw" "$T/odd.back" || fail "azure content"
tail -c 1045504 "$T/odd.back" | cmp -s - <(head -c 1045504 /dev/zero) || fail "azure padding not zero"

note "listing, names, versions, labels"
vv image import "$T/odd.raw" --format raw --name base >/dev/null    # same content as odd: base:2
assert_eq "$(image_id base)" "$(image_id odd)" "base = latest version"
assert_eq "$(image_id base:1)" "$id" "base:1 unchanged"
vv image tag base:1 golden:v1 >/dev/null
assert_eq "$(image_id golden:v1)" "$id" "tag"
vv image label golden:v1 ci
vv image list --json >"$T/list.json"
assert_eq "$(jq length "$T/list.json")" 3 "three images"
assert_eq "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .names | join(" ")' "$T/list.json")" \
	"base:1 golden:v1" "names"
assert_eq "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .labels[0]' "$T/list.json")" ci "label"
assert_eq "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .os' "$T/list.json")" debian-12 "os"
vv image list | grep -q "base:1,golden:v1" || fail "text list"
vv image untag golden:v1
expect_exit 1 vv image show golden:v1
assert_stderr "no image 'golden:v1'"
expect_exit 1 vv image export base "$T/exp.raw" --format raw
assert_stderr "exists"

note "rm"
vv image rm child >/dev/null
expect_exit 1 vv image show child
assert_eq "$(nfiles "$VHDVISOR_STATE/images")" 2 "file removed with the image"

note "a damaged stored image is caught by export --verify"
# blocks are stored in disk order, so the tail marker of base:1 ends 100
# bytes before the footer
f=$VHDVISOR_STATE/images/$id.vhd
at=$(( $(stat -c %s "$f") - 512 - 100 ))
assert_eq "$(dd if="$f" bs=1 skip=$at count=11 status=none)" "tail marker" "layout assumption"
printf 'T' | dd of="$f" bs=1 seek=$at conv=notrunc status=none
vv image export base:1 "$T/unverified.raw" --format raw   # no check: no cost
expect_exit 1 vv image export base:1 "$T/b2.raw" --format raw --verify
assert_stderr "does not match its id"
[[ ! -e $T/b2.raw ]] || fail "a damaged export was left behind"
