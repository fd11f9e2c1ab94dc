#!/bin/bash
# --dhcp: the network's own dnsmasq gives a client (a namespace on a veth
# port of the bridge, busybox udhcpc) an address from the upper half of the
# subnet, no router without --nat, and answers DNS for lease names; net
# show lists the lease; net rm stops dnsmasq. A network without --dhcp
# gives no lease.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"
need_cmd busybox

expect_exit 0 vv net create lan --subnet 10.77.0.0/24 --dhcp
expect_exit 0 vv net create dark --subnet 10.78.0.0/24

note "a client gets a lease from the upper half"
client ${NBP}c1 vvbr-lan
dhcp_client ${NBP}c1 client1
ip=$(lease ${NBP}c1 ip)
[[ $ip =~ ^10\.77\.0\.([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 128 && BASH_REMATCH[1] <= 254)) \
	|| fail "leased address $ip is outside 10.77.0.128-254"
assert_eq "$(lease ${NBP}c1 mask)" "24" "netmask"
assert_eq "$(lease ${NBP}c1 router)" "" "router without --nat"
assert_eq "$(lease ${NBP}c1 dns)" "10.77.0.1" "DNS server"
assert_eq "$(lease ${NBP}c1 domain)" "lan.lab" "domain"
pings ${NBP}c1 10.77.0.1 || fail "the client cannot ping its gateway"

note "net show lists the lease with the client's MAC"
mac=$(ip netns exec ${NBP}c1 cat /sys/class/net/eth0/address)
expect_exit 0 vv net show lan --json
assert_eq "$(jq -r --arg m "$mac" '.leases[] | select(.mac == $m) | .ip' "$T/stdout")" "$ip" "lease in net show"
assert_eq "$(jq -r '.leases[0].hostname' "$T/stdout")" "client1" "lease hostname"

note "DNS: dnsmasq answers for the lease name, on the gateway only"
ip netns exec ${NBP}c1 busybox nslookup client1.lan.lab 10.77.0.1 >"$T/ns" 2>&1 || { cat "$T/ns"; fail "nslookup failed"; }
grep -q "$ip" "$T/ns" || { cat "$T/ns"; fail "client1.lan.lab does not resolve to $ip"; }

note "a second client gets another address"
client ${NBP}c2 vvbr-lan
dhcp_client ${NBP}c2 client2
[[ $(lease ${NBP}c2 ip) != "$ip" ]] || fail "two clients got $ip"
pings ${NBP}c2 "$ip" || fail "two DHCP clients cannot reach each other"

note "no DHCP on a network without --dhcp"
client ${NBP}c3 vvbr-dark
if ip netns exec ${NBP}c3 busybox udhcpc -i eth0 -n -q -t 2 -T 1 -s /bin/true >/dev/null 2>&1; then
	fail "a client on a network without --dhcp got a lease"
fi

note "rm stops dnsmasq"
pid=$(cat "$VHDVISOR_RUN/net/lan/dnsmasq.pid")
alive "$pid" || fail "dnsmasq $pid not running"
expect_exit 0 vv net rm lan
alive "$pid" && fail "dnsmasq $pid survived net rm"
[[ ! -e $VHDVISOR_RUN/net/lan ]] || fail "run dir of lan left behind"
expect_exit 0 vv net rm dark
assert_clean
