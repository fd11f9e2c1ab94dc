#!/bin/bash
# vm shutdown: the ACPI power button powers a running guest off cleanly
# within the timeout; a guest that ignores the button is stopped hard
# after --timeout; vm stop stays the immediate hard stop.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64
export PATH=$VV_BUILD/bin:$PATH
tiny_template
vv vm create a --from tiny >/dev/null
vv vm create b --from tiny >/dev/null
at_exit "'$VHDVISOR' vm stop a; '$VHDVISOR' vm stop b"

expect_exit 1 vv vm shutdown a
assert_stderr "not running"
expect_exit 2 vv vm shutdown a --timeout 0

note "a listening guest powers off through its power button"
vv vm start a --append "vv.run=hold" >/dev/null
vv vm start b --append "vv.run=nobutton,hold" >/dev/null
wait_console a '^VV-HOLD'
SECONDS=0
vv vm shutdown a --timeout 120 >"$T/a.out"
assert_eq "$(cat "$T/a.out")" "a shut down" "shutdown output"
((SECONDS < 120)) || fail "shutdown took ${SECONDS}s"
grep -aq '^VV-POWERBUTTON' "$VHDVISOR_RUN/a.console" || fail "the guest saw no power button"
grep -aq 'reboot: Power down' "$VHDVISOR_RUN/a.console" || fail "the guest did not power off"
vv vm status a --json | jq -e '.running == false' >/dev/null || fail "a still runs"

note "a guest that ignores it is stopped hard after --timeout"
wait_console b '^VV-HOLD'
grep -aq '^VV-NOBUTTON' "$VHDVISOR_RUN/b.console" || fail "nobutton did not run"
SECONDS=0
vv vm shutdown b --timeout 4 >"$T/b.out" 2>"$T/b.err"
((SECONDS >= 4)) || fail "forced after ${SECONDS}s, before the timeout"
assert_eq "$(cat "$T/b.out")" "stopped b (forced)" "forced shutdown output"
grep -q "did not shut down in 4 s" "$T/b.err" || fail "no warning: $(cat "$T/b.err")"
grep -aq 'reboot: Power down' "$VHDVISOR_RUN/b.console" && fail "b powered itself off"
vv vm status b --json | jq -e '.running == false' >/dev/null || fail "b still runs"
consistent
