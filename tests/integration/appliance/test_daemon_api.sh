#!/bin/bash
# vhdvisord on its Unix socket: its OpenAPI document validates
# (swagger-cli), every route in it is called (read with jq; the write
# routes by the other test_daemon_*.sh), replies match the CLI's view, a
# real TCG guest starts and stops through the API, each mutating request
# leaves an audit line, and SIGTERM stops the daemon cleanly.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl socat qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
id=$(image_id tmpl)
vv vm create web --from tmpl --mem 128M >/dev/null

daemon_start
assert_eq "$(stat -c %a "$SOCK")" 600 "socket mode"
touch "$T/covered"

note "the OpenAPI document"
expect_status 200 "$(call GET /api/v1/openapi.json /api/v1/openapi.json)" "openapi.json"
cp "$T/body" "$T/openapi.json"
jq -e '.openapi | startswith("3.")' "$T/openapi.json" >/dev/null || fail "not OpenAPI 3"
jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | ascii_upcase + " " + $p' \
	"$T/openapi.json" | sort >"$T/routes"
(($(wc -l <"$T/routes") >= 8)) || fail "too few routes: $(cat "$T/routes")"
swagger=$VHDVISOR_CACHE/npm/node_modules/.bin/swagger-cli
[[ -x $swagger ]] || fail "$swagger missing: run make deps"
"$swagger" validate "$T/openapi.json" >"$T/validate" 2>&1 || fail "invalid OpenAPI: $(cat "$T/validate")"

note "host"
expect_status 200 "$(call GET /api/v1/host /api/v1/host)" "host"
jq -e '(.name | length > 0) and .cpus >= 1 and .memory > 0 and
	(.version | length > 0) and .storage.free > 0' "$T/body" >/dev/null ||
	fail "host: $(cat "$T/body")"
# what hv's "auto" uses: KVM only with hardware virtualization and /dev/kvm
accel=tcg
grep -Eqw 'vmx|svm' /proc/cpuinfo && [[ -r /dev/kvm && -w /dev/kvm ]] && accel=kvm
assert_eq "$(jq -r .accelerator "$T/body")" "$accel" "host accelerator"
assert_eq "$(jq -r .cpus "$T/body")" "$(getconf _NPROCESSORS_ONLN)" "host CPUs"

expect_status 200 "$(call GET /api/v1/host/stats /api/v1/host/stats)" "host stats"
jq -e '.step == 1 and (.points | type == "array")' "$T/body" >/dev/null ||
	fail "host stats: $(head -c 300 "$T/body")"

note "images"
expect_status 200 "$(call GET /api/v1/images /api/v1/images)" "images"
assert_eq "$(jq -r '.[0].id' "$T/body")" "$id" "image id in the list"
expect_status 200 "$(call GET /api/v1/images/{id} "/api/v1/images/$id")" "image by id"
assert_eq "$(jq -c '.names' "$T/body")" "$(vv image show tmpl --json | jq -c .names)" "names as the CLI"
expect_status 200 "$(api GET /api/v1/images/tmpl)" "image by name"
assert_eq "$(jq -r .id "$T/body")" "$id" "image by name"
expect_status 404 "$(api GET /api/v1/images/nosuch)" "missing image"

note "image upload, file, tag, chain, rm (more in test_daemon_images.sh)"
"$VHD" create "$T/up.vhd" 4M >/dev/null
"$VHD" write "$T/up.vhd" 65536 --pattern 0xab --length 4096 >/dev/null
expect_status 200 "$(call POST /api/v1/images/uploads /api/v1/images/uploads -d '{}')" "upload"
up=$(jq -r .id "$T/body")
expect_status 200 "$(call PUT /api/v1/images/uploads/{upload} "/api/v1/images/uploads/$up" \
	--data-binary @"$T/up.vhd")" "upload data"
cp "$T/body" "$T/put"
expect_status 200 "$(call GET /api/v1/images/uploads/{upload} "/api/v1/images/uploads/$up")" "upload state"
assert_eq "$(jq -r .sha256 "$T/body")" "$(sha "$T/up.vhd")" "upload sha256"
expect_status 200 "$(call POST /api/v1/images/uploads/{upload}/commit \
	"/api/v1/images/uploads/$up/commit" -d '{"name":"up"}')" "commit"
uid=$(jq -r .id "$T/body")
assert_eq "$(jq -r .content_id "$T/put")" "$uid" "content id computed while receiving"
assert_eq "$(vv image show up --json | jq -r .id)" "$uid" "the CLI sees the upload"
expect_status 200 "$(call GET /api/v1/images/{id}/file "/api/v1/images/$uid/file")" "file"
cmp "$T/body" "$VHDVISOR_STATE/images/$uid.vhd" || fail "downloaded file"
expect_status 200 "$(call POST /api/v1/images/{id}/tag "/api/v1/images/$uid/tag" -d '{"name":"up2"}')" "tag"
expect_status 200 "$(call GET /api/v1/images/{id}/chain "/api/v1/images/up2/chain")" "chain"
assert_eq "$(jq -r .chain[0].id "$T/body")" "$uid" "chain"
expect_status 200 "$(call DELETE /api/v1/images/{id} "/api/v1/images/$uid")" "rm"
expect_status 200 "$(api POST /api/v1/images/uploads -d '{}')" "another upload"
up=$(jq -r .id "$T/body")
expect_status 200 "$(call DELETE /api/v1/images/uploads/{upload} "/api/v1/images/uploads/$up")" "abandon"

note "vms"
expect_status 200 "$(call GET /api/v1/vms /api/v1/vms)" "vms"
assert_eq "$(jq -r '[.[] | .name + ":" + .state] | join(",")' "$T/body")" "web:stopped" "vm list"
expect_status 200 "$(call GET /api/v1/vms/{name} /api/v1/vms/web)" "vm show"
assert_eq "$(jq -r .uuid "$T/body")" "$(vv vm show web --json | jq -r .uuid)" "uuid as the CLI"
expect_status 404 "$(api GET /api/v1/vms/nosuch)" "missing VM"
expect_status 200 "$(call GET /api/v1/vms/{name}/stats /api/v1/vms/web/stats?step=60)" "vm stats"
assert_eq "$(jq -c '[.name, .running, .step]' "$T/body")" '["web",false,60]' "stats of a stopped VM"

note "start a TCG guest through the API"
body=$(jq -nc --arg k "$G/vmlinux" --arg i "$G/initrd.img" \
	'{kernel: $k, initrd: $i, append: "vv.run=hold", accel: "tcg"}')
at_exit '"$VHDVISOR" vm stop web'
expect_status 200 "$(call POST /api/v1/vms/{name}/start /api/v1/vms/web/start -d "$body")" "start"
pid=$(jq -r .pid "$T/body")
assert_eq "$(jq -r .state "$T/body")" running "start reply"
assert_eq "$(vv vm status web --json | jq .pid)" "$pid" "the CLI sees the same runtime"
for _ in $(seq 1 120); do
	grep -q VV-HOLD "$VHDVISOR_RUN/web.console" 2>/dev/null && break
	sleep 1
done
grep -q VV-HOLD "$VHDVISOR_RUN/web.console" || fail "guest did not come up"
st=$(echo '{"cmd":"status"}' | socat -t 5 - "UNIX-CONNECT:$VHDVISOR_RUN/web.api")
assert_eq "$(jq -r .accel <<<"$st")" tcg "the guest's accelerator"
expect_status 409 "$(api POST /api/v1/vms/web/start -d "$body")" "second start"
expect_status 200 "$(api GET /api/v1/vms/web)" "show running"
assert_eq "$(jq -r .state "$T/body")" running "state while running"

note "stop"
expect_status 200 "$(call POST /api/v1/vms/{name}/stop /api/v1/vms/web/stop)" "stop"
assert_eq "$(jq -r .killed "$T/body")" false "stopped cleanly"
gone "$pid" || fail "runtime $pid still lives"
assert_eq "$(vv vm status web --json | jq .running)" false "the CLI sees it stopped"
expect_status 409 "$(api POST /api/v1/vms/web/stop)" "stop a stopped VM"
# the WebSocket itself: test_daemon_console.sh
expect_status 409 "$(call GET /api/v1/vms/{name}/console /api/v1/vms/web/console \
	-H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
	-H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")" "console of a stopped VM"

note "tasks, events, labs (test_daemon_events.sh and test_daemon_tasks.sh run them for real)"
expect_status 200 "$(call GET /api/v1/tasks /api/v1/tasks)" "tasks"
assert_eq "$(jq -c . "$T/body")" "[]" "no tasks yet"
expect_status 404 "$(call GET /api/v1/tasks/{id} /api/v1/tasks/0123456789abcdef)" "no task"
expect_status 404 "$(call POST /api/v1/tasks/{id}/cancel /api/v1/tasks/0123456789abcdef/cancel)" \
	"cancel no task"
expect_status 200 "$(call GET /api/v1/labs /api/v1/labs)" "labs"
assert_eq "$(jq -c . "$T/body")" "[]" "no labs"
expect_status 404 "$(call GET /api/v1/labs/{name} /api/v1/labs/nosuch)" "no lab"
for a in start stop reset; do
	expect_status 404 "$(call POST "/api/v1/labs/{name}/$a" "/api/v1/labs/nosuch/$a")" "$a no lab"
done
st=$(call GET /api/v1/events /api/v1/events -m 1 -D "$T/hdr" || true)
assert_eq "$st" 200 "event stream"
grep -qi '^content-type: text/event-stream' "$T/hdr" || fail "events: $(cat "$T/hdr")"

note "every route was called (here, or by a call line of another test_daemon_*.sh)"
grep -ohE '(^|[ ;(])call [A-Z]+ /api/v1[^ ]*' "$VV_ROOT"/tests/integration/appliance/test_daemon_*.sh |
	sed -E 's/^.*call //' | cat - "$T/covered" | sort -u >"$T/covered.s"
missing=$(comm -23 "$T/routes" "$T/covered.s")
[[ -z $missing ]] || fail "routes never called: $missing"

note "audit log"
log=$VHDVISOR_STATE/audit.log
assert_eq "$(stat -c %a "$log")" 600 "audit log mode"
grep -q " local:uid=0 POST /api/v1/vms/web/start 200$" "$log" || fail "no audit of start: $(cat "$log")"
grep -q " local:uid=0 POST /api/v1/vms/web/stop 200$" "$log" || fail "no audit of stop"
grep " GET " "$log" | grep -vq " GET /api/v1/vms/web/console 409$" &&
	fail "GETs are not audited (but for the console)"
grep -q " local:uid=0 GET /api/v1/vms/web/console 409$" "$log" || fail "console not audited"

daemon_stop
[[ -e $SOCK ]] && fail "socket left behind"
true
