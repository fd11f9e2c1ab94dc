#!/bin/bash
# Per-NIC rate limits (netback/shaper.c, tc): a veth in $H stands for a
# guest's tap (the shaper treats any interface alike), its peer in a
# namespace G for the guest. iperf3 at 10 Mbit/s each way measures within
# 10%; changing the limits while traffic could flow takes effect (rx 5M,
# tx 20M); removing them restores full speed and leaves no ifb behind. On
# a real tap (nb_attach), the qdiscs are set and removed. Bad names give
# clear errors.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"
need_cmd tc iperf3 jq gcc
build_attach
gcc ${VV_SAN:-} -I"$VV_ROOT" -D_GNU_SOURCE -o "$T/nb_shape" \
	"$VV_ROOT/tests/integration/netback/nb_shape.c" \
	"$VV_BUILD/lib/libnetback.a" "$VV_BUILD/lib/libcommon.a" -lmnl -ljson-c
S=$T/nb_shape
G=${NBP}g
mkns "$G"
vvh ip link add vvt$$s type veth peer name eth0 netns "$G"
D=vvt$$s
vvh ip addr add 10.89.0.1/24 dev "$D"
vvh ip link set "$D" up
ip netns exec "$G" ip addr add 10.89.0.2/24 dev eth0
ip netns exec "$G" ip link set eth0 up
pings "$G" 10.89.0.1 || fail "no link between G and H"

vvh iperf3 -s -D -B 10.89.0.1 --pidfile "$T/iperf3.pid" >/dev/null
for i in $(seq 50); do [[ -s $T/iperf3.pid ]] && break; sleep 0.1; done
at_exit 'kill $(cat '"$T"'/iperf3.pid) 2>/dev/null'
sleep 0.3

# mbit DIR: iperf3 from G for 4 s after a 1 s warm-up; DIR tx = the guest
# sends (the tap's ingress), rx = it receives (-R). Prints Mbit/s (x.y).
mbit() {
	local r=() out
	[[ $1 == rx ]] && r=(-R)
	out=$(ip netns exec "$G" iperf3 -c 10.89.0.1 -t 4 -O 1 "${r[@]}" -J) ||
		fail "iperf3 $1 failed: $out"
	jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | round / 10' <<<"$out"
}
# within DIR WANT_MBIT: the measured rate is within 10% of WANT.
within() {
	local got
	got=$(mbit "$1")
	note "$1 at $2M limit: $got Mbit/s"
	awk -v g="$got" -v w="$2" 'BEGIN { exit !(g >= 0.9 * w && g <= 1.1 * w) }' ||
		fail "$1: $got Mbit/s is not within 10% of $2"
}
# above DIR MBIT: faster than MBIT (no limit left).
above() {
	local got
	got=$(mbit "$1")
	note "$1 unlimited: $got Mbit/s"
	awk -v g="$got" -v w="$2" 'BEGIN { exit !(g > w) }' ||
		fail "$1: $got Mbit/s without a limit (want > $2)"
}

note "10M each way"
expect_exit 0 vvh "$S" "$D" 10M 10M
within tx 10
within rx 10

note "changed while up: rx 5M, tx 20M"
expect_exit 0 vvh "$S" "$D" 5M 20M
within rx 5
within tx 20

note "removed: full speed again, no ifb left"
expect_exit 0 vvh "$S" "$D" none none
above tx 100
above rx 100
qd=$(vvh tc qdisc show dev "$D")
[[ $qd == *tbf* || $qd == *ingress* ]] && fail "qdiscs left on $D: $qd"
links=$(vvh ip -o link show)
[[ $links == *vvifb* ]] && fail "ifb left behind: $links"
expect_exit 0 vvh "$S" "$D" none none        # removing twice is fine

note "a real tap: limits set and removed"
expect_exit 0 vv net create lab1
ip netns exec "$H" "$T/nb_attach" "$VHDVISOR_STATE" net lab1 web 0 >"$T/p.out" 2>&1 &
at_exit "kill $! 2>/dev/null"
for i in $(seq 100); do [[ -s $T/p.out ]] && break; sleep 0.1; done
read -r TAP _ <"$T/p.out" || fail "no answer from nb_attach"
expect_exit 0 vvh "$S" "$TAP" 10M 1.5M
qd=$(vvh tc qdisc show)
fl=$(vvh tc filter show dev "$TAP" ingress)
[[ $qd =~ tbf\ 1:\ dev\ $TAP\ root\ [^$'\n']*rate\ 10Mbit ]] || fail "no 10M tbf on $TAP: $qd"
[[ $fl == *"Redirect to device vvifb"* ]] || fail "no redirect on $TAP: $fl"
[[ $qd =~ dev\ vvifb[0-9]+\ root\ [^$'\n']*rate\ 1500Kbit ]] || fail "no 1.5M tbf on the ifb: $qd"
expect_exit 0 vvh "$S" "$TAP" none none
qd=$(vvh tc qdisc show dev "$TAP")
[[ $qd == *tbf* || $qd == *ingress* ]] && fail "qdiscs left on $TAP: $qd"
links=$(vvh ip -o link show)
[[ $links == *vvifb* ]] && fail "ifb left after clearing $TAP"

note "errors"
expect_exit 1 vvh "$S" vvnosuch0 10M 10M
assert_stderr "no interface vvnosuch0"
expect_exit 2 vvh "$S" "$D" 10Q none
expect_exit 2 vvh "$S" "$D" 1K none
note "ok"
