#!/bin/bash
# Two lab networks never reach each other, even with IPv4 forwarding on in
# the host and routes pointing at the gateways; two ends on one network do.
# A lab can ping its own gateway but not the host's other addresses. The
# control step (rules removed -> traffic flows) shows the test can fail.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"

vvh sysctl -qw net.ipv4.ip_forward=1
vvh sysctl -qw net.ipv6.conf.all.forwarding=1
expect_exit 0 vv net create neta --subnet 10.81.0.0/24
expect_exit 0 vv net create netb --subnet 10.82.0.0/24
client ${NBP}a1 vvbr-neta 10.81.0.10/24
client ${NBP}a2 vvbr-neta 10.81.0.11/24
client ${NBP}b1 vvbr-netb 10.82.0.10/24
ip netns exec ${NBP}a1 ip route add default via 10.81.0.1
ip netns exec ${NBP}a2 ip route add default via 10.81.0.1
ip netns exec ${NBP}b1 ip route add default via 10.82.0.1
# IPv6 too: routable addresses on both sides, the host routing between them.
vvh ip addr add fd00:81::1/64 dev vvbr-neta nodad
vvh ip addr add fd00:82::1/64 dev vvbr-netb nodad
ip netns exec ${NBP}a1 ip addr add fd00:81::10/64 dev eth0 nodad
ip netns exec ${NBP}b1 ip addr add fd00:82::10/64 dev eth0 nodad
ip netns exec ${NBP}a1 ip -6 route add default via fd00:81::1
ip netns exec ${NBP}b1 ip -6 route add default via fd00:82::1

isolated() {
	pings ${NBP}a1 10.82.0.10 && fail "neta reaches netb ($1)"
	pings ${NBP}b1 10.81.0.10 && fail "netb reaches neta ($1)"
	pings ${NBP}a1 10.82.0.1 && fail "neta reaches the host's address on netb ($1)"
	pings ${NBP}a1 fd00:82::10 && fail "neta reaches netb over IPv6 ($1)"
	ip netns exec ${NBP}b1 busybox nc -l -p 5001 >/dev/null 2>&1 &
	local lpid=$!
	sleep 0.3
	if echo hi | ip netns exec ${NBP}a1 timeout 3 busybox nc -w 2 10.82.0.10 5001 2>/dev/null; then
		kill $lpid 2>/dev/null
		fail "TCP from neta to netb got through ($1)"
	fi
	kill $lpid 2>/dev/null || true
	wait $lpid 2>/dev/null || true
	return 0
}

note "one network: both ends reach each other and the gateway"
pings ${NBP}a1 10.81.0.11 || fail "a1 cannot reach a2 on the same network"
pings ${NBP}a2 10.81.0.10 || fail "a2 cannot reach a1 on the same network"
pings ${NBP}a1 10.81.0.1 || fail "a1 cannot ping its gateway"

note "two networks: nothing passes"
isolated "with our rules"

note "control: without our nftables tables the same traffic flows"
vvh nft delete table inet vhdvisor_neta
vvh nft delete table inet vhdvisor_netb
pings ${NBP}a1 10.82.0.10 || fail "control: neta cannot reach netb even without rules; the test proves nothing"
pings ${NBP}a1 fd00:82::10 || fail "control: no IPv6 route from neta to netb even without rules"

note "net up restores the rules"
expect_exit 0 vv net up neta
expect_exit 0 vv net up netb
isolated "after net up"

expect_exit 0 vv net rm neta
expect_exit 0 vv net rm netb
assert_clean
