#!/bin/bash
# serial
# timeout: 600
# Real guests (QEMU TCG, Debian kernel, busybox) on lab networks:
# - two VMs on one network ping each other and move 20 MiB over TCP with
#   matching sha256; each sees the MAC it was given or generated for it;
# - a VM on a --dhcp --nat network gets a lease from its dnsmasq, reaches
#   the uplink namespace through NAT, and cannot reach the first network;
# - the taps are gone when the VMs stop; net rm leaves nothing.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"
vm_setup

U=${NBP}u
mkns $U
vvh ip link add vvt$$u type veth peer name eth0 netns $U
vvh ip addr add 192.168.213.1/24 dev vvt$$u
vvh ip link set vvt$$u up
ip netns exec $U ip addr add 192.168.213.2/24 dev eth0
ip netns exec $U ip link set eth0 up
vvh ip route add default via 192.168.213.2

expect_exit 0 vv net create lab --subnet 10.60.0.0/24
expect_exit 0 vv net create wan --subnet 10.61.0.0/24 --dhcp --nat

note "three guests: two on lab (20 MiB over TCP), one on wan (DHCP, NAT)"
start_vm clone-a lab "nb.ip=10.60.0.10/24 nb.do=recv,hold" 52:54:00:6e:62:01
start_vm clone-b lab "nb.ip=10.60.0.11/24 nb.do=ping:10.60.0.10,send:10.60.0.10:20"
start_vm wanvm wan "nb.dhcp=1 nb.do=ping:192.168.213.2,ping:10.61.0.1,noping:10.60.0.10,noping:10.60.0.1"
# clone-a holds until the others are done, so wanvm's probe of it is real.
wait_vms 400 clone-b wanvm clone-a

note "one network: ping and 20 MiB with matching checksums"
grep -aq NB-PING-OK "$T/clone-b.log" || fail "clone-b cannot ping clone-a"
sent=$(vmval clone-b NB-SEND-SHA)
[[ -n $sent ]] || fail "clone-b sent nothing"
assert_eq "$(vmval clone-a NB-RECV-BYTES)" "20971520" "bytes received by clone-a"
assert_eq "$(vmval clone-a NB-RECV-SHA)" "$sent" "sha256 of 20 MiB clone-b -> clone-a"
cs=$(vmval clone-b NB-SEND-CSECS)
note "20 MiB guest to guest in $((cs / 100)).$((cs % 100)) s (TCG)"

note "the guests see their MACs"
assert_eq "$(vmval clone-a NB-MAC)" "52:54:00:6e:62:01" "given MAC in the guest"
macb=$(vmval clone-b NB-MAC)
# The MAC netback generates for NIC 0 of a VM named clone-b.
want=$(NB_ATTACH_ONCE=1 ip netns exec "$H" "$T/nb_attach" "$VHDVISOR_STATE" net lab clone-b 0 | sed -n "1s/.* //p")
assert_eq "$macb" "$want" "generated MAC in the guest"
(( (0x${macb:0:2} & 3) == 2 )) || fail "generated MAC $macb is not local unicast"
[[ $macb != "$(vmval wanvm NB-MAC)" ]] || fail "two VMs got the same generated MAC"

note "DHCP and NAT from a guest"
lease=$(vmval wanvm NB-LEASE)
[[ $lease =~ ^10\.61\.0\.([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 128)) || fail "wanvm lease '$lease'"
expect_exit 0 vv net show wan --json
assert_eq "$(jq -r --arg m "$(vmval wanvm NB-MAC)" '.leases[] | select(.mac == $m) | .ip' "$T/stdout")" "$lease" "lease listed by net show"
grep -aq NB-PING-OK "$T/wanvm.log" || fail "wanvm cannot reach the uplink through NAT"
assert_eq "$(grep -ac NB-PING-OK "$T/wanvm.log")" "2" "wanvm pings: uplink, own gateway"
assert_eq "$(grep -ac NB-NOPING-OK "$T/wanvm.log")" "2" "wanvm probes of the other network (guest, gateway) that must fail"

note "stopped VMs leave no tap"
left=$(vvh ip -o link show | awk -F': ' '{print $2}' | grep vvtap || true)
[[ -z $left ]] || fail "taps left after the VMs stopped: $left"
expect_exit 0 vv net rm lab
expect_exit 0 vv net rm wan
assert_clean
