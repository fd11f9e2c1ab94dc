#!/bin/bash
# `vhd serve --port --tls-psk`: NBD's STARTTLS with a pre-shared key, in
# QEMU's tls-creds-psk format, checked with real clients (qemu-io,
# qemu-img, nbdinfo, nbdcopy): a client with the key reads and writes; a
# wrong key, an unknown or unlisted user and a plain client are refused
# and change nothing; every option before STARTTLS gets ERR_TLS_REQD; a
# client that stalls in the TLS handshake is cut by the handshake timeout;
# TCP exports are read-only without --writable.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd python3 qemu-io qemu-img nbdinfo nbdcopy ss
EVIL="python3 $VV_ROOT/tests/integration/blkback/nbd_evil.py"

# psk_make DIR USER...: DIR/keys.psk with a random 32-byte key per USER
# (what `psktool -u USER -p DIR/keys.psk` writes), mode 0600.
psk_make() {
	local dir=$1 u
	shift
	mkdir -p "$dir"
	(umask 077; for u in "$@"; do
		echo "$u:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	done >"$dir/keys.psk")
}
# tls_uri: qemu's --image-opts for the export over TLS with creds tls0
tls_opts() {
	echo "driver=raw,file.driver=nbd,file.server.type=inet,file.server.host=127.0.0.1,file.server.port=$PORT,file.export=disk.img,file.tls-creds=tls0"
}
# qio_tls DIR [USER] ARGS...: qemu-io through TLS with the key of DIR
qio_tls() {
	local dir=$1 user=$2
	shift 2
	qio --object "tls-creds-psk,id=tls0,endpoint=client,dir=$dir,username=$user" \
		--image-opts "$(tls_opts)" "$@"
}
# qio_tls_fails DIR USER WHAT: qemu-io through TLS must fail to open
qio_tls_fails() {
	if qemu-io --object "tls-creds-psk,id=tls0,endpoint=client,dir=$1,username=$2" \
		--image-opts "$(tls_opts)" -c 'write -P 0x66 0 64k' >"$T/qio.out" 2>&1; then
		fail "$3: qemu-io got in: $(cat "$T/qio.out")"
	fi
}

psk_make "$T/keys" qemu alice
psk_make "$T/wrong" qemu alice
psk_make "$T/bob" bob
truncate -s 32M "$T/disk.img"

note "option checks"
expect_exit 2 "$VHD" serve --port 10809 --tls-user alice "$T/disk.img"
expect_exit 2 "$VHD" serve --port 10809 --tls-psk "$T/keys" --insecure-no-auth "$T/disk.img"
expect_exit 1 "$VHD" serve --port 10809 --tls-psk "$T/nosuch" "$T/disk.img"
assert_stderr 'nosuch.*No such file'
expect_exit 1 "$VHD" serve --port 10809 --tls-psk "$T/keys" --tls-user carol "$T/disk.img"
assert_stderr "no key for user 'carol'"
printf 'qemu:00112233\nbroken line\n' >"$T/bad.psk"
chmod 600 "$T/bad.psk"
expect_exit 1 "$VHD" serve --port 10809 --tls-psk "$T/bad.psk" "$T/disk.img"
assert_stderr 'bad.psk:2: not a NAME:HEXKEY line'
printf 'qemu:0g\n' >"$T/bad.psk"
expect_exit 1 "$VHD" serve --port 10809 --tls-psk "$T/bad.psk" "$T/disk.img"
assert_stderr 'bad.psk:1: not a NAME:HEXKEY line'

note "TLS with the right key: qemu-io writes and reads, qemu-img converts in and out"
serve_start_tcp --tls-psk "$T/keys" --writable --handshake-timeout 2 "$T/disk.img"
qio_tls "$T/keys" qemu -c 'write -P 0x5a 16M 3M' -c 'read -P 0x5a 16M 3M' -c flush
head -c 8M /dev/urandom >"$T/rand.img"
qemu-img convert -n -f raw --object "tls-creds-psk,id=tls0,endpoint=client,dir=$T/keys" \
	"$T/rand.img" --target-image-opts "$(tls_opts)" || fail "qemu-img convert into the export"
qemu-img convert -O raw --object "tls-creds-psk,id=tls0,endpoint=client,dir=$T/keys" \
	--image-opts "$(tls_opts)" "$T/back.img" || fail "qemu-img convert out of the export"
cmp -n 8388608 "$T/back.img" "$T/rand.img" || fail "8 MiB through TLS came back different"
qio_tls "$T/keys" alice -c 'read -P 0x5a 17M 1M'          # any user of the file
U="nbds://alice@127.0.0.1:$PORT/disk.img?tls-psk-file=$T/keys/keys.psk"
nbdinfo "$U" >"$T/info" || fail "nbdinfo over TLS failed"
grep -q 'is_read_only: false' "$T/info" || fail "--writable export is read-only: $(cat "$T/info")"
nbdcopy "$U" "$T/copy.img" || fail "nbdcopy over TLS failed"
cmp -n 8388608 "$T/copy.img" "$T/rand.img" || fail "nbdcopy read different data"

note "wrong key, unknown user, plain clients: refused, nothing written"
qio_tls_fails "$T/wrong" qemu "a wrong key"
qio_tls_fails "$T/bob" bob "an unknown user"
if qemu-io -f raw -c 'write -P 0x66 0 64k' "nbd://127.0.0.1:$PORT/disk.img" >"$T/qio.out" 2>&1; then
	fail "a plain client got in"
fi
grep -q 'TLS negotiation required' "$T/qio.out" || fail "plain client: $(cat "$T/qio.out")"
if nbdinfo "nbd://127.0.0.1:$PORT/disk.img" >/dev/null 2>&1; then
	fail "nbdinfo without TLS got in"
fi
if nbdinfo "nbds://qemu@127.0.0.1:$PORT/disk.img?tls-psk-file=$T/wrong/keys.psk" >/dev/null 2>&1; then
	fail "nbdinfo with a wrong key got in"
fi
$EVIL "127.0.0.1:$PORT" disk.img tls-required || fail "options before STARTTLS"
note "a client that stalls after STARTTLS is cut by the handshake timeout (2 s)"
FLOOD_WAIT=6 $EVIL "127.0.0.1:$PORT" disk.img tls-stall || fail "stalled TLS handshake"
kill -0 "$SERVE_PID" || fail "server died"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "TLS server exit status $?"
# the refused clients' writes (0x66 at 0) are not there
cmp -n 8388608 "$T/disk.img" "$T/rand.img" || fail "file differs from what was converted in"
qio -f raw -r -c 'read -P 0x5a 16M 3M' "$T/disk.img"

note "--tls-user alice: only alice's key opens; read-only without --writable"
cp "$T/disk.img" "$T/before.img"
serve_start_tcp --tls-psk "$T/keys/keys.psk" --tls-user alice "$T/disk.img"
qio_tls_fails "$T/keys" qemu "user qemu with --tls-user alice"
nbdinfo "nbds://alice@127.0.0.1:$PORT/disk.img?tls-psk-file=$T/keys/keys.psk" >"$T/info" ||
	fail "alice refused"
grep -q 'is_read_only: true' "$T/info" || fail "TCP export without --writable is writable"
if qemu-io --object "tls-creds-psk,id=tls0,endpoint=client,dir=$T/keys,username=alice" \
	--image-opts "$(tls_opts)" -c 'write -P 0x66 0 64k' >/dev/null 2>&1; then
	fail "alice wrote into a read-only TCP export"
fi
qio_tls "$T/keys" alice -r -c 'read -P 0x5a 17M 1M'
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "TLS server exit status $?"
cmp "$T/disk.img" "$T/before.img" || fail "the read-only export changed the file"

note "a Unix socket server answers STARTTLS with ERR_UNSUP and stays writable"
serve_start "$T/sock" "$T/disk.img"
$EVIL "$T/sock" disk.img no-tls || fail "STARTTLS on a server without TLS"
nbdinfo "$(nbd_uri "$T/sock" disk.img)" | grep -q 'is_read_only: false' ||
	fail "Unix socket export became read-only"
serve_stop
