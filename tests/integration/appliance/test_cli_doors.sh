#!/bin/bash
# The CLI's three doors to one API (appliance/client.h): the same scenario
# (image list/show, vm list/show, start and stop of a real TCG guest)
# embedded (no daemon), through the local vhdvisord's Unix socket, and
# through --host over TLS with a token gives the same outputs and leaves
# the same catalog. Each door is proven: the runtime of a started VM
# carries the environment of the process that started it (the CLI's or
# the daemon's), and the audit log names who asked (a token only over
# TLS). Over TLS: the certificate is trusted on first use with a message
# and recorded in known_hosts, a wrong --fingerprint or a changed known
# host is refused before any request is sent, a wrong token is a clear
# error with exit 1, a viewer may not start, and commands without a route
# refuse --host instead of acting on this host.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH   # hv's runtime serves disks with our vhd tool
export HOME=$T/home XDG_CONFIG_HOME=
unset VHDVISOR_HOST VHDVISOR_TOKEN VHDVISOR_FINGERPRINT
mkdir -p "$HOME"
# the CLI's runs carry this; the daemon is started with "daemon"
export VV_DOOR_MARK=cli

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create web --from tmpl --mem 128M >/dev/null
# shellcheck disable=SC2016 # expanded when the test exits
at_exit '"$VHDVISOR" vm stop web'
log=$VHDVISOR_STATE/audit.log

# scenario DIR [GLOBAL OPTIONS]: the commands, their outputs in $T/DIR
# (pids replaced by PID); checks the runtime carries $2's door mark
scenario() {
	local door=$1 d=$T/$1 mark=$2 pid
	shift 2
	mkdir -p "$d"
	vv "$@" image list >"$d/image_list"
	vv "$@" image show tmpl >"$d/image_show"
	vv "$@" image show tmpl --json >"$d/image_show.json"
	vv "$@" vm list >"$d/vm_list.stopped"
	vv "$@" vm show web >"$d/vm_show.stopped"
	vv "$@" vm start web --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
		--append vv.run=hold --accel tcg >"$d/start"
	pid=$(sed -n 's/^started web (pid \([0-9]*\))$/\1/p' "$d/start")
	[[ -n $pid ]] || fail "$door: start said: $(cat "$d/start")"
	for _ in $(seq 1 120); do
		grep -q VV-HOLD "$VHDVISOR_RUN/web.console" 2>/dev/null && break
		sleep 1
	done
	grep -q VV-HOLD "$VHDVISOR_RUN/web.console" || fail "$door: guest did not come up"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "VV_DOOR_MARK=$mark" ||
		fail "$door: the runtime was not started by the $mark"
	expect_exit 1 vv "$@" vm start web
	assert_stderr "web is already running"
	vv "$@" vm list >"$d/vm_list.running"
	vv "$@" vm show web | sed "s/^pid  *$pid$/pid         PID/" >"$d/vm_show.running"
	vv "$@" vm stop web >"$d/stop"
	assert_eq "$(cat "$d/stop")" "stopped web" "$door: stop"
	gone "$pid" || fail "$door: runtime $pid still lives"
	expect_exit 1 vv "$@" vm stop web
	assert_stderr "web is not running"
	expect_exit 1 vv "$@" vm show nosuch
	assert_stderr "no VM 'nosuch'"
	vv "$@" vm list >"$d/vm_list.after"
	vv "$@" vm show web --json | jq -S . >"$d/vm_show.json"
	sed -i 's/(pid [0-9]*)/(pid PID)/' "$d/start"
	grep -q "^state  *running$" "$d/vm_show.running" || fail "$door: not running: $(cat "$d/vm_show.running")"
}

# same_as DIR: DIR's outputs are those of the embedded run
same_as() {
	local f
	for f in "$T/embedded"/*; do
		cmp -s "$f" "$T/$1/${f##*/}" ||
			fail "$1: ${f##*/} differs: $(diff "$f" "$T/$1/${f##*/}")"
	done
}

note "embedded: no daemon"
vv host show >"$T/host"
grep -q "^api  *embedded (no daemon)$" "$T/host" || fail "host show: $(cat "$T/host")"
grep -q "^certificate  *none yet" "$T/host" || fail "a certificate before the daemon ran"
scenario embedded cli
grep -q " local:uid=0 POST /api/v1/vms/web/start 200$" "$log" || fail "embedded start not audited"
assert_eq "$(grep -c " POST /api/v1/vms/web/st" "$log")" 4 \
	"audit lines of the embedded run (2 starts, 2 stops)"

note "the local daemon's socket"
VV_DOOR_MARK=daemon daemon_start --listen 127.0.0.1:0
fp=$(jq -r .fingerprint "$VHDVISOR_RUN/vhdvisord.json")
vv host show >"$T/host"
grep -q "^api  *vhdvisord (local socket) at $SOCK$" "$T/host" || fail "host show: $(cat "$T/host")"
grep -q "^certificate  *SHA-256 $fp$" "$T/host" || fail "host show fingerprint: $(cat "$T/host")"
assert_eq "$(vv host show --json | jq -r .tls_fingerprint)" "$fp" "GET /host's fingerprint"
scenario local daemon
assert_eq "$(grep -c " local:uid=0 POST /api/v1/vms/web/st" "$log")" 8 \
	"audit lines after the local run (4 more)"
same_as local

note "--host over TLS with a token"
# admin: only admin may name the kernel and initrd to boot
tok=$(vv token create cli --role admin | tail -1)
view=$(vv token create looker --role viewer | tail -1)
expect_exit 0 vv --host "$URL" --token "$tok" vm list
assert_stderr "first connection; trusting its certificate, SHA-256 fingerprint $fp"
kh=$HOME/.config/vhdvisor/known_hosts
assert_eq "$(cat "$kh")" "${URL#https://} $fp" "known_hosts"
assert_eq "$(stat -c %a "$kh")" 600 "known_hosts mode"
VHDVISOR_TOKEN=$tok scenario remote daemon --host "$URL"
same_as remote
grep -q " token:cli POST /api/v1/vms/web/start 200$" "$log" || fail "no token audit: $(cat "$log")"
grep -q " token:cli POST /api/v1/vms/web/stop 200$" "$log" || fail "no token audit of stop"
vv --host "$URL" --token "$tok" host show >"$T/host"
grep -q "^api  *vhdvisord (HTTPS) at $URL$" "$T/host" || fail "host show: $(cat "$T/host")"
# the known host and the explicit pin both pass, quietly
expect_exit 0 vv --host "$URL" --token "$tok" --fingerprint "${fp,,}" vm list
[[ -s $T/stderr ]] && fail "a pinned run said: $(cat "$T/stderr")"

note "refused: a wrong fingerprint, a changed certificate, a wrong token, a viewer"
lines=$(wc -l <"$log")
bad=00${fp:2}
expect_exit 1 vv --host "$URL" --token "$tok" --fingerprint "$bad" vm start web
assert_stderr "shows a certificate with SHA-256 fingerprint $fp, not the --fingerprint $bad: refused"
echo "${URL#https://} $bad" >"$kh"
expect_exit 1 vv --host "$URL" --token "$tok" vm start web
assert_stderr "not the known one $bad: refused"
assert_eq "$(wc -l <"$log")" "$lines" "no request reached the daemon"
rm "$kh"
expect_exit 1 vv --host "$URL" --token vvt_nosuchtoken vm list
assert_stderr "^vhdvisor: error: $URL: unknown or revoked token \(HTTP 401\)$"
expect_exit 1 vv --host "$URL" --token "$view" vm start web
assert_stderr "$URL: role viewer may not POST .* \(HTTP 403\)"
expect_exit 2 vv --host "$URL" vm list
assert_stderr "needs a token"
expect_exit 2 vv --host "http://${URL#https://}" --token "$tok" vm list
assert_stderr "only https://"
expect_exit 2 vv --host "$URL" --token "$tok" --fingerprint nothex vm list
assert_stderr "bad --fingerprint"
# what has no route yet refuses the remote host instead of acting here
expect_exit 2 vv --host "$URL" --token "$tok" vm reset web
assert_stderr "vm reset does not work with --host"
expect_exit 2 vv --host "$URL" --token "$tok" lab list
assert_stderr "lab does not work with --host"
VHDVISOR_HOST=$URL expect_exit 2 vv image rm tmpl
vv vm show web >/dev/null || fail "web is gone"

note "after the daemon: embedded again"
daemon_stop
vv host show >"$T/host"
grep -q "^api  *embedded (no daemon)$" "$T/host" || fail "host show: $(cat "$T/host")"
vv vm list >"$T/list.end"
assert_eq "$(cat "$T/list.end")" "$(cat "$T/embedded/vm_list.after")" "catalog after all doors"
