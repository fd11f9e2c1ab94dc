#!/bin/bash
# vhdvisord's event stream and lab tasks, with real TCG guests: GET
# /api/v1/events (curl -N on the Unix socket) shows a VM started and
# stopped through the API, a VM started and powered off outside the
# daemon (the pidfile watcher), and a lab start task's progress to 100%;
# lab start/stop/reset run as tasks (202) through the same library calls
# as `vhdvisor lab`; a second stream is served
# at the same time; SIGTERM ends the streams and the daemon exits 0.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH   # hv's runtime serves disks with our vhd tool

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create web --from tmpl --mem 128M >/dev/null
vv vm create solo --from tmpl --mem 128M >/dev/null
vv lab create duo --from tmpl --count 2 --mem 128M >/dev/null
at_exit '"$VHDVISOR" vm stop web'
at_exit '"$VHDVISOR" vm stop solo'
at_exit '"$VHDVISOR" lab stop duo'

daemon_start

# stream FILE: an event stream into FILE (headers in FILE.hdr); returns
# once the daemon answered, so it is subscribed. Its pid in $STREAM.
stream() {
	curl -sS -N --unix-socket "$SOCK" -D "$1.hdr" -o "$1" http://localhost/api/v1/events \
		2>"$1.err" &
	STREAM=$!
	at_exit "kill $STREAM"
	for _ in $(seq 1 100); do
		grep -qi '^content-type: text/event-stream' "$1.hdr" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no event stream: $(cat "$1.hdr" "$1.err" 2>/dev/null)"
}

# events FILE: the data of each event so far, one JSON per line
events() { sed -n 's/^data: //p' "$1"; }

# wait_event FILE JQ WHAT: waits up to 120 s for an event matching JQ
wait_event() {
	for _ in $(seq 1 240); do
		events "$1" | jq -e -s "any(.[]; $2)" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	fail "no event $3 in $1: $(tail -c 2000 "$1")"
}

# wait_task ID: waits until task ID ended; its JSON in $T/body
wait_task() {
	for _ in $(seq 1 240); do
		expect_status 200 "$(api GET "/api/v1/tasks/$1")" "task $1"
		jq -e '.state | IN("done", "failed", "cancelled")' "$T/body" >/dev/null && return 0
		sleep 0.5
	done
	fail "task $1 did not end: $(cat "$T/body")"
}

stream "$T/ev"
stream "$T/ev2"
ev2=$STREAM
grep -qi '^cache-control: no-cache' "$T/ev.hdr" || fail "stream headers: $(cat "$T/ev.hdr")"
boot=$(jq -nc --arg k "$G/vmlinux" --arg i "$G/initrd.img" \
	'{kernel: $k, initrd: $i, append: "vv.run=hold", accel: "tcg"}')

note "a VM started and stopped through the API"
expect_status 200 "$(api POST /api/v1/vms/web/start -d "$boot")" "start web"
pid=$(jq -r .pid "$T/body")
wait_event "$T/ev" ".type == \"vm.state\" and .name == \"web\" and .state == \"running\" and
	.pid == $pid" "web running"
expect_status 200 "$(api POST /api/v1/vms/web/stop)" "stop web"
wait_event "$T/ev" '.type == "vm.state" and .name == "web" and .state == "stopped"' "web stopped"
assert_eq "$(events "$T/ev" | jq -r 'select(.name == "web") | .state' | tr '\n' ' ')" \
	"running stopped " "web's events, once each"
grep -q '^id: [0-9]*$' "$T/ev" || fail "events have no id"
grep -q '^event: vm.state$' "$T/ev" || fail "events have no type"

note "a VM that starts and powers off outside the daemon (the watcher)"
vv vm start solo --kernel "$G/vmlinux" --initrd "$G/initrd.img" --accel tcg \
	--append vv.run=sleep:4,poweroff >/dev/null
wait_event "$T/ev" '.type == "vm.state" and .name == "solo" and .state == "running"' \
	"solo running"
wait_event "$T/ev" '.type == "vm.state" and .name == "solo" and .state == "stopped"' \
	"solo stopped by itself"

note "labs"
expect_status 200 "$(api GET /api/v1/labs)" "labs"
assert_eq "$(jq -r '[.[] | .name + ":" + (.count | tostring) + ":" + (.running | tostring)] |
	join(",")' "$T/body")" "duo:2:0" "lab list"
expect_status 200 "$(api GET /api/v1/labs/duo)" "lab duo"
assert_eq "$(jq -r '[.vms[] | .name + ":" + .state] | join(",")' "$T/body")" \
	"duo-1:stopped,duo-2:stopped" "lab duo's VMs"
expect_status 409 "$(api POST /api/v1/labs/duo/stop)" "stop a stopped lab"

note "lab start as a task: its progress to 100% on the stream"
expect_status 202 "$(api POST /api/v1/labs/duo/start -d "$boot")" "lab start"
task=$(jq -r .id "$T/body")
[[ $task =~ ^[0-9a-f]{16}$ ]] || fail "task id: $(cat "$T/body")"
assert_eq "$(jq -r '.kind + " " + .target' "$T/body")" "lab.start lab:duo" "task kind"
wait_task "$task"
assert_eq "$(jq -r '.state + " " + (.percent | tostring)' "$T/body")" "done 100" "task done"
assert_eq "$(jq -r '[.result.vms[] | .name + ":" + (.ok | tostring)] | join(",")' "$T/body")" \
	"duo-1:true,duo-2:true" "task result"
wait_event "$T/ev" ".type == \"task\" and .id == \"$task\" and .state == \"done\" and
	.percent == 100" "task done"
assert_eq "$(events "$T/ev" | jq -r "select(.type == \"task\" and .id == \"$task\") |
	.state + \":\" + (.percent | tostring)" | uniq | tr '\n' ' ')" \
	"queued:0 running:0 running:50 running:100 done:100 " "task progress on the stream"
wait_event "$T/ev" '.type == "vm.state" and .name == "duo-2" and .state == "running"' "duo-2 up"
for v in duo-1 duo-2; do
	assert_eq "$(vv vm status $v --json | jq .running)" true "$v runs (the CLI sees it)"
done
expect_status 200 "$(api GET /api/v1/labs/duo)" "lab duo running"
assert_eq "$(jq .running "$T/body")" 2 "both run"
expect_status 409 "$(api POST /api/v1/labs/duo/start -d "$boot")" "start a running lab"
expect_status 409 "$(api POST /api/v1/labs/duo/reset)" "reset a running lab"
expect_status 409 "$(api POST "/api/v1/tasks/$task/cancel")" "cancel an ended task"

note "lab stop and reset as tasks"
expect_status 202 "$(api POST /api/v1/labs/duo/stop)" "lab stop"
wait_task "$(jq -r .id "$T/body")"
assert_eq "$(jq -r .state "$T/body")" done "lab stop task"
wait_event "$T/ev" '.type == "vm.state" and .name == "duo-1" and .state == "stopped"' "duo-1 down"
assert_eq "$(vv lab list --json | jq '.[] | select(.name == "duo") | .running')" 0 "stopped"
expect_status 202 "$(api POST /api/v1/labs/duo/reset)" "lab reset"
wait_task "$(jq -r .id "$T/body")"
assert_eq "$(jq -r '.kind + " " + .state' "$T/body")" "lab.reset done" "lab reset task"

expect_status 200 "$(api GET /api/v1/tasks)" "task list"
assert_eq "$(jq -r '[.[] | .kind + ":" + .state] | join(",")' "$T/body")" \
	"lab.reset:done,lab.stop:done,lab.start:done" "tasks, newest first"

note "the second stream saw the same events"
assert_eq "$(events "$T/ev2" | jq -c 'del(.time)' | head -5)" \
	"$(events "$T/ev" | jq -c 'del(.time)' | head -5)" "same events on both streams"
kill "$ev2"

note "SIGTERM ends the stream"
daemon_stop
for _ in $(seq 1 50); do
	kill -0 "$STREAM" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$STREAM" 2>/dev/null && fail "the stream outlived the daemon"
true
