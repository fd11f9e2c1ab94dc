#!/bin/bash
# kill -9 of vhd serve while a client writes: data the client flushed
# before is intact, the image still opens (and passes vhd check when that
# command is built), and a new server serves it.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-io qemu-img

S=$T/sock
qemu-img create -q -f vpc -o subformat=dynamic "$T/d.vhd" 128M
serve_start "$S" "$T/d.vhd"
U=$(nbd_uri "$S" d.vhd)
qemu-io -f raw -c 'write -P 0x61 0 8M' -c 'write -P 0x62 20M 1M' -c flush "$U" >/dev/null ||
	fail "flushed writes failed"

# a stream of unflushed writes over new blocks, killed midway
cmds=()
for i in $(seq 0 199); do cmds+=(-c "write -P 0x63 $((32 + i / 4))M 256k"); done
qemu-io -f raw "${cmds[@]}" "$U" >/dev/null 2>&1 &
writer=$!
sleep 0.3
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
wait $writer 2>/dev/null || true
rm -f "$S"

note "flushed data survives"
qio -f vpc -r -c 'read -P 0x61 0 8M' -c 'read -P 0x62 20M 1M' "$T/d.vhd"
"$VHD" check "$T/d.vhd" >"$T/check" 2>&1 || fail "vhd check after kill -9: $(cat "$T/check")"

note "a new server serves the image again"
serve_start "$S" "$T/d.vhd"
qio -f raw -c 'read -P 0x61 0 8M' -c 'write -P 0x64 40M 1M' "$U"
serve_stop
qio -f vpc -r -c 'read -P 0x64 40M 1M' "$T/d.vhd"
