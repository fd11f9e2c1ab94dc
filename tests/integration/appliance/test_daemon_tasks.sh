#!/bin/bash
# vhdvisord's tasks, with real TCG guests. The VM runtimes' QEMU is the
# real one behind a gate (VHDVISOR_QEMU: a wrapper that waits while a file
# exists), which holds a lab start task at its first VM for as long as the
# test wants: the task shows running at 0%; a second start of the lab is
# refused; cancelled, it ends "cancelled" after that VM, the others not
# started. kill -9 of the daemon during a task: the restarted daemon shows
# it failed (interrupted). Bad input is refused and starts no task; roles
# over TLS (viewer reads and streams, operator runs labs and cancels,
# only admin picks a kernel); mutating requests are audited.
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
vv lab create tri --from tmpl --count 3 --mem 128M >/dev/null
at_exit '"$VHDVISOR" lab stop tri'
view=$(vv token create ro --role viewer 2>/dev/null)
op=$(vv token create ci --role operator 2>/dev/null)

cat >"$T/gate-qemu" <<EOF
#!/bin/bash
# QEMU, held while $T/gate-closed exists
while [[ -e "$T/gate-closed" ]]; do touch "$T/at-gate"; sleep 0.1; done
exec qemu-system-x86_64 "\$@"
EOF
chmod 700 "$T/gate-qemu"
export VHDVISOR_QEMU=$T/gate-qemu
at_exit "rm -f '$T/gate-closed'"

daemon_start --listen 127.0.0.1:0
boot=$(jq -nc --arg k "$G/vmlinux" --arg i "$G/initrd.img" \
	'{kernel: $k, initrd: $i, append: "vv.run=hold", accel: "tcg"}')

# wait_task ID: waits until task ID ended; its JSON in $T/body
wait_task() {
	for _ in $(seq 1 240); do
		expect_status 200 "$(api GET "/api/v1/tasks/$1")" "task $1"
		jq -e '.state | IN("done", "failed", "cancelled")' "$T/body" >/dev/null && return 0
		sleep 0.5
	done
	fail "task $1 did not end: $(cat "$T/body")"
}

# held_start: a lab start of tri, held at its first VM; its id in $task
held_start() {
	rm -f "$T/at-gate"
	touch "$T/gate-closed"
	expect_status 202 "$(api POST /api/v1/labs/tri/start -d "$boot")" "lab start"
	task=$(jq -r .id "$T/body")
	for _ in $(seq 1 100); do
		[[ -e $T/at-gate ]] && break
		sleep 0.1
	done
	[[ -e $T/at-gate ]] || fail "the first VM's runtime never reached the gate"
	expect_status 200 "$(api GET "/api/v1/tasks/$task")" "held task"
	assert_eq "$(jq -r '.state + " " + (.percent | tostring)' "$T/body")" "running 0" "held task"
}

note "a task held at its first VM, cancelled"
held_start
expect_status 409 "$(api POST /api/v1/labs/tri/start -d "$boot")" "a second start of the lab"
jq -e '.error | test("already queued or running")' "$T/body" >/dev/null || fail "$(cat "$T/body")"
expect_status 403 "$(tapi "$view" POST "/api/v1/tasks/$task/cancel")" "viewer may not cancel"
expect_status 202 "$(tapi "$op" POST "/api/v1/tasks/$task/cancel")" "operator cancels"
assert_eq "$(jq -r '.state + " " + (.cancel | tostring)' "$T/body")" "running true" \
	"asked, still in its first VM's start"

note "a stream client that does not read is dropped; the daemon and other clients go on"
# the slow client asks for the stream, reads nothing until told, then
# reads to the end: a dropped client's stream ends, a kept one would not
cat >"$T/slow.py" <<EOF
import os, socket, time
s = socket.socket(socket.AF_UNIX)
s.connect("$SOCK")
s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
open("$T/slow.connected", "w").close()
while not os.path.exists("$T/slow.go"):
    time.sleep(0.1)
# a kept stream gets keepalives: give up at a deadline, not on silence
end = time.time() + 20
s.settimeout(1)
while time.time() < end:
    try:
        if not s.recv(65536):
            print("EOF")
            break
    except socket.timeout:
        pass
else:
    print("still open")
EOF
python3 "$T/slow.py" >"$T/slow.out" 2>&1 &
slow=$!
at_exit "kill $slow"
curl -sS -N --unix-socket "$SOCK" -D "$T/fast.hdr" -o "$T/fast" \
	http://localhost/api/v1/events 2>/dev/null &
at_exit "kill $!"
for _ in $(seq 1 100); do
	[[ -e $T/slow.connected ]] && grep -qi '^content-type' "$T/fast.hdr" 2>/dev/null && break
	sleep 0.1
done
sleep 0.5	# the slow client's request read and answered too
# each cancel of the running task is an event: 600 of them, on one connection
urls=()
for _ in $(seq 1 600); do urls+=("http://localhost/api/v1/tasks/$task/cancel"); done
curl -sS --unix-socket "$SOCK" -X POST "${urls[@]}" >/dev/null
expect_status 200 "$(api GET /api/v1/host)" "the daemon answers"
count() { grep -c "^data: .*\"id\":\"$task\".*\"cancel\":true" "$T/fast" || true; }
for _ in $(seq 1 50); do
	(($(count) >= 600)) && break
	sleep 0.1
done
assert_eq "$(count)" 600 "events the reading client got"
touch "$T/slow.go"
wait "$slow" || true
assert_eq "$(cat "$T/slow.out")" EOF "the slow client's stream was ended"

rm "$T/gate-closed"
wait_task "$task"
assert_eq "$(jq -r .state "$T/body")" cancelled "cancelled"
assert_eq "$(jq -r '[.result.vms[] | .name + ":" + (.ok | tostring)] | join(",")' "$T/body")" \
	"tri-1:true" "only the VM under way was started"
assert_eq "$(jq -r '.percent' "$T/body")" 33 "its progress"
assert_eq "$(vv lab list --json | jq '.[] | select(.name == "tri") | .running')" 1 "one runs"
expect_status 409 "$(api POST "/api/v1/tasks/$task/cancel")" "cancel again"

note "kill -9 of the daemon during a task"
expect_status 202 "$(tapi "$op" POST /api/v1/labs/tri/stop)" "operator stops the lab"
wait_task "$(jq -r .id "$T/body")"
assert_eq "$(jq -r .state "$T/body")" done "lab stop"
held_start
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
rm "$T/gate-closed"
daemon_start --listen 127.0.0.1:0
expect_status 200 "$(api GET "/api/v1/tasks/$task")" "the task after the restart"
assert_eq "$(jq -r '.state + ": " + .error' "$T/body")" \
	"failed: interrupted: the daemon stopped while the task ran" "interrupted task"
jq -e '.finished != null and .resumable == false' "$T/body" >/dev/null || fail "$(cat "$T/body")"
expect_status 200 "$(api GET /api/v1/tasks)" "tasks after the restart"
assert_eq "$(jq -r '[.[] | .kind + ":" + .state] | join(",")' "$T/body")" \
	"lab.start:failed,lab.stop:done,lab.start:cancelled" "every task, truthfully"
# the runtime the killed daemon was starting carries on by itself
for _ in $(seq 1 100); do
	vv vm status tri-1 --json | jq -e .running >/dev/null && break
	sleep 0.1
done
expect_status 202 "$(api POST /api/v1/labs/tri/stop)" "stop after the restart"
wait_task "$(jq -r .id "$T/body")"

note "bad input: 4xx, and no task"
n=$(api GET /api/v1/tasks >/dev/null; jq length "$T/body")
expect_status 400 "$(api POST /api/v1/labs/tri/start -d '{"bogus": "x"}')" "unknown field"
expect_status 400 "$(api POST /api/v1/labs/tri/start -d '{"accel": 5}')" "a number"
expect_status 400 "$(api POST /api/v1/labs/tri/start -d '{"accel": "warp"}')" "bad accelerator"
expect_status 400 "$(api POST /api/v1/labs/tri/start -d '[1]')" "not an object"
expect_status 400 "$(api POST /api/v1/labs/tri/start -d '{"boot": ')" "cut JSON"
expect_status 400 "$(api POST /api/v1/labs/tri/stop -d '{"a": "b"}')" "stop takes no body"
expect_status 400 "$(api GET /api/v1/tasks/..%2Fetc)" "'..' in a task id"
expect_status 400 "$(api GET /api/v1/tasks/a%2Fb)" "'/' in a task id"
expect_status 400 "$(api POST /api/v1/labs/..%2Ftri/start)" "'..' in a lab name"
expect_status 400 "$(api POST /api/v1/labs/a%01b/reset)" "control character in a lab name"
expect_status 404 "$(api GET /api/v1/tasks/ffffffffffffffff)" "unknown task"
expect_status 404 "$(api POST /api/v1/labs/nosuch/start -d "$boot")" "unknown lab"
expect_status 405 "$(api DELETE "/api/v1/tasks/$task")" "DELETE a task"
expect_status 405 "$(api POST /api/v1/tasks)" "POST /tasks"
expect_status 405 "$(api POST /api/v1/events)" "POST /events"
expect_status 405 "$(api GET "/api/v1/tasks/$task/cancel")" "GET .../cancel"
api GET /api/v1/tasks >/dev/null
assert_eq "$(jq length "$T/body")" "$n" "no task started by bad requests"

note "roles"
expect_status 401 "$(tapi "" GET /api/v1/tasks)" "no token: tasks"
expect_status 401 "$(tapi "" GET /api/v1/labs)" "no token: labs"
expect_status 401 "$(tapi "" GET /api/v1/events)" "no token: events"
expect_status 200 "$(tapi "$view" GET /api/v1/tasks)" "viewer: tasks"
expect_status 200 "$(tapi "$view" GET "/api/v1/tasks/$task")" "viewer: a task"
expect_status 200 "$(tapi "$view" GET /api/v1/labs)" "viewer: labs"
expect_status 200 "$(tapi "$view" GET /api/v1/labs/tri)" "viewer: a lab"
st=$(tapi "$view" GET /api/v1/events -m 2 -D "$T/hdr" || true)
assert_eq "$st" 200 "viewer: the event stream over TLS"
grep -qi '^content-type: text/event-stream' "$T/hdr" || fail "events: $(cat "$T/hdr")"
for a in start stop reset; do
	expect_status 403 "$(tapi "$view" POST "/api/v1/labs/tri/$a")" "viewer may not $a a lab"
done
expect_status 403 "$(tapi "$op" POST /api/v1/labs/tri/start -d "$boot")" \
	"operator may not pick a kernel"
expect_status 202 "$(tapi "$op" POST /api/v1/labs/tri/reset)" "operator resets"
wait_task "$(jq -r .id "$T/body")"
assert_eq "$(jq -r '.who + " " + .state' "$T/body")" "token:ci done" "the task knows who"
log=$VHDVISOR_STATE/audit.log
grep -q " token:ci POST /api/v1/labs/tri/reset 202$" "$log" || fail "audit: $(cat "$log")"
grep -q " token:ro POST /api/v1/labs/tri/start 403$" "$log" || fail "refusals audited"
grep -q " token:ci POST /api/v1/tasks/$task/cancel 202$" "$log" ||
	grep -q " token:ci POST /api/v1/tasks/[0-9a-f]*/cancel 202$" "$log" || fail "cancel audited"
assert_eq "$(stat -c %a "$VHDVISOR_STATE/tasks.db")" 600 "tasks.db mode"
daemon_stop
