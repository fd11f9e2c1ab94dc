#!/bin/bash
# Lab network data path: ours (vhdvisor net create: bridge via rtnetlink
# with our nftables tables; taps from netback_nic_attach) against the same
# built by hand with ip(8), in the same run, inside namespaces created here.
#
# 1. Namespace stand-ins: two namespaces on veth ports of the bridge; TCP
#    throughput (iperf3, 3 s) and ping latency (busybox ping, average of
#    200), median of 5 rounds, ours and by hand alternating.
# 2. Guests (QEMU TCG): two VMs, one on each tap, sender -> receiver 8 MiB
#    over TCP (busybox nc) and 40 pings, on our taps vs taps made with
#    `ip tuntap` and QEMU's `-netdev tap,ifname=...,script=no`; best of 2
#    rounds, the first with ours first, the second by hand first. TCG
#    emulation bounds both; on a loaded machine expect +-30% noise.
#    Set VV_BENCH_NET_VMS=0 to skip this part.
# Ratios > 1 mean ours is faster (throughput) or quicker (latency).
#
# Reuses the integration helpers (namespaces, guest boot) of
# tests/integration/netback/nblib.sh.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"
need_cmd bc iperf3

ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

# ns_pair BR TAG ADDR_S ADDR_R: namespaces ${NBP}TAGs and ${NBP}TAGr on BR.
ns_pair() {
	client ${NBP}$2s "$1" "$3/24"
	client ${NBP}$2r "$1" "$4/24"
}

# ns_tput TAG ADDR_R: MiB/s received by iperf3 in 3 s.
ns_tput() {
	ip netns exec ${NBP}$1r iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local spid=$!
	sleep 0.5
	ip netns exec ${NBP}$1s iperf3 -c "$2" -p 5201 -t 3 -J >"$T/iperf.json" ||
		{ kill $spid; fail "iperf3 to $2 failed"; }
	wait $spid || true
	jq '.end.sum_received.bits_per_second / 8 / 1048576 | floor' "$T/iperf.json"
}

# best A B: the larger number.
best() { (( $(echo "$1 > $2" | bc) )) && echo "$1" || echo "$2"; }
# least A B: the smaller number.
least() { (( $(echo "$1 < $2" | bc) )) && echo "$1" || echo "$2"; }

# ns_lat TAG ADDR_R: average round trip in ms of 200 pings.
ns_lat() {
	ip netns exec ${NBP}$1s busybox ping -c 200 -i 0.005 -q "$2" |
		sed -n 's|.*min/avg/max = [^/]*/\([^/]*\)/.*|\1|p'
}

note "namespaces: ours"
expect_exit 0 vv net create bench --subnet 10.70.0.0/24
ns_pair vvbr-bench o 10.70.0.10 10.70.0.11
note "namespaces: by hand"
vvh ip link add nbmbr$$ type bridge
vvh ip addr add 10.71.0.1/24 dev nbmbr$$
vvh ip link set nbmbr$$ up
ns_pair nbmbr$$ m 10.71.0.10 10.71.0.11
pings ${NBP}os 10.70.0.11 && pings ${NBP}ms 10.71.0.11 || fail "a bench pair cannot ping"

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
to=() tm=() lo=() lm=()
for round in 1 2 3 4 5; do
	if ((round % 2)); then
		to+=("$(ns_tput o 10.70.0.11)") tm+=("$(ns_tput m 10.71.0.11)")
		lo+=("$(ns_lat o 10.70.0.11)") lm+=("$(ns_lat m 10.71.0.11)")
	else
		tm+=("$(ns_tput m 10.71.0.11)") to+=("$(ns_tput o 10.70.0.11)")
		lm+=("$(ns_lat m 10.71.0.11)") lo+=("$(ns_lat o 10.70.0.11)")
	fi
done
echo "rounds: TCP MiB/s ours ${to[*]} | by hand ${tm[*]}"
echo "rounds: ping ms   ours ${lo[*]} | by hand ${lm[*]}"
t_o=$(echo "${to[*]}" | median) t_m=$(echo "${tm[*]}" | median)
l_o=$(echo "${lo[*]}" | median) l_m=$(echo "${lm[*]}" | median)
printf '%-44s ours %8s MiB/s  by hand %8s MiB/s  ratio %sx\n' \
	"TCP, namespaces on the bridge (iperf3, median)" "$t_o" "$t_m" "$(ratio "$t_o" "$t_m")"
printf '%-44s ours %8s ms     by hand %8s ms     ratio %sx\n' \
	"ping, namespaces (avg of 200, median)" "$l_o" "$l_m" "$(ratio "$l_m" "$l_o")"

[[ ${VV_BENCH_NET_VMS:-1} == 1 ]] || exit 0
vm_setup

# manual_vm NAME TAP ARGS: QEMU on a tap made by hand, attached to nbmbr.
manual_vm() {
	vvh ip tuntap add "$2" mode tap vnet_hdr
	vvh ip link set "$2" master nbmbr$$ up
	at_exit "ip netns exec $H ip link del $2"
	ip netns exec "$H" qemu-system-x86_64 -nodefaults -no-user-config -machine q35 \
		-accel tcg -m 256M -display none -kernel "$KERNEL" -initrd "$T/initrd.img" \
		-append "console=ttyS0 quiet $3" -serial "file:$T/$1.log" \
		-netdev "tap,id=n0,ifname=$2,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=52:54:00:6d:00:$4" >"$T/$1.out" 2>&1 &
	eval "VMPID_$1=$!"
	at_exit "kill $! 2>/dev/null"
}

# Our taps, through the path hv uses (netback_nic_attach -> fd= to QEMU).
VM_PATH=qemu
MIB=8
g_o=0 g_m=0 p_o=1000000 p_m=1000000
ours_pair() {
	note "guests, round $1: ours"
	start_vm oa$1 bench "nb.ip=10.70.0.20/24 nb.do=recv,hold"
	start_vm ob$1 bench "nb.ip=10.70.0.21/24 nb.do=ping:10.70.0.20,pingstat:10.70.0.20:40,send:10.70.0.20:$MIB"
	wait_vms 400 ob$1 oa$1
}
hand_pair() {
	note "guests, round $1: by hand"
	manual_vm ma$1 nbm$$a$1 "nb.ip=10.71.0.20/24 nb.do=recv,hold" 0$1
	manual_vm mb$1 nbm$$b$1 "nb.ip=10.71.0.21/24 nb.do=ping:10.71.0.20,pingstat:10.71.0.20:40,send:10.71.0.20:$MIB" 1$1
	wait_vms 400 mb$1 ma$1
}
for round in 1 2; do
	if ((round == 1)); then
		ours_pair $round
		hand_pair $round
	else
		hand_pair $round
		ours_pair $round
	fi
	for v in oa ma; do
		assert_eq "$(vmval $v$round NB-RECV-BYTES)" "$((MIB << 20))" "bytes received by $v$round"
	done
	assert_eq "$(vmval oa$round NB-RECV-SHA)" "$(vmval ob$round NB-SEND-SHA)" "sha256 over our taps"
	g_o=$(best "$g_o" "$(echo "$MIB * 100 / $(vmval ob$round NB-SEND-CSECS)" | bc -l)")
	g_m=$(best "$g_m" "$(echo "$MIB * 100 / $(vmval mb$round NB-SEND-CSECS)" | bc -l)")
	p_o=$(least "$p_o" "$(vmval ob$round NB-PING-AVG)")
	p_m=$(least "$p_m" "$(vmval mb$round NB-PING-AVG)")
	echo "round $round: TCP csecs ours $(vmval ob$round NB-SEND-CSECS) by hand $(vmval mb$round NB-SEND-CSECS);" \
		"ping ms ours $(vmval ob$round NB-PING-AVG) by hand $(vmval mb$round NB-PING-AVG)"
done
g_o=$(printf '%.2f' "$g_o") g_m=$(printf '%.2f' "$g_m")
printf '%-44s ours %8s MiB/s  by hand %8s MiB/s  ratio %sx\n' \
	"TCP, TCG guest to guest ($MIB MiB, best of 2)" "$g_o" "$g_m" "$(ratio "$g_o" "$g_m")"
printf '%-44s ours %8s ms     by hand %8s ms     ratio %sx\n' \
	"ping, TCG guest to guest (avg of 40, best of 2)" "$p_o" "$p_m" "$(ratio "$p_m" "$p_o")"
if [[ -e /dev/vhost-net ]]; then
	echo "vhost-net: present (neither side asked for it)"
else
	echo "vhost-net: absent here, both sides without it"
fi
expect_exit 0 vv net rm bench
