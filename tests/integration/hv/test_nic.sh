#!/bin/bash
# Guest NICs through netback: `--nic tap=IFNAME[,mac=M]` opens the tap,
# QEMU gets its fd (-netdev tap,fd=N), the guest sees a virtio NIC per
# --nic with the MAC asked for, or a stable generated one; bad --nic
# arguments are bad usage.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"
need_cmd ip
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
t1=vvh$$a t2=vvh$$b
for t in $t1 $t2; do
	ip tuntap add dev "$t" mode tap 2>/dev/null || skip "cannot create taps here"
	at_exit "ip link del $t"
done

expect_exit 2 "$VHDVISOR" run --kernel "$G/vmlinux" --nic bogus=x
expect_exit 2 "$VHDVISOR" run --kernel "$G/vmlinux" --nic tap=$t1,mac=01:00:5e:00:00:01
rc=$(boot_direct "$T/con.log" "vv.run=macs" --nic "tap=$t1,mac=52:54:00:12:34:56" --nic "tap=$t2")
[[ $rc == 0 ]] || { cat "$T/run.err"; tail "$T/con.log"; fail "exit $rc"; }
assert_eq "$(console_value "$T/con.log" VV-MAC-eth0)" 52:54:00:12:34:56 "first NIC's MAC"
mac2=$(console_value "$T/con.log" VV-MAC-eth1)
[[ $mac2 =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] || fail "second NIC: no MAC ('$mac2')"
(( (0x${mac2:0:2} & 1) == 0 )) || fail "generated MAC $mac2 is multicast"
# The taps stay (the user made them) and are free again.
ip link show "$t1" >/dev/null || fail "the user's tap $t1 disappeared"
assert_clean
