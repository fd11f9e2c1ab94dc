#!/bin/bash
# Catalog VMs of a UEFI image: `image build tiny-uefi` records boot=uefi
# (recipe.env); `vm start --boot firmware` of a VM made from it boots under
# OVMF without --firmware (the guest sees /sys/firmware/efi, and the
# --append reaches it), while `vm start` without --boot boots it by image
# boot (no EFI). A VM of the BIOS tiny image (boot=bios) starts under
# SeaBIOS with --boot firmware.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64
[[ -r /usr/share/OVMF/OVMF_CODE.fd && -r /usr/share/OVMF/OVMF_VARS.fd ]] ||
	skip "OVMF is not installed (ovmf)"
[[ -d /usr/lib/grub/x86_64-efi ]] || skip "GRUB for x86_64-efi is not installed (grub-efi-amd64-bin)"

# run_vm NAME ARGS...: vm start NAME ARGS, waits until the VM stopped, puts
# its console in $T/NAME.console.
run_vm() {
	local v=$1
	shift
	vv vm start "$v" "$@" >/dev/null
	for _ in $(seq 1 200); do
		vv vm status "$v" --json | jq -e '.running == false' >/dev/null && break
		sleep 0.5
	done
	vv vm status "$v" --json | jq -e '.running == false' >/dev/null ||
		fail "$v still runs after 100 s"
	vv vm console "$v" | tr -d '\r' >"$T/$v.console"
	grep -aq 'VHDVISOR-GUEST-UP' "$T/$v.console" ||
		{ tail -20 "$T/$v.console"; fail "$v did not boot"; }
}
# value NAME KEY: the last KEY=value of NAME's console.
value() { grep -a "^$2=" "$T/$1.console" | tail -1 | cut -d= -f2-; }

note "image build tiny-uefi"
VHD=$VHD vv image build tiny-uefi >"$T/build.out" 2>"$T/build.err" ||
	fail "image build tiny-uefi: $(tail -3 "$T/build.err")"
vv image show tiny-uefi --json >"$T/show.json"
assert_eq "$(jq -r .boot "$T/show.json")" uefi boot
assert_eq "$(jq -r .source "$T/show.json")" recipe:tiny-uefi source
assert_eq "$(jq -r .min_mem "$T/show.json")" $((384 << 20)) min_mem

vv vm create u --from tiny-uefi --mem 384M >/dev/null
at_exit '"$VHDVISOR" vm stop u'

note "vm start --boot firmware of a boot=uefi image: OVMF"
run_vm u --boot firmware --append "vv.run=cpus,efi"
grep -aq 'Booting .vhdvisor tiny' "$T/u.console" || fail "GRUB's menu entry never ran"
assert_eq "$(value u VV-CPUS)" 1 "vv.run=cpus"
assert_eq "$(value u VV-EFI)" yes "the catalog VM booted through UEFI"

note "vm start without --boot: image boot of the same VM"
run_vm u --append "vv.run=efi"
assert_eq "$(value u VV-EFI)" no "image boot"

note "vm start --boot firmware of a boot=bios image: SeaBIOS"
tiny=$(VHD=$VHD bash "$VV_ROOT/images/recipes/tiny/build.sh" --print 2>"$T/tiny.log") ||
	fail "tiny recipe failed: $(tail -3 "$T/tiny.log")"
vv image import "$tiny" --name tb --boot bios >/dev/null
vv vm create b --from tb >/dev/null
at_exit '"$VHDVISOR" vm stop b'
run_vm b --boot firmware --append "vv.run=efi"
grep -aq 'Booting .vhdvisor tiny' "$T/b.console" || fail "GRUB's menu entry never ran (BIOS)"
assert_eq "$(value b VV-EFI)" no "SeaBIOS boot"
consistent
