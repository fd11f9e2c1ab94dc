# tests/integration/netback/nblib.sh: sourced by the netback tests after
# lib.sh. Everything happens inside network namespaces the test creates;
# the product runs in the namespace $H ("the host"), with its state and run
# directories under $T. Only loopback and addresses inside these
# namespaces are ever used.
#
#   H                 the host namespace of this test (created here)
#   vvh CMD...        runs CMD in $H with the test's VHDVISOR_STATE/RUN
#   vv ARGS...        runs "$VHDVISOR ARGS" in $H
#   mkns NAME         creates namespace NAME (lo up), deleted at exit
#   client NS BR [ADDR/LEN]
#                     a namespace NS with a veth "eth0" whose peer is a port
#                     of bridge BR in $H, optionally with a static address
#   assert_clean      nothing of ours left in $H and no dnsmasq of this test
#   pings NS ADDR, alive PID, dhcp_client NS, lease NS VAR,
#   tcp_xfer FROM TO ADDR FILE, build_attach, vm_setup, start_vm,
#   wait_vms, vmval: described where they are defined below

[[ $(id -u) == 0 ]] || skip "needs root for network namespaces"
need_cmd ip nft dnsmasq jq busybox
[[ -e /dev/net/tun ]] || skip "/dev/net/tun is missing"

export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run
# Namespace names are global: derive them from the PID of this test.
NBP=nb$$
H=${NBP}h
_nb_ns=()

mkns() {
	ip netns add "$1"
	_nb_ns+=("$1")
	at_exit "ip netns del $1"
	ip netns exec "$1" ip link set lo up
}

vvh() { ip netns exec "$H" "$@"; }
vv() { ip netns exec "$H" "$VHDVISOR" "$@"; }

# Kills the dnsmasq processes this test started (by their pidfiles), for
# cleanup after a failure; net rm does it otherwise.
_nb_kill_dnsmasq() {
	local f
	for f in "$VHDVISOR_RUN"/net/*/dnsmasq.pid; do
		[[ -e $f ]] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}
mkns "$H"
at_exit _nb_kill_dnsmasq

_nb_veth=0
client() {
	local ns=$1 br=$2 addr=${3:-} peer
	_nb_veth=$((_nb_veth + 1))
	peer=vvt$$x$_nb_veth
	mkns "$ns"
	vvh ip link add "$peer" type veth peer name eth0 netns "$ns"
	vvh ip link set "$peer" master "$br" up
	ip netns exec "$ns" ip link set eth0 up
	[[ -z $addr ]] || ip netns exec "$ns" ip addr add "$addr" dev eth0
}

# pings NS ADDR: an echo reply within 3 tries of 1 s (exit 0), or none.
pings() {
	ip netns exec "$1" busybox ping -A -c 3 -W 1 -w 3 -q "$2" >/dev/null 2>&1
}

# No vv bridge or tap, no vhdvisor_ table in $H; no dnsmasq of this test.
assert_clean() {
	local left
	left=$(vvh ip -o link show | awk -F': ' '{print $2}' | grep -E '^vv(br|tap)' || true)
	[[ -z $left ]] || fail "links left behind: $left"
	left=$(vvh nft list tables | grep vhdvisor_ || true)
	[[ -z $left ]] || fail "nftables tables left behind: $left"
	local p
	for p in $(pgrep -f -- "--pid-file=$VHDVISOR_RUN/" || true); do
		alive "$p" || continue
		fail "dnsmasq left running: $(tr '\0' ' ' </proc/"$p"/cmdline)"
	done
}

# alive PID: the process runs (a zombie does not count: daemons we start
# are orphans, and not every init here reaps them at once).
alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

# build_attach: compiles nb_attach.c against the libraries under test into
# $T/nb_attach.
build_attach() {
	need_cmd gcc
	gcc ${VV_SAN:-} -I"$VV_ROOT" -D_GNU_SOURCE -o "$T/nb_attach" \
		"$VV_ROOT/tests/integration/netback/nb_attach.c" \
		"$VV_BUILD/lib/libnetback.a" "$VV_BUILD/lib/libcommon.a" -lmnl -ljson-c
}

# dhcp_client NS [HOSTNAME]: runs busybox udhcpc on NS's eth0 once; the
# lease's variables land in $T/NS.lease (ip=, subnet=, router=, dns=,
# domain=) and the address is set on eth0. Fails without a lease.
dhcp_client() {
	local ns=$1 host=${2:-$1} script=$T/udhcpc.script
	cat >"$script" <<'EOS'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
	{ echo "ip=$ip"; echo "mask=$mask"; echo "router=$router"; echo "dns=$dns";
	  echo "domain=$domain"; } >"$LEASE_OUT"
	;;
esac
exit 0
EOS
	chmod +x "$script"
	LEASE_OUT=$T/$ns.lease ip netns exec "$ns" busybox udhcpc -i eth0 -n -q \
		-t 5 -T 1 -x "hostname:$host" -s "$script" >"$T/$ns.udhcpc" 2>&1 \
		|| { cat "$T/$ns.udhcpc"; fail "no DHCP lease in $ns"; }
	[[ -s $T/$ns.lease ]] || fail "udhcpc in $ns wrote no lease"
}
lease() { sed -n "s/^$2=//p" "$T/$1.lease"; } # lease NS VAR

# tcp_xfer FROM_NS TO_NS TO_ADDR FILE: sends FILE with busybox nc from
# FROM_NS to a listener in TO_NS (port 5000); the received bytes land in
# FILE.recv. Fails when they differ. (The listener's stdin must not reach
# EOF early: busybox nc quits when its stdin ends.)
tcp_xfer() {
	local from=$1 to=$2 addr=$3 file=$4 lpid
	(ip netns exec "$to" timeout 60 busybox nc -l -p 5000 >"$file.recv" < <(sleep 60)) &
	lpid=$!
	sleep 0.3
	ip netns exec "$from" timeout 60 busybox nc "$addr" 5000 <"$file" || true
	wait $lpid || true
	assert_eq "$(sha "$file.recv")" "$(sha "$file")" "sha256 of $(stat -c %s "$file") bytes $from -> $to"
}

# vm_setup: guest material (scripts/guest/build.sh) and an initramfs with
# guest_init as /init in $T/initrd.img; sets KERNEL. Skips when QEMU or the
# guest material is missing. VM_PATH says how VMs are started: "run" when
# `vhdvisor run` takes --nic, else "qemu": QEMU started by nb_attach with
# the tap descriptor from netback_nic_attach (what hv's engine does).
vm_setup() {
	local g
	need_cmd qemu-system-x86_64 cpio gzip
	g=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>"$T/guest.err") ||
		skip "guest material unavailable: $(tail -1 "$T/guest.err")"
	[[ -r $g/vmlinux && -d $g/rootfs ]] || skip "guest material incomplete in $g"
	KERNEL=$g/vmlinux
	mkdir "$T/groot"
	cp -a "$g/rootfs/." "$T/groot/"
	install -m 0755 "$VV_ROOT/tests/integration/netback/guest_init" "$T/groot/init"
	(cd "$T/groot" && find . | cpio -o -H newc --quiet | gzip -1 >"$T/initrd.img")
	build_attach
	if "$VHDVISOR" run --help 2>/dev/null | grep -q -- '--nic'; then
		VM_PATH=run
	else
		VM_PATH=qemu
	fi
	note "VMs start through: $VM_PATH"
}

# start_vm NAME NET "GUEST ARGS" [MAC]: boots a TCG guest with one NIC on
# lab network NET in $H, console in $T/NAME.log; the host-side MAC line of
# nb_attach (qemu path) in $T/NAME.out.
start_vm() {
	local name=$1 net=$2 args=$3 mac=${4:-}
	if [[ $VM_PATH == run ]]; then
		ip netns exec "$H" "$VHDVISOR" run --name "$name" --accel tcg \
			--kernel "$KERNEL" --initrd "$T/initrd.img" \
			--append "quiet $args" --console "file:$T/$name.log" \
			--nic "net=$net${mac:+,mac=$mac}" >"$T/$name.out" 2>&1 &
	else
		ip netns exec "$H" "$T/nb_attach" "$VHDVISOR_STATE" net "$net" "$name" 0 $mac -- \
			qemu-system-x86_64 -nodefaults -no-user-config -machine q35 -accel tcg \
			-m 256M -display none -kernel "$KERNEL" -initrd "$T/initrd.img" \
			-append "console=ttyS0 quiet $args" -serial "file:$T/$name.log" \
			-netdev "tap,id=n0,fd={fd}" -device "virtio-net-pci,netdev=n0,mac={mac}" \
			>"$T/$name.out" 2>&1 &
	fi
	eval "VMPID_${name//-/_}=$!"
	at_exit "kill $! 2>/dev/null"
}

# wait_vms SECONDS NAME...: until every guest printed NB-END (and exited)
# or NB-HOLD (then it is stopped here, as a VM is stopped).
wait_vms() {
	local limit=$1 n
	shift
	SECONDS=0
	for n; do
		until grep -aqE 'NB-END|NB-HOLD' "$T/$n.log" 2>/dev/null; do
			((SECONDS < limit)) || { tail -5 "$T/$n.log" "$T/$n.out" 2>/dev/null; fail "VM $n did not finish in ${limit}s"; }
			sleep 1
		done
	done
	for n; do
		grep -aq NB-HOLD "$T/$n.log" && eval "kill \$VMPID_${n//-/_}"
		eval "wait \$VMPID_${n//-/_}" || true
	done
}
vmval() { sed -n "s/^$2=//p" "$T/$1.log" | tr -d '\r' | tail -1; } # vmval VM KEY
