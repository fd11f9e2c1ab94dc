#!/bin/bash
# Bad input to `vhdvisor run` fails with a clear message before anything
# starts (exit 1), or as bad usage (exit 2), and leaves nothing behind.
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"
need_cmd mke2fs sfdisk

cd "$T"
run() { expect_exit "$1" "$VHDVISOR" run --name "$VM" --console none "${@:2}"; }

note "bad usage -> 2"
run 2
assert_stderr 'nothing to boot'
run 2 --kernel "$G/vmlinux" --cpus 0
assert_stderr 'cpus'
run 2 --kernel "$G/vmlinux" --mem lots
assert_stderr 'not a size'
run 2 --kernel "$G/vmlinux" --disk x.vhd,fast
assert_stderr "unknown option 'fast'"
run 2 --kernel "$G/vmlinux" --boot sideways
assert_stderr 'want auto, direct, image or firmware'
run 2 --kernel "$G/vmlinux" --console tty
assert_stderr 'want stdio, file:PATH, pty or none'
run 2 --kernel "$G/vmlinux" --frobnicate
run 2 --kernel "$G/vmlinux" extra-arg
assert_stderr "unexpected argument"

note "bad configuration -> 1"
run 1 --kernel "$G/vmlinux" --mem 10M
assert_stderr 'memory must be'
run 1 --kernel "$G/vmlinux" --initrd "$T/missing.img"
assert_stderr "initrd '$T/missing.img': No such file"
run 1 --disk "$T/missing.vhd"
assert_stderr "disk '$T/missing.vhd': No such file"
run 1 --kernel "$G/vmlinux" --disk "$G/initrd.img" --boot image
assert_stderr 'image boot takes no kernel'

note "a kernel that is not a kernel"
head -c 1M /dev/urandom >notakernel
run 1 --kernel notakernel
assert_stderr "kernel 'notakernel' is not a Linux kernel"
run 1 --kernel "$G/initrd.img"
assert_stderr 'is not a Linux kernel'

note "--accel kvm where there is no hardware virtualization"
if grep -qwE 'vmx|svm' /proc/cpuinfo; then
	note "(this host has vmx/svm: not checked)"
else
	run 1 --kernel "$G/vmlinux" --accel kvm
	assert_stderr 'KVM is not usable here'
fi

note "disks without anything to boot"
truncate -s 32M empty.raw
run 1 --disk empty.raw --boot image
assert_stderr "disk 'empty.raw' has no boot loader configuration"
run 1 --disk empty.raw
assert_stderr "has no boot sector"
# A partitioned disk with an ext4 filesystem but no boot loader config.
mkdir -p tree/boot
echo hello >tree/boot/readme
truncate -s 32M nocfg.raw
echo "start=2048, type=83" | sfdisk -q --label dos nocfg.raw
mke2fs -q -t ext4 -E offset=1048576 -d tree nocfg.raw 31M
run 1 --disk nocfg.raw --boot image
assert_stderr "disk 'nocfg.raw' has no boot loader configuration .* on its ext2/3/4"
# grub.cfg whose kernel is missing from the filesystem.
mkdir -p tree/boot/grub
printf 'menuentry "x" {\n\tlinux /boot/vmlinuz-gone root=/dev/vda1\n}\n' >tree/boot/grub/grub.cfg
rm nocfg.raw
truncate -s 32M nocfg.raw
echo "start=2048, type=83" | sfdisk -q --label dos nocfg.raw
mke2fs -q -t ext4 -E offset=1048576 -d tree nocfg.raw 31M
run 1 --disk nocfg.raw --boot image
assert_stderr "cannot read '/boot/vmlinuz-gone' from the disk"

note "a corrupt VHD"
"$VHD" create bad.vhd 32M >/dev/null
size=$(stat -c %s bad.vhd)
# Both footer copies and the dynamic header destroyed.
dd if=/dev/urandom of=bad.vhd bs=512 count=3 conv=notrunc status=none
dd if=/dev/urandom of=bad.vhd bs=1 seek=$((size - 512)) count=512 conv=notrunc status=none
run 1 --disk bad.vhd
assert_stderr "bad.vhd"
# A VHD whose footer copies fail their checksums: the library says why.
"$VHD" create bad2.vhd 32M >/dev/null
size=$(stat -c %s bad2.vhd)
printf '\xff\xff\xff\xff' | dd of=bad2.vhd bs=1 seek=$((size - 512 + 64)) conv=notrunc status=none
printf '\xff\xff\xff\xff' | dd of=bad2.vhd bs=1 seek=64 conv=notrunc status=none
run 1 --disk bad2.vhd
assert_stderr "disk 'bad2.vhd': .*checksum"
assert_clean
