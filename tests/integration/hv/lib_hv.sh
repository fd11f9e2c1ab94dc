# tests/integration/hv/lib_hv.sh: helpers of the VM runtime's tests.
# Sourced after tests/integration/lib.sh.
#
# Gives: $G (guest material: $G/vmlinux, $G/vmlinuz, $G/initrd.img), a
# private run folder (VHDVISOR_RUN=$T/run), a VM name $VM unique to the
# test, and helpers to start VMs, wait for console lines, talk to the API
# and check that nothing was left behind.

need_cmd qemu-system-x86_64 python3
export VHDVISOR_RUN=$T/run
VM=vvt$$
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>"$T/guest.log") ||
	skip "guest material could not be built: $(tail -1 "$T/guest.log")"

# tiny_vhd: prints the tiny template's path, building it when needed.
tiny_vhd() {
	VHD=$VHD bash "$VV_ROOT/images/recipes/tiny/build.sh" --print 2>"$T/tiny.log" ||
		fail "tiny recipe failed: $(tail -3 "$T/tiny.log")"
}

# boot_direct CONSOLE_FILE APPEND [vhdvisor run options...]: runs a VM with
# the test kernel in the foreground; prints its exit status.
boot_direct() {
	local con=$1 app=$2 rc=0
	shift 2
	"$VHDVISOR" run --name "$VM" --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
		--append "quiet $app" --console "file:$con" "$@" >"$T/run.out" 2>"$T/run.err" ||
		rc=$?
	echo "$rc"
}

# start_direct CONSOLE_FILE APPEND [options...]: the same in the background;
# sets $VMPID.
start_direct() {
	local con=$1 app=$2
	shift 2
	"$VHDVISOR" run --name "$VM" --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
		--append "quiet $app" --console "file:$con" "$@" >"$T/run.out" 2>"$T/run.err" &
	VMPID=$!
	at_exit "kill -9 $VMPID"
}

# wait_line FILE REGEX [SECONDS]: waits until FILE has a line matching REGEX.
wait_line() {
	local f=$1 re=$2 end=$((SECONDS + ${3:-240}))
	while ((SECONDS < end)); do
		grep -Eqa -- "$re" "$f" 2>/dev/null && return 0
		if [[ -n ${VMPID:-} ]] && ! kill -0 "$VMPID" 2>/dev/null; then
			break
		fi
		sleep 0.3
	done
	echo "--- console $f:" >&2
	tail -20 "$f" >&2 2>/dev/null || true
	echo "--- vhdvisor stderr:" >&2
	cat "$T/run.err" >&2 2>/dev/null || true
	fail "no /$re/ on the console"
}

# wait_exit [SECONDS]: waits for $VMPID; sets $RC to its exit status.
# (Not in $(...): only this shell can reap its child.)
wait_exit() {
	local end=$((SECONDS + ${1:-120}))
	while kill -0 "$VMPID" 2>/dev/null; do
		if ((SECONDS >= end)); then
			kill -9 "$VMPID"
			fail "vhdvisor did not exit"
		fi
		[[ $(ps -o stat= -p "$VMPID" 2>/dev/null) == Z* ]] && break
		sleep 0.2
	done
	RC=0
	wait "$VMPID" || RC=$?
}

# console_value FILE KEY: the value of the last "KEY=value" line.
console_value() {
	grep -a "^$2=" "$1" | tail -1 | cut -d= -f2- | tr -d '\r'
}

# api SOCKET JSON: one request, prints the reply line.
api() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().readline().strip())
PY
}

# json_get JSON KEY: one top-level field.
json_get() {
	python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print(str(v).lower() if isinstance(v,bool) else v)' "$1" "$2"
}

# assert_clean [API_SOCKET]: no QEMU or disk export of this VM runs, and
# nothing is left in the run folder or at the API socket path.
assert_clean() {
	local left
	sleep 0.2
	if pgrep -f -- "-name $VM( |$)" >/dev/null; then
		fail "a QEMU of $VM still runs: $(pgrep -af -- "-name $VM")"
	fi
	if pgrep -f -- "serve --socket $VHDVISOR_RUN/" >/dev/null; then
		fail "a disk export still runs: $(pgrep -af -- "serve --socket $VHDVISOR_RUN/")"
	fi
	left=$(find "$VHDVISOR_RUN" -mindepth 1 2>/dev/null | head -5)
	[[ -z $left ]] || fail "left in the run folder: $left"
	if [[ -n ${1:-} && -e $1 ]]; then
		fail "API socket $1 left behind"
	fi
}
