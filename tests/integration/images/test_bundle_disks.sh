#!/bin/bash
# VM bundles carry the VM's extra data disks: a VM with two data disks
# holding markers is exported (manifest version 2, each disk's file with
# its SHA-256, index and size) and imported on another state directory:
# `vm disk list` matches, the contents and markers read back, and the guest
# there sees both disks. A bundle with a changed byte in a data disk, a
# data disk whose size disagrees with the manifest, or two disks with one
# index, or a manifest of a newer version, is refused with nothing left
# behind. A VM without data disks still makes a version-1 bundle.
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq tar
A=$T/hostA B=$T/hostB C=$T/hostC
a() { VHDVISOR_STATE=$A vv "$@"; }
b() { VHDVISOR_STATE=$B vv "$@"; }

truncate -s 32M "$T/tmpl.raw"
a image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
a vm create web --from tmpl >/dev/null
a vm create bare --from tmpl >/dev/null
a vm export bare --bundle "$T/bare.tar"
assert_eq "$(tar -xOf "$T/bare.tar" manifest.json | jq .version)" 1 "version without disks"

assert_eq "$(a vm disk add web 16M)" "disk 1 of web" "disk 1"
assert_eq "$(a vm disk add web 24M)" "disk 2 of web" "disk 2"
a vm disk add web 8M >/dev/null
a vm disk rm web 2   # indexes need not be dense: 1 and 3 travel
d1=$(a vm disk list web --json | jq -r '.[1].file')
d3=$(a vm disk list web --json | jq -r '.[2].file')
printf 'MARKER-ONE' >"$T/m1"
printf 'MARKER-THREE' >"$T/m3"
"$VHD" write "$d1" 5000000 --from "$T/m1" >/dev/null
"$VHD" write "$d3" 12288 --from "$T/m3" >/dev/null
head -c 300000 /dev/urandom >"$T/rnd"
"$VHD" write "$d1" 9000000 --from "$T/rnd" >/dev/null
vraw "$d1" "$T/d1A.raw"
vraw "$d3" "$T/d3A.raw"
a vm disk list web --json | jq -c '[.[] | [.disk, .size, .boot]]' >"$T/listA"

a vm export web --bundle "$T/web.tar"
tar -xOf "$T/web.tar" manifest.json >"$T/man.json"
assert_eq "$(jq .version "$T/man.json")" 2 "manifest version with disks"
assert_eq "$(jq -c '[.vm.disks[] | [.idx, .size]]' "$T/man.json")" \
	"[[1,$((16 << 20))],[3,$((8 << 20))]]" "disks in the manifest"
for f in "$d1" "$d3"; do
	rel=${f#"$A"/}
	assert_eq "$(jq -r --arg p "$rel" '.files[] | select(.path == $p) | .sha256' "$T/man.json")" \
		"$(sha "$f")" "hash of $rel in the manifest"
done

note "imported on host B"
b vm import "$T/web.tar" >/dev/null
b vm disk list web --json | jq -c '[.[] | [.disk, .size, .boot]]' >"$T/listB"
assert_eq "$(cat "$T/listB")" "$(cat "$T/listA")" "vm disk list on host B"
e1=$(b vm disk list web --json | jq -r '.[1].file')
e3=$(b vm disk list web --json | jq -r '.[2].file')
[[ $e1 == "$B/vms/web/"*.vhd && $e3 == "$B/vms/web/"*.vhd ]] || fail "disks not in B's VM folder"
assert_eq "$("$VHD" read "$e1" 5000000 10)" MARKER-ONE "marker on disk 1"
assert_eq "$("$VHD" read "$e3" 12288 12)" MARKER-THREE "marker on disk 3"
vraw "$e1" "$T/d1B.raw"
vraw "$e3" "$T/d3B.raw"
assert_eq "$(sha "$T/d1B.raw")" "$(sha "$T/d1A.raw")" "disk 1 content"
assert_eq "$(sha "$T/d3B.raw")" "$(sha "$T/d3A.raw")" "disk 3 content"
b vm import "$T/web.tar" web2 >/dev/null
assert_eq "$(b vm disk list web2 --json | jq length)" 3 "second copy's disks"
[[ $(b vm disk list web2 --json | jq -r '.[1].file') == "$B/vms/web2/"* ]] ||
	fail "second copy's disk 1 not in its own folder"
b vm rm web2
# indexes past the count (after many add/rm) travel as they are
mkdir "$T/w"
tar -C "$T/w" -xf "$T/web.tar"
jq '.vm.disks[1].idx = 40' "$T/w/manifest.json" >"$T/m" && mv "$T/m" "$T/w/manifest.json"
(cd "$T/w" && tar -cf "$T/idx40.tar" manifest.json images vms)
b vm import "$T/idx40.tar" web40 >/dev/null
assert_eq "$(b vm disk list web40 --json | jq -c '[.[] | .disk]')" "[0,1,40]" "disk indexes kept"
b vm rm web40
[[ ! -e $B/vms/web2 ]] || fail "vm rm left the second copy's files"
VHDVISOR_STATE=$B consistent

note "damaged bundles are refused whole"
mkdir "$T/x"
tar -C "$T/x" -xf "$T/web.tar"
rel1=${d1#"$A"/}
cp -a "$T/x" "$T/y"
cp -a "$T/x" "$T/z"
# one byte of disk 1's data: the VHD stays valid, the hash does not
off=$(( $(stat -c %s "$T/x/$rel1") - 512 - 4096 ))
printf 'Z' | dd of="$T/x/$rel1" bs=1 seek=$off conv=notrunc status=none
"$VHD" check "$T/x/$rel1" >/dev/null || fail "the tampered disk should still be a sound VHD"
(cd "$T/x" && tar -cf "$T/bad.tar" manifest.json images vms)
expect_exit 1 env VHDVISOR_STATE=$C "$VHDVISOR" vm import "$T/bad.tar"
assert_stderr "$rel1: SHA-256 or size mismatch"
# a manifest whose hashes match but whose disk size lies
jq '(.vm.disks[0].size) = 1048576' "$T/y/manifest.json" >"$T/m" && mv "$T/m" "$T/y/manifest.json"
(cd "$T/y" && tar -cf "$T/size.tar" manifest.json images vms)
expect_exit 1 env VHDVISOR_STATE=$C "$VHDVISOR" vm import "$T/size.tar"
assert_stderr "the manifest says 1048576"
jq '(.vm.disks[1].idx) = 1' "$T/z/manifest.json" >"$T/m" && mv "$T/m" "$T/z/manifest.json"
(cd "$T/z" && tar -cf "$T/dup.tar" manifest.json images vms)
expect_exit 1 env VHDVISOR_STATE=$C "$VHDVISOR" vm import "$T/dup.tar"
assert_stderr "data disk 1 listed twice"
jq '.version = 3' "$T/man.json" >"$T/x/manifest.json"
(cd "$T/x" && tar -cf "$T/v3.tar" manifest.json images vms)
expect_exit 1 env VHDVISOR_STATE=$C "$VHDVISOR" image import "$T/v3.tar"
assert_stderr "format version 3; this vhdvisor reads versions 1 to 2"
assert_eq "$(VHDVISOR_STATE=$C vv image list --json | jq length)" 0 "no image on host C"
[[ $(find "$C" -name '*.vhd' | wc -l) == 0 ]] || fail "VHD files left on host C"
assert_eq "$(VHDVISOR_STATE=$C vv vm list --json | jq length)" 0 "no VM on host C"
assert_eq "$(find "$C/images" "$C/tmp" "$C/vms" -type f | wc -l)" 0 "no files on host C"

note "the moved VM boots on host B with its data disks"
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || G=
if [[ -z $G || ! -e $G/vmlinux ]] || ! command -v qemu-system-x86_64 >/dev/null; then
	skip "no guest material or QEMU here (everything before the boot passed)"
fi
export PATH=$VV_BUILD/bin:$PATH
at_exit "VHDVISOR_STATE=$B '$VHDVISOR' vm stop web"
b vm start web --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
	--append "vv.run=read:vdb:8788:293,read:vdc:12:1,poweroff" >/dev/null
for _ in $(seq 1 240); do
	b vm status web --json | jq -e '.running == false' >/dev/null && break
	sleep 1
done
assert_eq "$(b vm status web --json | jq .running)" false "powered off"
b vm console web | grep -a '^VV-READ-SHA=' | tr -d '\r' >"$T/shas"
want1=$(dd if="$T/d1A.raw" bs=1024 skip=8788 count=293 status=none | sha256sum | cut -d' ' -f1)
want3=$(dd if="$T/d3A.raw" bs=1024 skip=12 count=1 status=none | sha256sum | cut -d' ' -f1)
assert_eq "$(cat "$T/shas")" "VV-READ-SHA=$want1
VV-READ-SHA=$want3" "the guest reads both data disks"
