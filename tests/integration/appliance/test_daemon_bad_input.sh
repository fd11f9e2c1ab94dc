#!/bin/bash
# Bad requests to vhdvisord get a 4xx JSON error and never hurt it:
# malformed and deep JSON, unknown fields and wrong types, unknown routes,
# wrong methods, oversized bodies (declared and chunked), names with '/',
# '..' or control characters, huge headers, and slow clients that never
# finish their request (others are still served at once).
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl python3

note "bad command lines"
expect_exit 2 "$VHDVISORD"
expect_exit 2 "$VHDVISORD" --state "$VHDVISOR_STATE"
expect_exit 2 "$VHDVISORD" --state "$VHDVISOR_STATE" --run "$VHDVISOR_RUN" extra
expect_exit 0 "$VHDVISORD" --help
expect_exit 1 "$VHDVISORD" --state "$VHDVISOR_STATE" --run "$VHDVISOR_RUN" --listen bogus
assert_stderr "bad --listen 'bogus'"
expect_exit 1 "$VHDVISORD" --state "$VHDVISOR_STATE" --run "$VHDVISOR_RUN" --listen 10.255.255.1:1
assert_stderr "--listen 10.255.255.1:1: "
[[ -e $SOCK ]] && fail "a daemon that failed to start left its socket"

truncate -s 8M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create web --from tmpl >/dev/null
daemon_start

note "one daemon per run directory"
expect_exit 1 "$VHDVISORD" --state "$VHDVISOR_STATE" --run "$VHDVISOR_RUN"
assert_stderr "another vhdvisord runs here"
expect_status 200 "$(api GET /api/v1/host)" "the first still serves"

note "bodies"
expect_status 400 "$(api POST /api/v1/vms/web/start -d '{"boot":')" "truncated JSON"
expect_status 400 "$(api POST /api/v1/vms/web/start -d 'not json')" "not JSON"
expect_status 400 "$(api POST /api/v1/vms/web/start -d '[]')" "an array"
expect_status 400 "$(api POST /api/v1/vms/web/start -d '{"boot":"auto"} {}')" "two documents"
expect_status 400 "$(api POST /api/v1/vms/web/start -d '{"boot":7}')" "wrong type"
expect_status 400 "$(api POST /api/v1/vms/web/start -d '{"colour":"red"}')" "unknown field"
expect_status 400 "$(api POST /api/v1/vms/web/start -d '{"boot":"sideways"}')" "bad boot mode"
printf '%0.s[' $(seq 1 5000) >"$T/deep"
expect_status 400 "$(api POST /api/v1/vms/web/start --data-binary @"$T/deep")" "deep nesting"
printf '{"boot":"a\0b"}' >"$T/nul"
expect_status 400 "$(api POST /api/v1/vms/web/start --data-binary @"$T/nul")" "a NUL byte"
expect_status 400 "$(api POST /api/v1/vms/web/stop -d '{"x":"y"}')" "a body where none is taken"

note "routes and methods"
expect_status 404 "$(api GET /api/v1/nothing)" "unknown route"
expect_status 404 "$(api GET /nothing)" "not a file of the web console"
expect_status 404 "$(api GET /api)" "the API's root"
expect_status 404 "$(api GET /api/v2/vms)" "other version"
expect_status 405 "$(api DELETE /api/v1/vms)" "wrong method"
expect_status 405 "$(api GET /api/v1/vms/web/start)" "GET of a POST route"
expect_status 405 "$(api PUT /api/v1/host)" "PUT"

note "names"
for p in 'a%2Fb' '..' '.' 'a%01b' 'a%0Ab' '%2E%2E' 'a%zz' 'x%00y' "$(printf 'a%.0s' $(seq 1 200))"; do
	expect_status 400 "$(api GET "/api/v1/vms/$p")" "name $p"
	expect_status 400 "$(api POST "/api/v1/vms/$p/start")" "start $p"
done
expect_status 400 "$(api GET '/api/v1/images/..%2F..%2Fetc')" "image ../../etc"

note "sizes"
head -c $((2 << 20)) /dev/zero | tr '\0' ' ' >"$T/big"
expect_status 413 "$(api POST /api/v1/vms/web/start --data-binary @"$T/big")" "2 MiB body"
expect_status 413 "$(api POST /api/v1/vms/web/start -H 'Transfer-Encoding: chunked' \
	--data-binary @"$T/big")" "2 MiB chunked"
code=$(api GET /api/v1/vms -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" || true)
[[ $code == 4* ]] || fail "huge header: $code"

note "slow clients do not block others"
python3 - "$SOCK" <<'PY' &
import socket, sys, time
conns = []
for i in range(50):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.send(b"GET /api/v1/vms HTTP/1.1\r\nHost: x\r\nX-Slow: ")   # never finished
    conns.append(s)
time.sleep(30)
PY
slow=$!
at_exit "kill $slow"
sleep 1
t0=$(date +%s%N)
expect_status 200 "$(api GET /api/v1/host --max-time 5)" "served beside 50 stalled clients"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 2000)) || fail "took $ms ms beside stalled clients"
kill $slow; wait $slow 2>/dev/null || true

note "many clients at once"
pids=()
for i in $(seq 1 40); do
	curl -sS --unix-socket "$SOCK" -o /dev/null -w '%{http_code}\n' "http://localhost/api/v1/vms" \
		>"$T/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
assert_eq "$(cat "$T"/par.* | sort | uniq -c | awk '{print $1 ":" $2}')" "40:200" "40 parallel lists"

note "still alive and well"
kill -0 "$DAEMON_PID" || fail "daemon died"
expect_status 200 "$(api GET /api/v1/vms)" "after all that"
daemon_stop
