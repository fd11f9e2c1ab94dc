#!/bin/bash
# CLI parity across the three doors for lab networks (issue 12): `net
# create/list/rm` embedded (no daemon), through the local vhdvisord's Unix
# socket and through --host over TLS with an admin's token print the same,
# refuse the same (taken name, overlapping subnet, bad name, unknown
# network) with the same words and exit codes, and make the same bridge
# and dnsmasq; everything in a network namespace of the test's own. The
# daemon's doors are proven by the audit log; net show/up have no route
# and refuse --host.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"
need_cmd curl jq
mkdir -p "$VHDVISOR_STATE" "$VHDVISOR_RUN"
chmod 0700 "$VHDVISOR_STATE" "$VHDVISOR_RUN"
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$H" "$VV_BUILD/bin/vhdvisord" >"$T/vhdvisord"
chmod 0700 "$T/vhdvisord"
VHDVISORD=$T/vhdvisord
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
export HOME=$T/home XDG_CONFIG_HOME=
unset VHDVISOR_HOST VHDVISOR_TOKEN VHDVISOR_FINGERPRINT
mkdir -p "$HOME"
log=$VHDVISOR_STATE/audit.log

# scenario DOOR [GLOBAL OPTIONS]: outputs in $T/DOOR
scenario() {
	local d=$T/$1
	shift
	mkdir -p "$d"
	vv "$@" net create p1 --subnet 10.98.1.0/24 --dhcp >"$d/create"
	vvh ip -o -4 addr show dev vvbr-p1 | grep -q 'inet 10.98.1.1/24' ||
		fail "${d##*/}: vvbr-p1 lacks its gateway"
	vv "$@" net create p2 >"$d/create2"
	vv "$@" net list >"$d/list"
	vv "$@" net list --json | jq -S 'map(del(.status.dnsmasq_pid, .bridge_mac))' >"$d/list.json"
	[[ $(vv "$@" net list --json | jq '.[0].status.dnsmasq_pid') -gt 0 ]] ||
		fail "${d##*/}: no dnsmasq for p1"
	expect_exit 1 vv "$@" net create p1
	cp "$T/stderr" "$d/err_taken"
	expect_exit 1 vv "$@" net create p3 --subnet 10.98.1.128/25
	cp "$T/stderr" "$d/err_overlap"
	expect_exit 1 vv "$@" net create Bad_Name
	cp "$T/stderr" "$d/err_badname"
	expect_exit 2 vv "$@" net create p3 --subnet 10.98.1.1/24
	cp "$T/stderr" "$d/err_subnet"
	expect_exit 1 vv "$@" net rm nope
	cp "$T/stderr" "$d/err_rm"
	vv "$@" net rm p1 >"$d/rm"
	vv "$@" net rm p2 --force >"$d/rm2"
	vvh ip link show vvbr-p1 >/dev/null 2>&1 && fail "${d##*/}: vvbr-p1 left behind"
	vv "$@" net list --json | jq -c . >"$d/list.after"
	assert_eq "$(cat "$d/list.after")" "[]" "${d##*/}: no network left"
}

same_as() {
	local f
	for f in "$T/embedded"/*; do
		cmp -s "$f" "$T/$1/${f##*/}" ||
			fail "$1: ${f##*/} differs: $(diff "$f" "$T/$1/${f##*/}")"
	done
}

note "embedded: no daemon"
scenario embedded
grep -q " local:uid=0 POST /api/v1/networks 200$" "$log" || fail "embedded create not through the API"
assert_eq "$(head -1 "$T/embedded/create")" "p1 vvbr-p1 10.98.1.0/24" "create's line"

note "the local daemon's socket"
lines=$(wc -l <"$log")
daemon_start
scenario local
same_as local
daemon_stop
(($(wc -l <"$log") > lines)) || fail "the local run left no audit lines"

note "--host over TLS with a token"
tok=$(vv token create nets --role admin 2>/dev/null)
daemon_start --listen 127.0.0.1:0
VHDVISOR_TOKEN=$tok scenario remote --host "$URL"
same_as remote
grep -q " token:nets POST /api/v1/networks 200$" "$log" || fail "no token audit of create"
grep -q " token:nets DELETE /api/v1/networks/p1 200$" "$log" || fail "no token audit of rm"
expect_exit 2 vv --host "$URL" --token "$tok" net show p1
assert_stderr "net show does not work with --host"
daemon_stop
