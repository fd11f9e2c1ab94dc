#!/bin/bash
# CLI parity across the three doors (issue 12): the same scenario (an
# image imported here, vm create, clone --count 5, set, start of a real TCG
# guest, a live snapshot, stop, revert, snapshot and snapshot-rm, disk
# list, rm) run embedded (no daemon), through the local vhdvisord's Unix
# socket, and through --host over TLS with a token, each on a state
# directory of its own, prints the same and leaves the same catalog (vm
# list --json, each VM's snapshots and disks, normalized for what differs
# by nature: MACs, UUIDs, times, pids, the state directory, layer file
# names).
# Tokens (create, list, revoke) the same.
# Each door is proven: the guest's runtime carries the environment of the
# process that started it (the CLI's or the daemon's) and, over TLS, the
# audit log names the token for every change.
# serial
# timeout: 400
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
export VV_DOOR_MARK=cli
truncate -s 32M "$T/tmpl.raw"

# use DOOR: the door's own state and run directories, its image imported
# here (embedded: no daemon serves them yet)
use() {
	export VHDVISOR_STATE=$T/$1/state VHDVISOR_RUN=$T/$1/run
	SOCK=$VHDVISOR_RUN/vhdvisord.sock
	mkdir -p "$VHDVISOR_STATE" "$VHDVISOR_RUN" "$T/$1/out"
	chmod 0700 "$VHDVISOR_STATE" "$VHDVISOR_RUN"
	vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
	# shellcheck disable=SC2016 # expanded when the test exits
	at_exit "VHDVISOR_STATE='$VHDVISOR_STATE' VHDVISOR_RUN='$VHDVISOR_RUN' \"\$VHDVISOR\" vm stop c-1"
}

# scenario DOOR MARK [GLOBAL OPTIONS]: the commands, their stdout in
# $T/DOOR/out, the catalog normalized in $T/DOOR/catalog.json
scenario() {
	local door=$1 mark=$2 o=$T/$1/out pid
	shift 2
	vv "$@" vm create web --from tmpl --mem 128M >"$o/create"
	vv "$@" vm clone web c --count 5 >"$o/clone"
	vv "$@" vm clone web solo >"$o/clone1"
	vv "$@" vm set c-2 --cpus 2 --mem 192M >"$o/set"
	vv "$@" vm snapshot web >"$o/snapshot_default"
	vv "$@" vm start c-1 --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
		--append vv.run=hold --accel tcg >"$o/start"
	pid=$(sed -n 's/^started c-1 (pid \([0-9]*\))$/\1/p' "$o/start")
	[[ -n $pid ]] || fail "$door: start said: $(cat "$o/start")"
	for _ in $(seq 1 120); do
		grep -q VV-HOLD "$VHDVISOR_RUN/c-1.console" 2>/dev/null && break
		sleep 1
	done
	grep -q VV-HOLD "$VHDVISOR_RUN/c-1.console" || fail "$door: guest did not come up"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "VV_DOOR_MARK=$mark" ||
		fail "$door: the runtime was not started by the $mark"
	sed -i 's/(pid [0-9]*)/(pid PID)/' "$o/start"
	vv "$@" vm snapshot c-1 live >"$o/snapshot_live"
	vv "$@" vm set c-1 --cpus 3 2>"$o/set_running.err" >"$o/set_running"
	grep -q "c-1 runs: the change applies at its next start" "$o/set_running.err" ||
		fail "$door: no pending warning: $(cat "$o/set_running.err")"
	expect_exit 1 vv "$@" vm rm c-1
	grep -q "running" "$T/stderr" || fail "$door: rm of a running VM said: $(cat "$T/stderr")"
	vv "$@" vm stop c-1 >"$o/stop"
	gone "$pid" || fail "$door: runtime $pid still lives"
	vv "$@" vm revert c-1 live >"$o/revert"
	vv "$@" vm snapshot c-1 later >"$o/snapshot_later"
	vv "$@" vm snapshot-rm c-1 later >"$o/snapshot_rm"
	vv "$@" vm disk list web >"$o/disk_list"
	sed -i -E "s|$VHDVISOR_STATE|STATE|; s|/[0-9a-f]{16}\.vhd|/LAYER.vhd|" "$o/disk_list"
	vv "$@" vm rm c-5 c-4 >"$o/rm"
	# refusals: the same words and exit codes by every door
	expect_exit 1 vv "$@" vm create web --from tmpl
	cp "$T/stderr" "$o/err_create_exists"
	expect_exit 1 vv "$@" vm create w2 --from nosuch
	cp "$T/stderr" "$o/err_create_noimage"
	expect_exit 1 vv "$@" vm clone nosuch x
	cp "$T/stderr" "$o/err_clone_novm"
	expect_exit 1 vv "$@" vm revert c-1 nosuch
	expect_exit 1 vv "$@" vm snapshot-rm nosuch a
	cp "$T/stderr" "$o/err_snaprm_novm"
	expect_exit 1 vv "$@" vm rm c-5
	cp "$T/stderr" "$o/err_rm_gone"
	expect_exit 2 vv "$@" vm set web
	# tokens
	vv "$@" token create pt --role viewer 2>"$o/token_create.err" | grep -c '^vvt_[0-9a-f]*$' \
		>"$o/token_create"
	vv "$@" token list --json | jq -c '[.[] | select(.name == "pt") | .role]' >"$o/token_list"
	expect_exit 1 vv "$@" token create pt --role admin
	cp "$T/stderr" "$o/err_token_taken"
	vv "$@" token revoke pt >"$o/token_revoke"
	expect_exit 1 vv "$@" token revoke pt
	cp "$T/stderr" "$o/err_token_gone"
	# the catalog, by this door, normalized
	vv "$@" vm list >"$o/list"
	sed -i -E 's/[0-9a-f]{2}(:[0-9a-f]{2}){5}/MAC/' "$o/list"
	{
		vv "$@" vm list --json
		for v in web c-1 c-2 c-3 solo; do
			vv "$@" vm snapshots "$v" --json
			vv "$@" vm disk list "$v" --json
		done
	} | jq -S --arg s "$VHDVISOR_STATE" 'walk(
		if type == "object" then
			with_entries(select(.key | IN("mac", "uuid", "machine_id", "created", "pid",
				"ip", "console") | not))
		elif type == "string" then sub($s; "STATE") | sub("/[0-9a-f]{16}\\.vhd$"; "/LAYER.vhd")
		else . end)' >"$T/$door/catalog.json"
}

# same_as DOOR: its outputs and catalog are the embedded run's
same_as() {
	local f
	for f in "$T/embedded/out"/* "$T/embedded/catalog.json"; do
		cmp -s "$f" "${f/\/embedded\//\/$1\/}" ||
			fail "$1: ${f##*/} differs: $(diff "$f" "${f/\/embedded\//\/$1\/}")"
	done
}

note "embedded: no daemon"
use embedded
scenario embedded cli
grep -q " local:uid=0 POST /api/v1/vms/web/clone 200$" "$VHDVISOR_STATE/audit.log" ||
	fail "embedded clone not through the API: $(cat "$VHDVISOR_STATE/audit.log")"
assert_eq "$(vv vm list --json | jq -r '[.[].name] | sort | join(" ")')" "c-1 c-2 c-3 solo web" \
	"embedded: VMs left"
assert_eq "$(vv vm snapshots c-1 --json | jq -r '[.[].tag] | join(" ")')" "live" \
	"embedded: c-1's snapshots"
assert_eq "$(vv vm show c-2 --json | jq -c '[.cpus, .mem]')" "[2,201326592]" "embedded: set"
assert_eq "$(cat "$T/embedded/out/token_create")" 1 "embedded: a token's secret"
assert_eq "$(cat "$T/embedded/out/token_list")" '["viewer"]' "embedded: the token listed"

note "the local daemon's socket"
use local
VV_DOOR_MARK=daemon daemon_start
scenario local daemon
grep -q " local:uid=0 POST /api/v1/vms/web/clone 200$" "$VHDVISOR_STATE/audit.log" ||
	fail "local clone not audited"
same_as local
daemon_stop

note "--host over TLS with a token"
use remote
VV_DOOR_MARK=daemon daemon_start --listen 127.0.0.1:0
tok=$(vv token create parity --role admin | tail -1)
VHDVISOR_TOKEN=$tok scenario remote daemon --host "$URL"
for w in "POST /api/v1/vms " "POST /api/v1/vms/web/clone" "PATCH /api/v1/vms/c-2" \
	"POST /api/v1/vms/c-1/snapshots" "POST /api/v1/vms/c-1/snapshots/live/revert" \
	"DELETE /api/v1/vms/c-1/snapshots/later" "DELETE /api/v1/vms/c-5" \
	"POST /api/v1/tokens" "DELETE /api/v1/tokens/pt"; do
	grep -q " token:parity $w" "$VHDVISOR_STATE/audit.log" ||
		fail "remote: '$w' not audited with the token"
done
same_as remote
# what has no route stays on this host: refused with --host
expect_exit 2 vv --host "$URL" --token "$tok" vm set web --password -
assert_stderr "does not work with --host"
expect_exit 2 vv --host "$URL" --token "$tok" vm reset web
assert_stderr "vm reset does not work with --host"
daemon_stop
