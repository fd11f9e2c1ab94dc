#!/bin/bash
# vm console: on a terminal it attaches to the guest's serial console
# (keys reach the guest, Ctrl-] detaches and the VM keeps running);
# --follow prints the log and then the lines that come, ending when the VM
# stops; with stdout not a terminal, or --dump, it prints the log.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64 python3
export PATH=$VV_BUILD/bin:$PATH
tiny_template
vv vm create c --from tiny >/dev/null
at_exit "'$VHDVISOR' vm stop c"

printf 'eof\n' | expect_exit 1 pty_drive 30 "$T/none.tr" -- "$VHDVISOR" vm console c
grep -q "c is not running" "$T/none.tr" || fail "attach to a stopped VM: $(cat "$T/none.tr")"
expect_exit 2 vv vm console c --follow --dump

vv vm start c >/dev/null
wait_console c 'login: '
note "--follow shows what the guest prints after it started"
vv vm console c --follow >"$T/follow.out" &
fpid=$!
at_exit "kill $fpid 2>/dev/null"

note "attach: root (no password set) logs in; what we type runs in the guest"
printf '%s\n' 'expect Connected to c' 'send \r' 'expect login: ' 'send root\r' 'expect # ' \
	'send echo VV-TYPED-$((40+2))\r' 'expect VV-TYPED-42' 'send \x1d' 'expect Detached' 'eof' |
	pty_drive 120 "$T/attach.tr" -- "$VHDVISOR" vm console c ||
	{ cat -A "$T/attach.tr" | tail -20; fail "interactive console"; }
vv vm status c --json | jq -e .running >/dev/null || fail "detaching stopped the VM"
for _ in $(seq 1 50); do grep -aq VV-TYPED-42 "$T/follow.out" && break; sleep 0.2; done
grep -aq VV-TYPED-42 "$T/follow.out" || fail "--follow did not show the new line"
grep -aq VHDVISOR-GUEST-UP "$T/follow.out" || fail "--follow did not print the log first"
kill -0 "$fpid" 2>/dev/null || fail "--follow ended while the VM runs"

note "the dump: stdout not a terminal, or --dump on one"
vv vm console c >"$T/dump.out"
grep -aq VV-TYPED-42 "$T/dump.out" || fail "the dump lacks the typed line"
printf 'eof\n' | pty_drive 30 "$T/dump.tr" -- "$VHDVISOR" vm console c --dump ||
	fail "--dump on a terminal"
grep -aq VV-TYPED-42 "$T/dump.tr" || fail "--dump on a terminal did not print the log"
grep -q Connected "$T/dump.tr" && fail "--dump attached"

note "--follow ends when the VM stops"
vv vm shutdown c >/dev/null
for _ in $(seq 1 50); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$fpid" 2>/dev/null && fail "--follow still runs after the VM stopped"
wait "$fpid" || fail "--follow exited $?"
grep -aq 'reboot: Power down' "$T/follow.out" || fail "--follow missed the last lines"
