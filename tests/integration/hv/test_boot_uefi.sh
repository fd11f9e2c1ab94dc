#!/bin/bash
# UEFI boot of tiny-uefi.vhd (images/recipes/tiny-uefi: GPT, an EFI System
# Partition with GRUB2 x86_64-efi at EFI/BOOT/BOOTX64.EFI, the ext4 root as
# partition 2) under OVMF with TCG: GRUB's menu entry runs, the guest comes
# up, the --append given to `vhdvisor run` reaches it (SMBIOS OEM string read
# by grub.cfg) and its kernel sees EFI (/sys/firmware/efi). The same disk
# boots by image boot (kernel read through grub.cfg over GPT, no EFI), and
# the run configurations that make no sense are refused.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"
[[ -r /usr/share/OVMF/OVMF_CODE.fd && -r /usr/share/OVMF/OVMF_VARS.fd ]] ||
	skip "OVMF is not installed (ovmf)"
[[ -d /usr/lib/grub/x86_64-efi ]] || skip "GRUB for x86_64-efi is not installed (grub-efi-amd64-bin)"
need_cmd mkfs.vfat mcopy sfdisk

uefi=$(VHD=$VHD bash "$VV_ROOT/images/recipes/tiny-uefi/build.sh" --print 2>"$T/build.log") ||
	fail "tiny-uefi recipe failed: $(tail -3 "$T/build.log")"
cd "$T"
cp "$uefi" u.vhd
sum=$(sha u.vhd)

note "the disk: GPT, an ESP holding EFI/BOOT/BOOTX64.EFI"
"$VHD" read u.vhd 0 64M >u.raw
sfdisk -d u.raw >pt.txt
grep -q '^label: gpt' pt.txt || fail "not a GPT disk: $(cat pt.txt)"
grep -qi 'type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B' pt.txt || fail "no EFI System Partition"
esp=$(sed -n 's/^u.raw1 : start= *\([0-9]*\),.*/\1/p' pt.txt)
[[ -n $esp ]] || fail "no first partition in: $(cat pt.txt)"
MTOOLS_SKIP_CHECK=1 mcopy -i "u.raw@@$((esp * 512))" ::/EFI/BOOT/BOOTX64.EFI boot.efi ||
	fail "EFI/BOOT/BOOTX64.EFI not on the ESP"
assert_eq "$(head -c 2 boot.efi)" "MZ" "BOOTX64.EFI is a PE image"
rm -f u.raw

run_disk() { # run_disk CONSOLE ARGS...: sets RC
	local con=$1
	shift
	RC=0
	"$VHDVISOR" run --name "$VM" --console "file:$con" "$@" >"$T/run.out" 2>"$T/run.err" ||
		RC=$?
}

note "firmware boot under OVMF (GRUB2 x86_64-efi from the ESP)"
start=$SECONDS
run_disk fw.log --disk u.vhd,snapshot --mem 384M --boot firmware --firmware uefi \
	--append "vv.run=cpus,efi"
[[ $RC == 0 ]] || { cat run.err; tail fw.log; fail "UEFI firmware boot exit $RC"; }
grep -qa 'Booting .vhdvisor tiny' fw.log || fail "GRUB's menu entry never ran"
grep -qa 'VHDVISOR-GUEST-UP' fw.log || fail "UEFI boot: no userspace marker"
assert_eq "$(console_value fw.log VV-CPUS)" 1 "vv.run=cpus under UEFI"
assert_eq "$(console_value fw.log VV-EFI)" yes "the guest booted through UEFI"
note "UEFI boot took $((SECONDS - start)) s"
assert_eq "$(sha u.vhd)" "$sum" "template after a snapshot boot"
assert_clean

note "image boot of the UEFI disk (kernel from grub.cfg on the GPT's second partition)"
run_disk img.log --disk u.vhd,ro --boot image --append "vv.run=cpus,efi"
[[ $RC == 0 ]] || { cat run.err; tail img.log; fail "image boot exit $RC"; }
grep -qa '^VHDVISOR-GUEST-UP' img.log || fail "image boot: no userspace marker"
assert_eq "$(console_value img.log VV-CPUS)" 1 "vv.run=cpus under image boot"
assert_eq "$(console_value img.log VV-EFI)" no "image boot has no EFI"
assert_eq "$(sha u.vhd)" "$sum" "template after a read-only boot"
assert_clean

note "refused: UEFI with a kernel or with image boot (usage errors)"
expect_exit 2 "$VHDVISOR" run --name "$VM" --kernel "$G/vmlinux" --firmware uefi --console none
assert_stderr 'firmware uefi is for firmware boot'
expect_exit 2 "$VHDVISOR" run --name "$VM" --disk u.vhd,snapshot --boot image --firmware uefi \
	--console none
assert_stderr 'firmware uefi is for firmware boot'
assert_clean
