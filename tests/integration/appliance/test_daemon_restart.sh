#!/bin/bash
# A VM started through vhdvisord outlives the daemon: after kill -9 of the
# daemon the guest keeps running, a restarted daemon (same state and run
# directories, same TCP port: the runtime holds none of the daemon's
# sockets) lists it as running with the same pid, and stops it.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create web --from tmpl --mem 128M >/dev/null
at_exit '"$VHDVISOR" vm stop web'

daemon_start --listen 127.0.0.1:0
port=${URL##*:}
body=$(jq -nc --arg k "$G/vmlinux" --arg i "$G/initrd.img" \
	'{kernel: $k, initrd: $i, append: "vv.run=hold", accel: "tcg"}')
expect_status 200 "$(api POST /api/v1/vms/web/start -d "$body")" "start"
pid=$(jq -r .pid "$T/body")
for _ in $(seq 1 120); do
	grep -q VV-HOLD "$VHDVISOR_RUN/web.console" 2>/dev/null && break
	sleep 1
done
grep -q VV-HOLD "$VHDVISOR_RUN/web.console" || fail "guest did not come up"

note "kill -9 of the daemon"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
sleep 1
gone "$pid" && fail "the VM died with the daemon"
assert_eq "$(vv vm status web --json | jq .running)" true "running after the daemon died"

note "restart on the same port"
daemon_start --listen "127.0.0.1:$port"
assert_eq "${URL##*:}" "$port" "same port"
expect_status 200 "$(api GET /api/v1/vms)" "list after restart"
assert_eq "$(jq -r '.[] | select(.name == "web") | .state + ":" + (.pid | tostring)' "$T/body")" \
	"running:$pid" "listed as running"
expect_status 200 "$(api POST /api/v1/vms/web/stop)" "stop after restart"
assert_eq "$(jq -r .killed "$T/body")" false "stopped cleanly"
gone "$pid" || fail "runtime $pid still lives"
expect_status 200 "$(api GET /api/v1/vms/web)" "show"
assert_eq "$(jq -r .state "$T/body")" stopped "state after stop"
daemon_stop
