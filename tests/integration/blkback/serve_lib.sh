# tests/integration/blkback/serve_lib.sh: start and stop `vhd serve` in
# blkback's integration tests (sourced after tests/integration/lib.sh).

# serve_start SOCK ARGS...: starts `vhd serve --socket SOCK ARGS...` in the
# background, waits until SOCK exists (the server renames it into place
# once it listens). Sets SERVE_PID; stderr goes to $T/serve.err.
serve_start() {
	local sock=$1 i old
	shift
	# A stale socket left at the path (a killed server) is replaced by the
	# new one: wait for a different inode, not for the path to exist.
	old=$(stat -c %i "$sock" 2>/dev/null || true)
	"$VHD" serve --socket "$sock" "$@" >"$T/serve.out" 2>"$T/serve.err" &
	SERVE_PID=$!
	at_exit "kill -9 $SERVE_PID"
	for ((i = 0; i < 200; i++)); do
		[[ -S $sock && $(stat -c %i "$sock" 2>/dev/null) != "$old" ]] && return 0
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

# serve_start_tcp ARGS...: starts `vhd serve --port PORT ARGS...` on a free
# port of 127.0.0.1 (tries others when one is taken) and waits until it
# listens (seen in ss, without connecting). Sets SERVE_PID and PORT;
# stderr goes to $T/serve.err.
serve_start_tcp() {
	local try i
	for ((try = 0; try < 10; try++)); do
		PORT=$((20000 + RANDOM % 20000))
		"$VHD" serve --port "$PORT" "$@" >"$T/serve.out" 2>"$T/serve.err" &
		SERVE_PID=$!
		at_exit "kill -9 $SERVE_PID"
		for ((i = 0; i < 200; i++)); do
			ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q "127.0.0.1:$PORT" && return 0
			kill -0 "$SERVE_PID" 2>/dev/null || break
			sleep 0.05
		done
		wait "$SERVE_PID" 2>/dev/null || true
		grep -q 'Address already in use' "$T/serve.err" && continue
		cat "$T/serve.err" >&2
		fail "vhd serve --port $PORT did not listen"
	done
	fail "no free TCP port found in 10 tries"
}

# vu_start SOCK ARGS...: starts `vhd serve --vhost-user SOCK ARGS...` (debug
# log in $T/serve.err) and waits until SOCK exists. Sets SERVE_PID.
vu_start() {
	local sock=$1 i
	shift
	VHDVISOR_LOG=debug "$VHD" serve --vhost-user "$sock" "$@" >"$T/serve.out" 2>"$T/serve.err" &
	SERVE_PID=$!
	at_exit "kill -9 $SERVE_PID"
	for ((i = 0; i < 200; i++)); do
		[[ -S $sock ]] && return 0
		if ! kill -0 "$SERVE_PID" 2>/dev/null; then
			cat "$T/serve.err" >&2
			fail "vhd serve --vhost-user exited before listening"
		fi
		sleep 0.05
	done
	fail "socket $sock did not appear"
}
