#!/bin/bash
# vhdvisord's metrics of a VM's NIC: the tiny template on a lab network
# with DHCP, started through the API; its NIC's tap is named in the stats
# and its byte and packet counters (the tap's /sys/class/net counters)
# rise once the guest has its lease.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl qemu-system-x86_64 genisoimage
export PATH=$VV_BUILD/bin:$PATH
tiny_template

net=s$$
vv net create "$net" --dhcp >/dev/null 2>"$T/net.err" ||
	skip "no lab network here: $(tail -1 "$T/net.err")"
at_exit "'$VHDVISOR' net rm --force $net"
vv lab create box --from tiny --count 1 --net "$net" >/dev/null
daemon_start
at_exit "'$VHDVISOR' vm stop box-1"
expect_status 200 "$(api POST /api/v1/vms/box-1/start -d '{"accel":"tcg"}')" "start"
wait_console box-1 'VV-IP=[0-9.]+' 240

note "the NIC's counters"
for _ in $(seq 1 50); do
	expect_status 200 "$(api GET /api/v1/vms/box-1/stats)" "stats"
	jq -e '(.points | length) >= 1 and .points[-1].nic0_rx_packets > 0 and
		.points[-1].nic0_tx_packets > 0' "$T/body" >/dev/null && break
	sleep 0.2
done
tap=$(jq -r '.nics[0].tap' "$T/body")
[[ $tap =~ ^[A-Za-z0-9_.-]+$ && -d /sys/class/net/$tap ]] || fail "tap '$tap' of nic 0: $(jq -c .nics "$T/body")"
jq '.points[-1]' "$T/body" >"$T/p"
jq -e '.nic0_rx_bytes > 0 and .nic0_tx_bytes > 0 and .nic0_rx_packets > 0 and
	.nic0_tx_packets > 0' "$T/p" >/dev/null || fail "nic counters: $(cat "$T/p")"
# what the sampler read is what the tap said then: never above it now
for s in rx_bytes rx_packets tx_bytes tx_packets; do
	now=$(cat "/sys/class/net/$tap/statistics/$s")
	jq -e --argjson n "$now" ".nic0_$s <= \$n" "$T/p" >/dev/null ||
		fail "nic0_$s $(jq ".nic0_$s" "$T/p") above the tap's $now"
done
note "$(jq -r '"tap '"$tap"': rx \(.nic0_rx_bytes) B / \(.nic0_rx_packets) pkts, tx \(.nic0_tx_bytes) B / \(.nic0_tx_packets) pkts"' "$T/p")"
expect_status 200 "$(api POST /api/v1/vms/box-1/stop)" "stop"
daemon_stop
true
