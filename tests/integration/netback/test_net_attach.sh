#!/bin/bash
# The NIC API for hv (netback/netback.h) through a small C client: taps are
# enslaved to the lab bridge and up, vanish when closed; generated MACs are
# stable per VM name and differ between names; clear errors for a missing
# network, a missing bridge, a tap in use.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"
build_attach
A=$T/nb_attach

# port NAME ARGS...: runs nb_attach ARGS in $H in the background, waits for
# its "IFNAME MAC" line and sets TAP and MAC; unport NAME ends it.
port() {
	local name=$1 i
	shift
	ip netns exec "$H" "$A" "$VHDVISOR_STATE" "$@" >"$T/$name.out" 2>&1 &
	eval "PID_$name=$!"
	at_exit "kill $! 2>/dev/null"
	for i in $(seq 100); do
		[[ -s $T/$name.out ]] && break
		sleep 0.1
	done
	read -r TAP MAC <"$T/$name.out" || fail "no answer from nb_attach $*"
}
unport() {
	local pid
	eval "pid=\$PID_$1"
	kill "$pid"
	wait "$pid" || true
	assert_eq "$(tail -1 "$T/$1.out")" "closed" "end of nb_attach $1"
}
once() { NB_ATTACH_ONCE=1 ip netns exec "$H" "$A" "$VHDVISOR_STATE" "$@"; }

expect_exit 0 vv net create lab1

note "a port: tap on the bridge, up"
port p1 net lab1 web 0
tap1=$TAP mac1=$MAC
[[ $tap1 == vvtap* ]] || fail "tap name '$tap1'"
vvh ip -d link show "$tap1" | grep -q 'master vvbr-lab1' || fail "$tap1 not on vvbr-lab1"
vvh ip -o link show "$tap1" | grep -q '[<,]UP[,>]' || fail "$tap1 is not up"
vvh ip -d link show "$tap1" | grep -q 'tun type tap' || fail "$tap1 is not a tap"
[[ $mac1 =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] || fail "MAC '$mac1'"
(( 0x${mac1:0:2} & 2 )) || fail "$mac1 is not locally administered"
(( (0x${mac1:0:2} & 1) == 0 )) || fail "$mac1 is multicast"

note "a second VM gets another tap; the bridge has both ports"
port p2 net lab1 web-clone 0
tap2=$TAP mac2=$MAC
[[ $tap2 != "$tap1" ]] || fail "both VMs got $tap1"
[[ $mac2 != "$mac1" ]] || fail "a clone (another name) got the same MAC $mac1"
assert_eq "$(vvh bridge link show master vvbr-lab1 | grep -c vvtap)" "2" "ports on vvbr-lab1"
expect_exit 1 vv net rm lab1
assert_stderr "2 VM NICs attached \($tap1 $tap2|$tap2 $tap1\): stop the VMs first, or use --force"

note "closing the port removes the tap"
unport p1
vvh ip link show "$tap1" >/dev/null 2>&1 && fail "$tap1 still exists after its fd was closed"

note "the same VM name gets the same MAC again, in another process"
expect_exit 0 once net lab1 web 0
assert_eq "$(head -1 "$T/stdout" | cut -d' ' -f2)" "$mac1" "MAC of 'web' NIC 0"
expect_exit 0 once net lab1 web 1
[[ $(head -1 "$T/stdout" | cut -d' ' -f2) != "$mac1" ]] || fail "NIC 1 of 'web' has NIC 0's MAC"
expect_exit 0 once net lab1 web 0 52:54:00:aa:bb:cc
assert_eq "$(head -1 "$T/stdout" | cut -d' ' -f2)" "52:54:00:aa:bb:cc" "a given MAC"

note "errors"
expect_exit 1 once net nope web 0
assert_stderr "no network named 'nope'"
vvh ip tuntap add vvt$$u mode tap vnet_hdr
port p4 tap vvt$$u web 0
assert_eq "$TAP" "vvt$$u" "user tap name"
expect_exit 1 once tap vvt$$u other 0
assert_stderr "tap vvt$$u is in use by another process"
unport p4
vvh ip link show vvt$$u >/dev/null || fail "the user's own tap was removed"
vvh ip link del vvt$$u
expect_exit 1 once tap vvbr-lab1 web 0
assert_stderr "not a tap"
vvh ip link del vvbr-lab1
expect_exit 1 once net lab1 web 0
assert_stderr "net up lab1"
left=$(vvh ip -o link show | awk -F': ' '{print $2}' | grep vvtap | tr '\n' ' ')
assert_eq "$left" "$tap2 " "taps after failed attaches (only web-clone's)"

unport p2
expect_exit 0 vv net rm lab1
assert_clean
