#!/bin/bash
# --nat: the lab reaches the namespace acting as the host's uplink (the
# interface of the default route) through masquerading, and nothing else:
# not another host interface, not the host itself beyond its gateway, not
# from the uplink inwards. A network without --nat does not reach the
# uplink. The control step shows the test can fail.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"

U=${NBP}u O=${NBP}o
mkns $U
mkns $O
# The uplink: the default route of $H goes there. $U has no route back to
# the labs, so only masqueraded traffic gets replies.
vvh ip link add vvt$$u type veth peer name eth0 netns $U
vvh ip addr add 192.168.213.1/24 dev vvt$$u
vvh ip link set vvt$$u up
ip netns exec $U ip addr add 192.168.213.2/24 dev eth0
ip netns exec $U ip link set eth0 up
vvh ip route add default via 192.168.213.2
# Another network of the host, which routes everything back through it.
vvh ip link add vvt$$o type veth peer name eth0 netns $O
vvh ip addr add 192.168.214.1/24 dev vvt$$o
vvh ip link set vvt$$o up
ip netns exec $O ip addr add 192.168.214.2/24 dev eth0
ip netns exec $O ip link set eth0 up
ip netns exec $O ip route add default via 192.168.214.1

expect_exit 0 vv net create wan --subnet 10.91.0.0/24 --nat --dhcp
expect_exit 0 vv net show wan --json
assert_eq "$(jq -r .uplink "$T/stdout")" "vvt$$u" "uplink = the default-route interface"
assert_eq "$(vvh cat /proc/sys/net/ipv4/ip_forward)" "1" "forwarding on"
expect_exit 0 vv net create closed --subnet 10.92.0.0/24

client ${NBP}c vvbr-wan
dhcp_client ${NBP}c
assert_eq "$(lease ${NBP}c router)" "10.91.0.1" "router offered with --nat"
client ${NBP}d vvbr-closed 10.92.0.10/24
ip netns exec ${NBP}d ip route add default via 10.92.0.1

blocked() {
	pings ${NBP}c 192.168.214.2 && fail "the NAT lab reaches another host network ($1)"
	pings ${NBP}c 192.168.213.1 && fail "the NAT lab reaches the host's uplink address ($1)"
	pings ${NBP}d 192.168.213.2 && fail "a network without --nat reaches the uplink ($1)"
	return 0
}

note "the lab reaches the uplink through NAT: ping and 1 MiB over TCP"
pings ${NBP}c 192.168.213.2 || fail "no ping from the lab to the uplink"
head -c 1048576 /dev/urandom >"$T/blob"
tcp_xfer ${NBP}c $U 192.168.213.2 "$T/blob"

note "and nothing else"
blocked "with our rules"
ip netns exec $U ip route add 10.91.0.0/24 via 192.168.213.1
lease_ip=$(lease ${NBP}c ip)
pings $U "$lease_ip" && fail "the uplink can open connections into the lab"
ip netns exec $U ip route del 10.91.0.0/24

note "control: without our tables the lab reaches the other host network"
vvh nft delete table inet vhdvisor_wan
pings ${NBP}c 192.168.214.2 || fail "control: no route to the other network even without rules; the test proves nothing"
pings ${NBP}c 192.168.213.2 && fail "control: the uplink answered without masquerading"
expect_exit 0 vv net up wan
pings ${NBP}c 192.168.213.2 || fail "NAT not back after net up"
blocked "after net up"

expect_exit 0 vv net rm wan
expect_exit 0 vv net rm closed
assert_clean
