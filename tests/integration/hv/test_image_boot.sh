#!/bin/bash
# Booting tiny.vhd (images/recipes/tiny): the kernel read out of the
# image's own ext4 partition through grub.cfg (like pygrub), the disk's own
# GRUB2 under SeaBIOS (firmware boot), a linked clone (differencing child)
# whose guest writes stay in the clone, and a GPT disk whose only boot
# config is extlinux.conf (DEFAULT label, relative KERNEL, initrd= in APPEND).
# serial
# timeout: 1200
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"

tiny=$(tiny_vhd)
cd "$T"
cp "$tiny" tiny.vhd
tiny_sha=$(sha tiny.vhd)

run_disk() { # run_disk CONSOLE ARGS...: sets RC
	local con=$1
	shift
	RC=0
	"$VHDVISOR" run --name "$VM" --console "file:$con" "$@" >"$T/run.out" 2>"$T/run.err" ||
		RC=$?
}

note "image boot (kernel and initrd from grub.cfg inside the VHD)"
run_disk img.log --disk tiny.vhd --boot image --append "vv.run=cpus"
[[ $RC == 0 ]] || { cat run.err; tail img.log; fail "image boot exit $RC"; }
grep -q '^VHDVISOR-GUEST-UP' img.log || fail "image boot: no userspace marker"
grep -q '^VV-CPUS=1' img.log || fail "image boot: the appended vv.run did not reach the guest"
assert_clean

note "auto picks image boot for a disk with grub.cfg"
run_disk auto.log --disk tiny.vhd,ro --append vv.run=poweroff
assert_eq "$RC" 0 "auto boot exit"
grep -q '^VHDVISOR-GUEST-UP' auto.log || fail "auto boot: no userspace marker"
assert_eq "$(sha tiny.vhd)" "$tiny_sha" "template after read-only boots"
assert_clean

note "firmware boot (SeaBIOS -> the disk's GRUB2)"
run_disk fw.log --disk tiny.vhd,snapshot --boot firmware --append vv.run=poweroff
[[ $RC == 0 ]] || { cat run.err; tail fw.log; fail "firmware boot exit $RC"; }
grep -q 'Booting .vhdvisor tiny' fw.log || fail "firmware boot: GRUB's menu entry never ran"
grep -qa 'VHDVISOR-GUEST-UP' fw.log || fail "firmware boot: no userspace marker"
assert_clean

note "linked clone of tiny.vhd boots; its writes stay in the clone"
"$VHD" create --parent tiny.vhd clone.vhd >/dev/null
run_disk clone.log --disk clone.vhd --boot image --append "vv.run=write:vda:61440:64:CLONE"
assert_eq "$RC" 0 "clone boot exit"
grep -q '^VV-WRITE-OK' clone.log || fail "the clone's guest could not write"
assert_eq "$(sha tiny.vhd)" "$tiny_sha" "template after the clone ran"
assert_eq "$("$VHD" read clone.vhd 60M 64K | sha256sum | cut -d' ' -f1)" \
	"$(yes CLONE | head -c 65536 | sha256sum | cut -d' ' -f1)" "clone's data"
"$VHD" check clone.vhd >/dev/null || fail "vhd check clone.vhd"
assert_clean

note "GPT disk with extlinux.conf only (no grub.cfg)"
need_cmd sfdisk mke2fs
mkdir -p xt/boot/extlinux
cp "$G/vmlinuz" xt/boot/vmlinuz
cp "$G/initrd.img" xt/boot/initrd.img
printf 'DEFAULT other\nLABEL first\n  KERNEL /boot/missing\nLABEL other\n  KERNEL ../vmlinuz\n  APPEND initrd=/boot/initrd.img console=ttyS0 quiet\n' \
	>xt/boot/extlinux/extlinux.conf
truncate -s 48M gpt.raw
printf 'label: gpt\nstart=2048, size=4096, type=21686148-6453-6F53-6E6F-744E65656646\nstart=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' |
	sfdisk -q gpt.raw
mke2fs -q -t ext4 -E offset=$((8192 * 512)) -d xt gpt.raw $(( (48 * 1024) - 4096 ))k
run_disk gpt.log --disk gpt.raw --boot image --append "vv.run=cpus"
[[ $RC == 0 ]] || { cat run.err; tail gpt.log; fail "GPT/extlinux boot exit $RC"; }
grep -qa 'VHDVISOR-GUEST-UP' gpt.log || fail "GPT/extlinux boot: no userspace marker"
assert_clean
