#!/bin/bash
# Direct boot of the Debian kernel (PVH vmlinux) + busybox initramfs under
# QEMU/TCG: the guest sees the vCPUs and memory asked for (1, 2, 4 vCPUs;
# three memory sizes), the console reaches stdout and files, the guest's
# poweroff exits 0, and nothing is left behind.
# serial
# timeout: 900
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"

declare -A mem_kb
for spec in 1:256 2:384 4:512; do
	cpus=${spec%:*} mem=${spec#*:}
	note "boot with $cpus vCPUs and $mem MiB"
	con=$T/con-$cpus.log
	start=$SECONDS
	rc=$(boot_direct "$con" "vv.run=cpus,mem" --cpus "$cpus" --mem "${mem}M")
	[[ $rc == 0 ]] || { cat "$T/run.err"; tail "$con"; fail "exit $rc, want 0 (poweroff)"; }
	grep -q VHDVISOR-GUEST-UP "$con" || fail "no userspace marker"
	assert_eq "$(console_value "$con" VV-CPUS)" "$cpus" "CPUs the guest sees"
	kb=$(console_value "$con" VV-MEMTOTAL)
	mem_kb[$mem]=$kb
	((kb <= mem * 1024 && kb >= (mem - 64) * 1024)) ||
		fail "MemTotal $kb kB does not fit --mem ${mem}M"
	note "ok in $((SECONDS - start)) s: CPUs $cpus, MemTotal $kb kB"
	assert_clean
done
# The memory the guest gains follows --mem (kernel overhead aside).
d=$(( (mem_kb[512] - mem_kb[256]) / 1024 ))
((d >= 240 && d <= 256)) || fail "512M vs 256M guests differ by $d MiB, want ~256"

note "console on stdout; the SMBIOS UUID given with --uuid reaches the guest"
uuid=6a1f0c3e-2b7d-4e59-9c8a-0d4e5f6a7b8c
rc=0
"$VHDVISOR" run --name "$VM" --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
	--uuid "$uuid" --append "quiet vv.run=cpus,uuid" >"$T/stdout.log" 2>"$T/run.err" || rc=$?
assert_eq "$rc" 0 "exit status with a stdio console"
grep -q '^VHDVISOR-GUEST-UP' "$T/stdout.log" || fail "no marker on stdout"
grep -q '^VV-CPUS=1' "$T/stdout.log" || fail "no CPU count on stdout"
assert_eq "$(grep -a '^VV-UUID=' "$T/stdout.log" | tr -d '\r' | cut -d= -f2)" "$uuid" "guest's product_uuid"
expect_exit 1 "$VHDVISOR" run --kernel "$G/vmlinux" --uuid not-a-uuid
assert_stderr 'bad SMBIOS UUID'
assert_clean
