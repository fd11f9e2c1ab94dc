#!/bin/bash
# serial
# After the other tests (serial tests run last): nothing of ours is left on
# the host: no vv bridge or tap and no vhdvisor_ nftables table in the
# host's namespace (tests work only inside their own namespaces), no
# dnsmasq of a finished test, no namespace of a finished netback test.
# Other test runs may be going on at the same time (several engineers share
# this machine), so dnsmasq and namespaces count only when the test that
# made them is gone: its $T folder (dnsmasq's pidfile path) or its PID
# (the namespace names nb<PID>...) no longer exist.
source "$VV_ROOT/tests/integration/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root to see nftables"
need_cmd ip nft

left=$(ip -o link show | awk -F': ' '{print $2}' | grep -E '^vv(br|tap)' || true)
[[ -z $left ]] || fail "links left in the host namespace: $left"
left=$(nft list tables | grep vhdvisor_ || true)
[[ -z $left ]] || fail "nftables tables left in the host namespace: $left"
for p in $(pgrep -x dnsmasq || true); do
	st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
	[[ $st == Z ]] && continue
	pidfile=$(tr '\0' '\n' <"/proc/$p/cmdline" | sed -n 's/^--pid-file=//p')
	[[ $pidfile == /tmp/vvtest.* ]] || continue
	tdir=${pidfile#/tmp/}
	tdir=/tmp/${tdir%%/*}
	[[ -d $tdir ]] || fail "dnsmasq $p of a finished test still runs ($pidfile)"
done
for ns in $(ip netns list | awk '{print $1}' | grep -E '^nb[0-9]+[a-z]' || true); do
	pid=${ns#nb}
	pid=${pid%%[a-z]*}
	[[ -d /proc/$pid ]] || fail "namespace $ns of a finished netback test is left"
done
echo "clean"
