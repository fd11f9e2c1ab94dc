#!/bin/bash
# vhdvisor net create/list/show/up/rm across processes, inside a namespace:
# records, bridges with the gateway address, automatic subnets avoiding
# routes and other networks, and clear errors that leave nothing behind.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"

# A route of "the host" that the automatic choice must avoid.
vvh ip link add vvt$$r type veth peer name vvt$$s
vvh ip link set vvt$$r up
vvh ip addr add 10.213.0.9/24 dev vvt$$r

note "create: automatic subnet skips 10.213.0.0/24 (a route here)"
expect_exit 0 vv net create lab1
assert_eq "$(cat "$T/stdout")" "lab1 vvbr-lab1 10.213.1.0/24" "create output"
expect_exit 0 vv net create lab-two --subnet 10.99.0.0/24 --dhcp
expect_exit 0 vv net create lab3
assert_eq "$(cat "$T/stdout")" "lab3 vvbr-lab3 10.213.2.0/24" "second automatic subnet"

note "the bridges exist, up, with the gateway address"
vvh ip -o -4 addr show dev vvbr-lab1 | grep -q 'inet 10.213.1.1/24' || fail "vvbr-lab1 lacks 10.213.1.1/24"
vvh ip -o -4 addr show dev vvbr-lab-two | grep -q 'inet 10.99.0.1/24' || fail "vvbr-lab-two lacks 10.99.0.1/24"
vvh ip -o link show vvbr-lab1 | grep -q 'UP' || fail "vvbr-lab1 is down"
vvh ip -d link show vvbr-lab1 | grep -q 'bridge ' || fail "vvbr-lab1 is not a bridge"

note "list and show from other processes"
expect_exit 0 vv net list
grep -Eq '^lab-two +vvbr-lab-two +10.99.0.0/24 +yes +no +up' "$T/stdout" || { cat "$T/stdout"; fail "list line of lab-two"; }
expect_exit 0 vv net list --json
assert_eq "$(jq -r 'map(.name) | join(",")' "$T/stdout")" "lab-two,lab1,lab3" "list --json names"
expect_exit 0 vv net show lab-two --json
assert_eq "$(jq -r .subnet "$T/stdout")" "10.99.0.0/24" "show subnet"
assert_eq "$(jq -r .gateway "$T/stdout")" "10.99.0.1" "show gateway"
assert_eq "$(jq -r .dhcp_first "$T/stdout")" "10.99.0.128" "dhcp range start"
assert_eq "$(jq -r .status.bridge_up "$T/stdout")" "true" "status.bridge_up"
assert_eq "$(jq -r .status.firewall "$T/stdout")" "true" "status.firewall"
pid=$(jq -r .status.dnsmasq_pid "$T/stdout")
[[ $pid -gt 0 ]] && alive "$pid" || fail "dnsmasq of lab-two not running (pid '$pid')"
jq -e .name "$VHDVISOR_STATE/networks/lab1.json" >/dev/null || fail "record of lab1 missing"
# --state DIR wins over the environment.
expect_exit 0 vv net list --state "$T/elsewhere" --json
assert_eq "$(jq length "$T/stdout")" "0" "an empty state dir lists nothing"

note "errors"
expect_exit 1 vv net create lab1
assert_stderr "network 'lab1' already exists"
expect_exit 1 vv net create lab4 --subnet 10.99.0.128/25
assert_stderr "overlaps network 'lab-two'"
expect_exit 1 vv net create lab4 --subnet 10.213.0.0/16
assert_stderr "overlaps"
expect_exit 2 vv net create lab4 --subnet 10.99.0.1/24
assert_stderr "zero host bits"
expect_exit 1 vv net create Lab_4
assert_stderr "bad network name"
expect_exit 1 vv net show nope
assert_stderr "no network named 'nope'"
expect_exit 1 vv net rm nope
assert_stderr "no network named 'nope'"
expect_exit 2 vv net frobnicate
expect_exit 1 env VHDVISOR_NET_POOL=10.213.0.0/23 ip netns exec "$H" "$VHDVISOR" net create lab4
assert_stderr "no free /24 left in 10.213.0.0/23"
vvh ip link show vvbr-lab4 >/dev/null 2>&1 && fail "a failed create left vvbr-lab4"
[[ ! -e $VHDVISOR_STATE/networks/lab4.json ]] || fail "a failed create left a record"

note "no permission: an unprivileged user gets a clear error and nothing"
chmod 0777 "$VHDVISOR_STATE/networks"
chmod 0755 "$T"
expect_exit 1 vvh setpriv --reuid=65534 --regid=65534 --clear-groups "$VHDVISOR" net create lab5
# refused at the networks lock (0600 since files are private) or later
assert_stderr "[Pp]ermission denied"
vvh ip link show vvbr-lab5 >/dev/null 2>&1 && fail "an unprivileged create left vvbr-lab5"

note "up repairs a deleted bridge and a killed dnsmasq"
vvh ip link del vvbr-lab-two
kill "$pid"
for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
expect_exit 0 vv net list
grep -Eq '^lab-two .* degraded' "$T/stdout" || { cat "$T/stdout"; fail "lab-two should read degraded"; }
expect_exit 0 vv net up lab-two
expect_exit 0 vv net show lab-two --json
assert_eq "$(jq -r .status.bridge_up "$T/stdout")" "true" "bridge back after up"
pid2=$(jq -r .status.dnsmasq_pid "$T/stdout")
[[ $pid2 -gt 0 && $pid2 != "$pid" ]] || fail "dnsmasq not restarted by up"

note "four creates at once get four different subnets (the state lock)"
pids=()
for i in 1 2 3 4; do
	vv net create par$i >"$T/par$i" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent create failed: $(cat "$T"/par*)"; done
assert_eq "$(cat "$T"/par[1-4] | awk '{print $3}' | sort -u | wc -l)" "4" "distinct subnets of concurrent creates"
for i in 1 2 3 4; do expect_exit 0 vv net rm par$i; done

note "rm removes bridge, rules, dnsmasq and record"
for n in lab1 lab-two lab3; do expect_exit 0 vv net rm "$n"; done
alive "$pid2" && fail "dnsmasq $pid2 still runs after rm"
expect_exit 0 vv net list --json
assert_eq "$(jq length "$T/stdout")" "0" "no networks after rm"
vvh ip link del vvt$$r
assert_clean
