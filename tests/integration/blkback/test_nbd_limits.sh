#!/bin/bash
# NBD exhaustion: (1) clients that take the greeting and say nothing hold
# every client slot only until the handshake timeout, then a real client
# is served (and a client already transmitting is not cut); (2) clients
# that send reads and never read the replies make the server stop reading
# their requests: its memory (VmHWM) stays under --max-client-buffer /
# --max-buffer while another client keeps being served, and a client that
# reads late gets every reply. (3) The same over TLS, whose replies all
# go through the sender thread; SIGTERM with stuck TLS clients exits 0
# after the 5 s grace.
# timeout: 150
# serial
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd python3 qemu-io ss
EVIL="python3 $VV_ROOT/tests/integration/blkback/nbd_evil.py"
S=$T/sock
# Under `make asan`, ASan's quarantine keeps freed memory resident: the
# RSS bounds below would measure it, not the server.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0
kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$SERVE_PID/status"; }

truncate -s 64M "$T/disk.img"
qio -f raw -c 'write -P 0x33 0 64M' "$T/disk.img"
U=$(nbd_uri "$S" disk.img)

note "512 greeting-only clients are cut after --handshake-timeout 3"
serve_start "$S" --handshake-timeout 3 "$T/disk.img"
# a client in transmission before, during and after: never cut
stdbuf -oL qemu-io -f raw -c 'read -P 0x33 0 1M' -c 'sleep 8000' -c 'read -P 0x33 1M 1M' "$U" \
	>"$T/longlived" 2>&1 &
long=$!
for ((i = 0; i < 400; i++)); do
	grep -q 'read 1048576' "$T/longlived" && break
	sleep 0.05
done
grep -q 'read 1048576' "$T/longlived" || fail "the first client did not read: $(cat "$T/longlived")"
HS_TIMEOUT=3 FLOOD_N=511 FLOOD_WAIT=10 $EVIL "$S" disk.img greeting-flood || fail "greeting flood"
timeout 10 qemu-io -f raw -c 'read -P 0x33 0 1M' "$U" >/dev/null ||
	fail "a real client was not served after the greeting-only clients were cut"
wait $long || fail "the transmitting client failed: $(cat "$T/longlived")"
! grep -q 'verification failed' "$T/longlived" || fail "the transmitting client read bad data"
serve_stop

note "clients that never read replies stay under --max-client-buffer 8 / --max-buffer 32 (MiB)"
serve_start "$S" --max-client-buffer 8 --max-buffer 32 "$T/disk.img"
qio -f raw -c 'read -P 0x33 0 4M' "$U"        # threads and buffers warmed up
base=$(kib VmRSS)
# hwm_watch SECS MAX WHAT: samples the server's peak RSS for SECS seconds;
# fails as soon as it grew more than MAX MiB over $base.
hwm_watch() {
	local i grew
	for ((i = 0; i < $1 * 5; i++)); do
		grew=$((($(kib VmHWM) - base) / 1024))
		((grew <= $2)) || fail "$3 grew the server by $grew MiB (allowed $2)"
		sleep 0.2
	done
	echo "$3: +$grew MiB"
}
NO_READ_LEN=1048576 NO_READ_SECS=20 $EVIL "$S" disk.img no-read &
bad=($!)
hwm_watch 3 $((8 + 12)) "one client that does not read"
for i in 1 2 3 4 5 6 7; do
	NO_READ_LEN=1048576 NO_READ_SECS=16 $EVIL "$S" disk.img no-read &
	bad+=($!)
done
# the cap, one 1 MiB request per stuck client, the good client's 4 MiB, slack
hwm_watch 5 $((32 + 8 + 4 + 12)) "eight clients that do not read"
timeout 10 qemu-io -f raw -c 'read -P 0x33 8M 4M' -c 'write -P 0x44 60M 1M' \
	-c 'read -P 0x44 60M 1M' "$U" >"$T/good" 2>&1 ||
	fail "another client was not served: $(cat "$T/good")"
! grep -q 'verification failed' "$T/good" || fail "another client read bad data"
hwm_watch 1 $((32 + 8 + 4 + 12)) "eight clients that do not read and one that does"

note "a client that reads its replies late gets all of them (held back, not dropped)"
NO_READ_LEN=1048576 NO_READ_COUNT=64 NO_READ_SECS=2 $EVIL "$S" disk.img slow-read ||
	fail "slow reader"
kill -0 "$SERVE_PID" || fail "server died"
kill "${bad[@]}" 2>/dev/null || true
serve_stop

note "over TLS: clients that never read stay under the caps, a late reader gets everything"
TLSC=$VV_BUILD/tests/tools/nbd_tls_client
mkdir -m 700 "$T/keys"
(umask 077; echo "qemu:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/keys/keys.psk")
serve_start_tcp --tls-psk "$T/keys" --max-client-buffer 8 --max-buffer 32 "$T/disk.img"
"$TLSC" 127.0.0.1 "$PORT" "$T/keys/keys.psk" qemu disk.img 1 4194304 0 read >/dev/null ||
	fail "TLS warm-up read"
base=$(kib VmRSS)
bad=()
for i in 1 2 3 4 5 6; do
	"$TLSC" 127.0.0.1 "$PORT" "$T/keys/keys.psk" qemu disk.img 64 1048576 30 &
	bad+=($!)
done
hwm_watch 4 $((32 + 6 + 4 + 12)) "six TLS clients that do not read"
"$TLSC" 127.0.0.1 "$PORT" "$T/keys/keys.psk" qemu disk.img 64 1048576 2 read ||
	fail "a TLS client that reads late lost replies"
hwm_watch 1 $((32 + 6 + 4 + 12)) "six TLS clients that do not read and one that reads late"
start=$(date +%s)
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "TLS server with stuck clients exited $?"
(($(date +%s) - start <= 9)) || fail "stopping with stuck TLS clients took $(($(date +%s) - start)) s"
kill "${bad[@]}" 2>/dev/null || true
