#!/bin/bash
# vhdvisord on its Unix socket: its OpenAPI document validates
# (swagger-cli), every route in it is called (read with jq), replies match the CLI's view, a
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
export PATH=$VV_BUILD/bin:$PATH   # hv's runtime serves disks with our vhd tool

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
id=$(image_id tmpl)
vv vm create web --from tmpl --mem 128M >/dev/null

daemon_start
assert_eq "$(stat -c %a "$SOCK")" 600 "socket mode"
touch "$T/covered"
# call METHOD PATTERN PATH [CURL ARGS]: api(), and the route is covered
call() {
	local m=$1 pat=$2 p=$3
	shift 3
	echo "$m $pat" >>"$T/covered"
	api "$m" "$p" "$@"
}

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

note "images"
expect_status 200 "$(call GET /api/v1/images /api/v1/images)" "images"
assert_eq "$(jq -r '.[0].id' "$T/body")" "$id" "image id in the list"
expect_status 200 "$(call GET /api/v1/images/{id} "/api/v1/images/$id")" "image by id"
assert_eq "$(jq -c '.names' "$T/body")" "$(vv image show tmpl --json | jq -c .names)" "names as the CLI"
expect_status 200 "$(api GET /api/v1/images/tmpl)" "image by name"
assert_eq "$(jq -r .id "$T/body")" "$id" "image by name"
expect_status 404 "$(api GET /api/v1/images/nosuch)" "missing image"

note "vms"
expect_status 200 "$(call GET /api/v1/vms /api/v1/vms)" "vms"
assert_eq "$(jq -r '[.[] | .name + ":" + .state] | join(",")' "$T/body")" "web:stopped" "vm list"
expect_status 200 "$(call GET /api/v1/vms/{name} /api/v1/vms/web)" "vm show"
assert_eq "$(jq -r .uuid "$T/body")" "$(vv vm show web --json | jq -r .uuid)" "uuid as the CLI"
expect_status 404 "$(api GET /api/v1/vms/nosuch)" "missing VM"

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

note "every route was called"
sort -u "$T/covered" >"$T/covered.s"
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
