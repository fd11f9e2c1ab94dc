#!/bin/bash
# Clients that break the NBD protocol (random bytes, truncated requests,
# requests past the end, oversized options and payloads) get errors or are
# disconnected; the server keeps serving everyone else.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd python3 qemu-io
EVIL="python3 $VV_ROOT/tests/integration/blkback/nbd_evil.py"

S=$T/sock
truncate -s 16M "$T/rw.img"
truncate -s 16M "$T/ro.img"
truncate -s 16M "$T/fuzz.img"
serve_start "$S" "$T/rw.img" "$T/fuzz.img"
U=$(nbd_uri "$S" rw.img)
qemu-io -f raw -c 'write -P 0x33 0 1M' "$U" >/dev/null || fail "initial write failed"

# a good client stays connected through all of it
qemu-io -f raw -c 'sleep 4000' -c 'read -P 0x33 0 1M' "$U" >"$T/longlived" 2>&1 &
long=$!

note "case fuzz (on its own export: it really writes)"
$EVIL "$S" fuzz.img fuzz || fail "case fuzz"
for c in export-name garbage bad-option-len huge-option past-end structured-error truncated \
	huge-write bad-magic; do
	note "case $c"
	$EVIL "$S" rw.img "$c" || fail "case $c"
	kill -0 "$SERVE_PID" || fail "server died on case $c"
done
qio -f raw -c 'read -P 0x33 0 1M' "$U"  # unchanged by the malformed clients
note "a client that never reads its replies does not starve the others"
NO_READ_SECS=8 $EVIL "$S" rw.img no-read &
noread=$!
sleep 1
start=$(date +%s)
timeout 5 qemu-io -f raw -c 'read -P 0x33 0 1M' "$U" >/dev/null ||
	fail "another client was not served within 5 s while one did not read"
echo "other client served after $(($(date +%s) - start)) s"
wait $noread || true
kill -0 "$SERVE_PID" || fail "server died on the non-reading client"
wait $long || fail "the long-lived client failed: $(cat "$T/longlived")"
if grep -q 'verification failed' "$T/longlived"; then fail "long-lived client read bad data"; fi
serve_stop

note "read-only export answers EPERM"
serve_start "$S" --read-only "$T/ro.img"
$EVIL "$S" ro.img read-only || fail "read-only case"
serve_stop
