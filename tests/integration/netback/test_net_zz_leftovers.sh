#!/bin/bash
# serial
# After the other tests (serial tests run last): nothing of ours is left on
# the host: no vv bridge or tap in the host's namespace, no vhdvisor_
# nftables table, no dnsmasq started by a test, no namespace of a netback
# test.
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
	if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- '--pid-file=/tmp/vvtest\.'; then
		fail "dnsmasq of a test still runs: $(tr '\0' ' ' <"/proc/$p/cmdline")"
	fi
done
left=$(ip netns list | awk '{print $1}' | grep -E '^nb[0-9]+[a-z]' || true)
[[ -z $left ]] || fail "namespaces of netback tests left: $left"
echo "clean"
