#!/bin/bash
# GET /api/v1/vms/{name}/console: a WebSocket (RFC 6455) on the VM's serial
# console, with a real TCG guest. tests/tools/ws_client (its own framing
# code, not appliance/ws.c) sees the boot marker, logs in and runs a
# command, with a fragmented message and pings between; over TLS with an
# operator token too. Refusals: no handshake 400, wrong version 426, bad
# key 400, viewer 403, no token 401, unknown VM 404, stopped VM 409.
# Broken frames get their close code (1002, 1007, 1009) and the console is
# free again for the next client; a daemon that stops closes open sessions
# with 1001 and exits 0.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl socat qemu-system-x86_64
export PATH=$VV_BUILD/bin:$PATH
WS=$VV_BUILD/tests/tools/ws_client
tiny_template
vv vm create c --from tiny >/dev/null
at_exit '"$VHDVISOR" vm stop c'
view=$(vv token create ro --role viewer 2>/dev/null)
op=$(vv token create ops --role operator 2>/dev/null)
daemon_start --listen 127.0.0.1:0
port=${URL##*:}
P=/api/v1/vms/c/console
HS=(-H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13"
	-H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")

note "the route is in the OpenAPI document"
expect_status 200 "$(api GET /api/v1/openapi.json)" "openapi"
jq -e '.paths["/api/v1/vms/{name}/console"].get | .operationId == "vmConsole" and
	(.responses | has("101")) and .["x-vhdvisor-role"] == "operator"' "$T/body" >/dev/null ||
	fail "console route not documented"

note "refusals"
expect_status 409 "$(api GET $P "${HS[@]}")" "stopped VM"
expect_status 404 "$(api GET /api/v1/vms/nosuch/console "${HS[@]}")" "unknown VM"
expect_status 400 "$(api GET /api/v1/vms/..%2Fx/console "${HS[@]}")" "bad name"

note "start, and join at once: the boot is seen live"
expect_status 200 "$(api POST /api/v1/vms/c/start)" "start"
printf '%s\n' 'expect VHDVISOR-GUEST-UP' 'expect login: ' 'send root\r' 'expect # ' \
	'send echo VV-WS-$((6*7))\r' 'expect VV-WS-42' 'ping hello' \
	'sendfrag echo VV-FRAG-$((40+1))\r' 'expect VV-FRAG-41' 'close 1000' |
	"$WS" "unix:$SOCK" $P >"$T/ws1.out" || { cat "$T/ws1.out"; fail "console session"; }
grep -q '^\[closed 1000\]' "$T/ws1.out" || fail "no clean close"

note "bad handshakes"
expect_status 400 "$(api GET $P)" "plain GET"
expect_status 400 "$(api GET $P -H "Connection: Upgrade" -H "Upgrade: h2c" \
	-H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")" "not websocket"
expect_status 426 "$(api GET $P -H "Connection: Upgrade" -H "Upgrade: websocket" \
	-H "Sec-WebSocket-Version: 8" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")" "version 8"
expect_status 400 "$(api GET $P -H "Connection: Upgrade" -H "Upgrade: websocket" \
	-H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: short")" "bad key"

note "roles over TLS"
expect_status 403 "$(tapi "$view" GET $P "${HS[@]}")" "viewer"
expect_status 401 "$(tapi "" GET $P "${HS[@]}")" "no token"
printf '%s\n' 'ping x' 'send echo VV-TLS-$((1+1))\r' 'expect VV-TLS-2' 'close 1000' |
	WS_TOKEN=$op "$WS" "tls:127.0.0.1:$port:$VHDVISOR_STATE/tls/cert.pem" $P >"$T/ws2.out" ||
	{ cat "$T/ws2.out"; fail "console over TLS as operator"; }
grep -q "token:ops GET $P 101" "$VHDVISOR_STATE/audit.log" || fail "console not audited"

note "broken frames get their close code; the console is free again after each"
ws_bad() {  # CODE HEX: the frame HEX is answered by a close with CODE
	printf 'raw %s\nclosed %s\n' "$2" "$1" | "$WS" "unix:$SOCK" $P >"$T/bad.out" ||
		{ cat "$T/bad.out"; fail "frame $2: no close $1"; }
}
ws_bad 1002 8103616263                  # unmasked
ws_bad 1002 c18000000000                # reserved bit (RSV1) without an extension
ws_bad 1002 838000000000                # opcode 3
ws_bad 1002 0981000000007a              # ping without fin
ws_bad 1002 808000000000                # continuation with no message
ws_bad 1007 818100000000ff              # text that is not UTF-8
ws_bad 1009 81ff0000000000100000        # a 1 MiB frame
ws_bad 1002 888100000000aa              # close with one byte
printf '%s\n' 'send echo VV-AFTER-$((2+3))\r' 'expect VV-AFTER-5' 'close 1000' |
	"$WS" "unix:$SOCK" $P >"$T/ws3.out" || { cat "$T/ws3.out"; fail "console after bad frames"; }
expect_status 200 "$(api GET /api/v1/vms/c)" "daemon still serves"

note "100 clients that leave right after the handshake: the console stays joinable"
hs='GET /api/v1/vms/c/console HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
for _ in $(seq 1 100); do
	printf "$hs" | socat -t0 - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 || true
done
printf '%s\n' 'send echo VV-STILL-$((3+4))\r' 'expect VV-STILL-7' 'close 1000' |
	"$WS" "unix:$SOCK" $P >"$T/ws5.out" || { cat "$T/ws5.out"; fail "console after aborted clients"; }

note "the daemon stops: an open session gets 1001"
(printf 'ping x\n'; sleep 3; printf 'closed 1001\n') | "$WS" "unix:$SOCK" $P >"$T/ws4.out" &
wpid=$!
sleep 2
daemon_stop
wait $wpid || { cat "$T/ws4.out"; fail "session did not get 1001"; }
vv vm status c --json | jq -e .running >/dev/null || fail "the VM stopped with the daemon"
