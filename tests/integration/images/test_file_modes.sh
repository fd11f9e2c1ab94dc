#!/bin/bash
# Nothing we create is readable by group or others, whatever the caller's
# umask (this test runs everything under umask 022): `vhd create`,
# `convert` and `snapshot` outputs; a state folder with a catalog, an
# image, a VM with a snapshot, an added disk and a cloud-init seed; an
# exported image and bundle; and the run folder of a started VM (console,
# logs, API and NBD sockets), checked while the guest runs (held) and after
# `vm stop`. Files 0600, folders 0700, sockets 0600.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64 genisoimage
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH

umask 022
mkdir "$T/out"
# private: no group or other bits on anything under the given roots
# (symlinks always show 0777 and are left out)
private() {
	local bad
	bad=$(find "$@" ! -type l -perm /077 -printf '%m %y %p\n')
	[[ -z $bad ]] || fail "readable by others:"$'\n'"$bad"
}

note "vhd tool outputs"
"$VHD" create "$T/out/dyn.vhd" 8M
"$VHD" create --fixed "$T/out/fixed.vhd" 1M
"$VHD" snapshot "$T/out/dyn.vhd" "$T/out/child.vhd"
truncate -s 4M "$T/out/src.raw"   # made by the test (umask 022): left out below
"$VHD" convert "$T/out/src.raw" "$T/out/conv.vhd"
private "$T/out/dyn.vhd" "$T/out/fixed.vhd" "$T/out/child.vhd" "$T/out/conv.vhd"

note "catalog, image, VM"
truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create a --from tmpl --mem 128M >/dev/null
vv vm snapshot a s1 >/dev/null
vv vm disk add a 8M >/dev/null
vv vm set a --cloud-init on
vv image export tmpl "$T/out/tmpl.vhd" >/dev/null
vv vm export a --bundle "$T/out/a.bundle" >/dev/null
private "$VHDVISOR_STATE" "$T/out/tmpl.vhd" "$T/out/a.bundle"

note "a running VM's run folder"
at_exit '"$VHDVISOR" vm stop a'
vv vm start a --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append "vv.run=hold" >/dev/null
assert_eq "$(vv vm status a --json | jq .running)" true "a running"
(($(find "$VHDVISOR_RUN" -mindepth 1 -type s | wc -l) >= 1)) || fail "no socket in the run folder"
(($(find "$VHDVISOR_RUN" -mindepth 1 -name '*.console' | wc -l) == 1)) || fail "no console file"
private "$VHDVISOR_STATE"
private $(find "$VHDVISOR_RUN" -mindepth 1 -maxdepth 1)
vv vm stop a >/dev/null
private "$VHDVISOR_STATE" $(find "$VHDVISOR_RUN" -mindepth 1 -maxdepth 1)
find "$VHDVISOR_RUN" "$VHDVISOR_STATE" -printf '%m %y %P\n' | sort -k3 | head -40
