# tests/integration/blkback/serve_lib.sh: start and stop `vhd serve` in
# blkback's integration tests (sourced after tests/integration/lib.sh).

# serve_start SOCK ARGS...: starts `vhd serve --socket SOCK ARGS...` in the
# background, waits until SOCK exists (the server renames it into place
# once it listens). Sets SERVE_PID; stderr goes to $T/serve.err.
serve_start() {
	local sock=$1 i
	shift
	"$VHD" serve --socket "$sock" "$@" >"$T/serve.out" 2>"$T/serve.err" &
	SERVE_PID=$!
	at_exit "kill -9 $SERVE_PID"
	for ((i = 0; i < 200; i++)); do
		[[ -S $sock ]] && return 0
		if ! kill -0 "$SERVE_PID" 2>/dev/null; then
			cat "$T/serve.err" >&2
			fail "vhd serve exited before listening"
		fi
		sleep 0.05
	done
	fail "socket $sock did not appear"
}

# serve_stop: SIGTERM; asserts a clean exit 0, nothing on stdout, and that
# the socket is gone.
serve_stop() {
	local rc=0
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" || rc=$?
	[[ $rc == 0 ]] || { cat "$T/serve.err" >&2; fail "vhd serve exited $rc after SIGTERM"; }
	[[ ! -s $T/serve.out ]] || fail "vhd serve printed on stdout: $(head -c 200 "$T/serve.out")"
}

# nbd_uri SOCK NAME
nbd_uri() { echo "nbd+unix:///$2?socket=$1"; }

# qio ARGS...: runs qemu-io ARGS; fails the test when qemu-io fails (it
# exits 1 when a command fails) or a pattern does not verify.
qio() {
	if ! qemu-io "$@" >"$T/qio.out" 2>&1 || grep -q 'verification failed' "$T/qio.out"; then
		fail "qemu-io $*: $(cat "$T/qio.out")"
	fi
}
