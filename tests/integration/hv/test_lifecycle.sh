#!/bin/bash
# VM lifecycle through `vhdvisor run`: the API socket (status, pause,
# resume, powerdown, stop), SIGINT and SIGTERM, guest reboot with and
# without --reboot, guest panic; each gives its exit status and leaves no
# QEMU, socket or file behind.
# serial
# timeout: 1200
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"

sock=$T/api.sock

note "API: status, pause, resume, powerdown"
start_direct "$T/a.log" "vv.run=hold" --api "$sock"
wait_line "$T/a.log" '^VV-HOLD'
r=$(api "$sock" '{"cmd":"status"}')
assert_eq "$(json_get "$r" ok)" true "status ok ($r)"
assert_eq "$(json_get "$r" state)" running "state"
assert_eq "$(json_get "$r" cpus)" 1 "cpus in status"
qpid=$(json_get "$r" engine_pid)
kill -0 "$qpid" || fail "engine pid $qpid from status does not run"
assert_eq "$(json_get "$(api "$sock" '{"cmd":"pause"}')" ok)" true "pause"
r=$(api "$sock" '{"cmd":"status"}')
assert_eq "$(json_get "$r" state)" paused "state after pause"
assert_eq "$(json_get "$r" running)" false "running after pause"
assert_eq "$(json_get "$(api "$sock" '{"cmd":"resume"}')" ok)" true "resume"
assert_eq "$(json_get "$(api "$sock" '{"cmd":"status"}')" state)" running "state after resume"
r=$(api "$sock" '{"cmd":"stats"}')
jq -e --argjson q "$qpid" --argjson p "$VMPID" '.ok and .engine_pid == $q and .pid == $p and
	.memory > 0 and .disks == [] and .nics == []' <<<"$r" >/dev/null || fail "stats: $r"
r=$(api "$sock" '{"cmd":"fly"}')
assert_eq "$(json_get "$r" ok)" false "unknown command refused ($r)"
r=$(api "$sock" 'not json')
assert_eq "$(json_get "$r" ok)" false "bad JSON refused ($r)"
r=$(api "$sock" '{"cmd":"switch-disk","file":"/x"}')
assert_eq "$(json_get "$r" error)" 'switch-disk needs "disk" (a number) and "file" (a path)' \
	"switch-disk without a disk"
r=$(api "$sock" '{"cmd":"switch-disk","disk":0,"file":"/x"}')
assert_eq "$(json_get "$r" error)" "the VM has no disk 0" "switch-disk of a diskless VM"
assert_eq "$(json_get "$(api "$sock" '{"cmd":"status"}')" state)" running "running after refusals"
assert_eq "$(json_get "$(api "$sock" '{"cmd":"powerdown"}')" ok)" true "powerdown"
wait_exit
assert_eq "$RC" 0 "exit after powerdown"
grep -q VV-POWERBUTTON "$T/a.log" || fail "the guest did not see the power button"
assert_clean "$sock"

for sig in INT TERM; do
	note "SIG$sig stops the guest"
	start_direct "$T/$sig.log" "vv.run=hold" --api "$sock"
	wait_line "$T/$sig.log" '^VV-HOLD'
	kill -s "$sig" "$VMPID"
	want=$((128 + $(kill -l "$sig")))
	wait_exit
	assert_eq "$RC" "$want" "exit after SIG$sig"
	assert_clean "$sock"
done

note "API stop"
start_direct "$T/stop.log" "vv.run=hold" --api "$sock"
wait_line "$T/stop.log" '^VV-HOLD'
assert_eq "$(json_get "$(api "$sock" '{"cmd":"stop"}')" ok)" true "stop"
wait_exit
assert_eq "$RC" 0 "exit after API stop"
assert_clean "$sock"

note "guest reboot -> exit 3"
assert_eq "$(boot_direct "$T/reboot.log" "vv.run=reboot")" 3 "exit after guest reboot"
grep -q 'VV-END=reboot' "$T/reboot.log" || fail "the guest did not reboot itself"
assert_clean

note "--reboot restarts the guest"
start_direct "$T/rr.log" "vv.run=reboot" --reboot --api "$sock"
end=$((SECONDS + 300))
ups() { local n; n=$(grep -c '^VHDVISOR-GUEST-UP' "$T/rr.log" 2>/dev/null); echo "${n:-0}"; }
while (($(ups) < 2)); do
	((SECONDS < end)) || fail "the guest did not come up a second time"
	kill -0 "$VMPID" || fail "vhdvisor ended on a reboot despite --reboot"
	sleep 0.5
done
api "$sock" '{"cmd":"stop"}' >/dev/null
wait_exit
assert_eq "$RC" 0 "exit after stop"
assert_clean "$sock"

note "guest panic -> exit 4"
assert_eq "$(boot_direct "$T/panic.log" "vv.run=panic")" 4 "exit after guest panic"
grep -q 'Kernel panic' "$T/panic.log" || fail "no kernel panic on the console"
grep -q 'panicked' "$T/run.err" || fail "no panic message: $(cat "$T/run.err")"
assert_clean
