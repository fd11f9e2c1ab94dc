#!/bin/bash
# Bundles move images and whole VMs between state directories ("hosts"):
# content, names, snapshots and identity arrive intact, the VM boots there
# (when guest material can be built), and a bundle with a wrong hash or an
# unlisted file is refused with nothing imported.
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq tar
A=$T/hostA B=$T/hostB C=$T/hostC

mkraw "$T/disk.raw" 40M
VHDVISOR_STATE=$A vv image import "$T/disk.raw" --format raw --name deb:12 --os debian-12 >/dev/null
id=$(VHDVISOR_STATE=$A image_id deb:12)
VHDVISOR_STATE=$A vv vm create web --from deb:12 --cpus 2 >/dev/null
disk=$(VHDVISOR_STATE=$A vv vm show web --json | jq -r .disk)
printf 'first-state' >"$T/m1"; printf 'after-snap!' >"$T/m2"
"$VHD" write "$disk" 3000000 --from "$T/m1" >/dev/null
VHDVISOR_STATE=$A vv vm snapshot web s1 >/dev/null
disk=$(VHDVISOR_STATE=$A vv vm show web --json | jq -r .disk)
"$VHD" write "$disk" 3000000 --from "$T/m2" >/dev/null
vraw "$disk" "$T/webA.raw"
VHDVISOR_STATE=$A vv vm show web --json >"$T/webA.json"
VHDVISOR_STATE=$A vv image export deb:12 --bundle "$T/img.tar"
VHDVISOR_STATE=$A vv vm export web --bundle "$T/vm.tar"
[[ $(tar tf "$T/vm.tar" | sed -n 1p) == manifest.json ]] || fail "manifest is not first"
# without data disks, bundles stay version 1 (what older vhdvisors read)
assert_eq "$(tar -xOf "$T/vm.tar" manifest.json | jq .version)" 1 "VM bundle version"
assert_eq "$(tar -xOf "$T/img.tar" manifest.json | jq .version)" 1 "image bundle version"

note "image bundle into host B"
VHDVISOR_STATE=$B vv image import "$T/img.tar" >/dev/null
assert_eq "$(VHDVISOR_STATE=$B image_id deb:12)" "$id" "id on host B"
assert_eq "$(VHDVISOR_STATE=$B vv image show deb:12 --json | jq -r .os)" debian-12 "metadata"
VHDVISOR_STATE=$B vv image export deb:12 "$T/b.raw" --format raw
assert_eq "$(sha "$T/b.raw")" "$(sha "$T/disk.raw")" "content on host B"

note "VM bundle into host B (the image is already there)"
VHDVISOR_STATE=$B vv image import "$T/vm.tar" --json >"$T/vmimp.json"
assert_eq "$(jq -r .vm "$T/vmimp.json")" web "VM name"
assert_eq "$(jq -r .images_known "$T/vmimp.json")" 1 "image known"
VHDVISOR_STATE=$B vv vm show web --json >"$T/webB.json"
for k in mac uuid machine_id cpus image cloud_init; do
	assert_eq "$(jq -r .$k "$T/webB.json")" "$(jq -r .$k "$T/webA.json")" "$k kept"
done
vraw "$(jq -r .disk "$T/webB.json")" "$T/webB.raw"
assert_eq "$(sha "$T/webB.raw")" "$(sha "$T/webA.raw")" "VM disk on host B"
VHDVISOR_STATE=$B vv vm revert web s1
assert_eq "$("$VHD" read "$(VHDVISOR_STATE=$B vv vm show web --json | jq -r .disk)" 3000000 11)" \
	first-state "snapshot s1 on host B"
expect_exit 1 env VHDVISOR_STATE=$B "$VHDVISOR" vm import "$T/vm.tar"
assert_stderr "exists here"
VHDVISOR_STATE=$B vv vm import "$T/vm.tar" web-copy >/dev/null
vraw "$(VHDVISOR_STATE=$B vv vm show web-copy --json | jq -r .disk)" "$T/copy.raw"
assert_eq "$(sha "$T/copy.raw")" "$(sha "$T/webA.raw")" "imported under a new name"
VHDVISOR_STATE=$B consistent

note "damaged bundles are refused whole"
mkdir "$T/x"
tar -C "$T/x" -xf "$T/vm.tar"
layer=$(cd "$T/x" && ls vms/web/*.vhd | head -1)
cp -a "$T/x" "$T/y"
# one byte inside the image's data: the VHD stays valid, the hash does not
off=$(( $(stat -c %s "$T/x/images/$id.vhd") - 512 - 4096 ))
printf 'Z' | dd of="$T/x/images/$id.vhd" bs=1 seek=$off conv=notrunc status=none
(cd "$T/x" && tar -cf "$T/bad.tar" manifest.json images vms)
expect_exit 1 env VHDVISOR_STATE=$C "$VHDVISOR" image import "$T/bad.tar"
assert_stderr "SHA-256 or size mismatch"
echo extra >"$T/y/vms/web/zz.vhd"
(cd "$T/y" && tar -cf "$T/extra.tar" manifest.json images vms)
expect_exit 1 env VHDVISOR_STATE=$C "$VHDVISOR" image import "$T/extra.tar"
assert_stderr "not in the manifest"
rm "$T/y/$layer" "$T/y/vms/web/zz.vhd"
(cd "$T/y" && tar -cf "$T/missing.tar" manifest.json images vms)
expect_exit 1 env VHDVISOR_STATE=$C "$VHDVISOR" image import "$T/missing.tar"
assert_stderr "missing"
assert_eq "$(VHDVISOR_STATE=$C vv image list --json | jq length)" 0 "no image on host C"
assert_eq "$(VHDVISOR_STATE=$C vv vm list --json | jq length)" 0 "no VM on host C"
assert_eq "$(find "$C/images" "$C/tmp" "$C/vms" -type f | wc -l)" 0 "no files on host C"

note "the moved VM boots on host B"
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || G=
if [[ -n $G && -e $G/vmlinux ]] && command -v qemu-system-x86_64 >/dev/null; then
	export PATH=$VV_BUILD/bin:$PATH
	VHDVISOR_STATE=$B vv vm start web-copy --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
		--append "vv.run=read:vda:0:1024,poweroff" >/dev/null
	at_exit "VHDVISOR_STATE=$B '$VHDVISOR' vm stop web-copy"
	for _ in $(seq 1 180); do
		VHDVISOR_STATE=$B vv vm status web-copy --json | jq -e '.running == false' >/dev/null && break
		sleep 1
	done
	want=$(head -c 1M "$T/webA.raw" | sha256sum | cut -d' ' -f1)
	VHDVISOR_STATE=$B vv vm console web-copy | grep -q "VV-READ-SHA=$want" ||
		fail "the guest on host B did not read its disk"
else
	note "SKIPPED the boot: no guest material here"
fi
