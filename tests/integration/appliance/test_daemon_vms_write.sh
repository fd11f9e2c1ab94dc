#!/bin/bash
# vhdvisord's VM write routes against a real daemon, with an operator
# token over HTTPS: create from an image, set, clone with a count,
# snapshots (take, list, revert, rm), disks and NICs, delete; a real TCG
# guest paused, resumed, snapshotted live and powered down through its
# ACPI button. Bad input (wrong types, unknown fields, out of range, bad
# names, unknown VMs and images, taken names, a running VM) gets its
# 4xx and changes nothing; a viewer gets 403, no token 401. The CLI sees
# what the API did.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl socat sqlite3 qemu-system-x86_64
export PATH=$VV_BUILD/bin:$PATH   # hv's runtime serves disks with our vhd tool
tiny_template
view=$(vv token create ro --role viewer 2>/dev/null)
op=$(vv token create ci --role operator 2>/dev/null)
daemon_start --listen 127.0.0.1:0
export CALL_TOKEN=$op
# names: the VM names in the catalog, as the CLI lists them
names() { vv vm list --json | jq -r 'map(.name) | sort | join(",")'; }
# refused WANT WHAT METHOD PATH [CURL ARGS]: an operator request that gets WANT
refused() {
	local want=$1 what=$2
	shift 2
	expect_status "$want" "$(tapi "$op" "$@")" "$what"
}

note "create from an image"
expect_status 200 "$(call POST /api/v1/vms /api/v1/vms \
	-d '{"name":"a","image":"tiny","cpus":2,"memory":"128M"}')" "create"
assert_eq "$(jq -r '[.name, .state, .cpus, .mem] | join(" ")' "$T/body")" "a stopped 2 134217728" "create reply"
assert_eq "$(vv vm show a --json | jq -r '[.image, .cpus, .mem] | join(" ")')" \
	"$(image_id tiny) 2 134217728" "the CLI sees the new VM"
refused 400 "cpus as a string" POST /api/v1/vms -d '{"name":"b","image":"tiny","cpus":"2"}'
grep -q "must be an integer" "$T/body" || fail "type error: $(cat "$T/body")"
refused 400 "cpus 0" POST /api/v1/vms -d '{"name":"b","image":"tiny","cpus":0}'
refused 400 "cpus 2.5" POST /api/v1/vms -d '{"name":"b","image":"tiny","cpus":2.5}'
refused 400 "12 MiB of memory" POST /api/v1/vms -d '{"name":"b","image":"tiny","memory":"12"}'
refused 400 "memory as a number" POST /api/v1/vms -d '{"name":"b","image":"tiny","memory":128}'
refused 400 "no name" POST /api/v1/vms -d '{"image":"tiny"}'
refused 400 "no image" POST /api/v1/vms -d '{"name":"b"}'
refused 400 "no body" POST /api/v1/vms
refused 400 "a name with /" POST /api/v1/vms -d '{"name":"x/y","image":"tiny"}'
refused 400 "a name .." POST /api/v1/vms -d '{"name":"..","image":"tiny"}'
refused 400 "a control character" POST /api/v1/vms -d '{"name":"b\u0001","image":"tiny"}'
refused 400 "an unknown field" POST /api/v1/vms -d '{"name":"b","image":"tiny","disk":"1G"}'
refused 404 "an unknown image" POST /api/v1/vms -d '{"name":"b","image":"nosuch"}'
refused 409 "a taken name" POST /api/v1/vms -d '{"name":"a","image":"tiny"}'
expect_status 403 "$(tapi "$view" POST /api/v1/vms -d '{"name":"b","image":"tiny"}')" "viewer create"
expect_status 401 "$(tapi "" POST /api/v1/vms -d '{"name":"b","image":"tiny"}')" "no token"
assert_eq "$(names)" "a" "refused creates made nothing"

note "set"
expect_status 200 "$(call PATCH /api/v1/vms/{name} /api/v1/vms/a \
	-d '{"cpus":3,"memory":"256","cloud_init":true}')" "set"
assert_eq "$(jq -r '[.cpus, .mem, .cloud_init, .pending] | join(" ")' "$T/body")" \
	"3 268435456 true false" "set reply"
assert_eq "$(vv vm show a --json | jq -r '[.cpus, .mem, .cloud_init] | join(" ")')" \
	"3 268435456 true" "the CLI sees the change"
refused 400 "set nothing" PATCH /api/v1/vms/a -d '{}'
refused 400 "set cpus 65" PATCH /api/v1/vms/a -d '{"cpus":65}'
refused 400 "cloud_init as a string" PATCH /api/v1/vms/a -d '{"cloud_init":"on"}'
refused 404 "set an unknown VM" PATCH /api/v1/vms/nosuch -d '{"cpus":1}'
refused 400 "set a bad name" PATCH "/api/v1/vms/a%2F..%2Fx" -d '{"cpus":1}'
expect_status 403 "$(tapi "$view" PATCH /api/v1/vms/a -d '{"cpus":1}')" "viewer set"
assert_eq "$(vv vm show a --json | jq -r .cpus)" 3 "refused sets changed nothing"
expect_status 200 "$(tapi "$op" PATCH /api/v1/vms/a -d '{"cloud_init":false}')" "cloud-init off"

note "clone with a count, and a full clone"
expect_status 200 "$(call POST /api/v1/vms/{name}/clone /api/v1/vms/a/clone \
	-d '{"name":"c","count":3}')" "clone 3"
assert_eq "$(jq -r '.vms | join(",")' "$T/body")" "c-1,c-2,c-3" "clone reply"
expect_status 200 "$(tapi "$op" POST /api/v1/vms/a/clone -d '{"name":"f","full":true}')" "full clone"
assert_eq "$(names)" "a,c-1,c-2,c-3,f" "clones in the catalog"
assert_eq "$(vv vm show c-2 --json | jq -r '[.cpus, .mem] | join(" ")')" "3 268435456" "clones keep the source's size"
refused 400 "count 0" POST /api/v1/vms/a/clone -d '{"name":"d","count":0}'
refused 400 "count 10001" POST /api/v1/vms/a/clone -d '{"name":"d","count":10001}'
refused 400 "count as a string" POST /api/v1/vms/a/clone -d '{"name":"d","count":"3"}'
refused 400 "full as a number" POST /api/v1/vms/a/clone -d '{"name":"d","full":1}'
refused 400 "clone without a name" POST /api/v1/vms/a/clone -d '{"count":2}'
refused 404 "clone an unknown VM" POST /api/v1/vms/nosuch/clone -d '{"name":"d"}'
refused 409 "clone onto a taken name" POST /api/v1/vms/a/clone -d '{"name":"c-1"}'
refused 409 "a count that meets a taken name" POST /api/v1/vms/a/clone -d '{"name":"c","count":4}'
expect_status 403 "$(tapi "$view" POST /api/v1/vms/a/clone -d '{"name":"d"}')" "viewer clone"
assert_eq "$(names)" "a,c-1,c-2,c-3,f" "refused clones made nothing"

note "snapshots of a stopped VM"
expect_status 200 "$(call POST /api/v1/vms/{name}/snapshots /api/v1/vms/a/snapshots \
	-d '{"tag":"s1"}')" "take s1"
assert_eq "$(jq -r .tag "$T/body")" s1 "take reply"
top1=$(vv vm show a --json | jq -r .disk)
expect_status 200 "$(tapi "$op" POST /api/v1/vms/a/snapshots)" "take with no tag"
auto=$(jq -r .tag "$T/body")
[[ $auto == snap-* ]] || fail "automatic tag: $auto"
expect_status 200 "$(call GET /api/v1/vms/{name}/snapshots /api/v1/vms/a/snapshots)" "list"
assert_eq "$(jq -c 'map(.tag)' "$T/body")" "$(vv vm snapshots a --json | jq -c 'map(.tag)')" "list as the CLI"
assert_eq "$(jq -r 'map(.tag) | join(",")' "$T/body")" "s1,$auto" "snapshot tags"
refused 409 "take a taken tag" POST /api/v1/vms/a/snapshots -d '{"tag":"s1"}'
refused 400 "take a bad tag" POST /api/v1/vms/a/snapshots -d '{"tag":"../x"}'
refused 400 "tag as a number" POST /api/v1/vms/a/snapshots -d '{"tag":1}'
refused 404 "take on an unknown VM" POST /api/v1/vms/nosuch/snapshots
expect_status 200 "$(call POST /api/v1/vms/{name}/snapshots/{tag}/revert \
	/api/v1/vms/a/snapshots/s1/revert)" "revert to s1"
[[ $(vv vm show a --json | jq -r .disk) != "$top1" ]] || fail "revert left the top layer"
refused 404 "revert to an unknown tag" POST /api/v1/vms/a/snapshots/nosuch/revert
refused 404 "revert an unknown VM" POST /api/v1/vms/nosuch/snapshots/s1/revert
expect_status 403 "$(tapi "$view" POST /api/v1/vms/a/snapshots/s1/revert)" "viewer revert"
expect_status 200 "$(call DELETE /api/v1/vms/{name}/snapshots/{tag} \
	"/api/v1/vms/a/snapshots/$auto")" "snapshot rm"
assert_eq "$(vv vm snapshots a --json | jq -r 'map(.tag) | join(",")')" "s1" "after snapshot rm"
refused 404 "rm it again" DELETE "/api/v1/vms/a/snapshots/$auto"

note "disks and NICs"
vv vm disk add a 16M >/dev/null
expect_status 200 "$(call GET /api/v1/vms/{name}/disks /api/v1/vms/a/disks)" "disks"
assert_eq "$(jq -c . "$T/body")" "$(vv vm disk list a --json | jq -c .)" "disks as the CLI"
assert_eq "$(jq -r '[.[] | "\(.disk):\(.boot)"] | join(",")' "$T/body")" "0:true,1:false" "disk list"
assert_eq "$(jq -r '.[1].size' "$T/body")" $((16 << 20)) "data disk size"
expect_status 200 "$(call GET /api/v1/vms/{name}/nics /api/v1/vms/a/nics)" "nics"
assert_eq "$(jq -c . "$T/body")" "[]" "a VM without a network has no NIC"
refused 404 "disks of an unknown VM" GET /api/v1/vms/nosuch/disks
refused 404 "nics of an unknown VM" GET /api/v1/vms/nosuch/nics
expect_status 200 "$(tapi "$view" GET /api/v1/vms/a/disks)" "a viewer reads disks"

note "a running TCG guest: pause, resume, live snapshot, powerdown"
refused 409 "pause a stopped VM" POST /api/v1/vms/a/pause
refused 409 "powerdown a stopped VM" POST /api/v1/vms/a/powerdown
at_exit '"$VHDVISOR" vm stop a'
expect_status 200 "$(tapi "$op" POST /api/v1/vms/a/start \
	-d '{"append":"vv.run=hold","accel":"tcg"}')" "start"
pid=$(jq -r .pid "$T/body")
wait_console a '^VV-HOLD'
refused 409 "delete a running VM" DELETE /api/v1/vms/a
refused 409 "revert a running VM" POST /api/v1/vms/a/snapshots/s1/revert
expect_status 403 "$(tapi "$view" POST /api/v1/vms/a/pause)" "viewer pause"
expect_status 200 "$(call POST /api/v1/vms/{name}/pause /api/v1/vms/a/pause)" "pause"
assert_eq "$(jq -r .state "$T/body")" paused "pause reply"
st=$(echo '{"cmd":"status"}' | socat -t 5 - "UNIX-CONNECT:$VHDVISOR_RUN/a.api")
assert_eq "$(jq -r .running <<<"$st")" false "the runtime says its vCPUs stopped"
expect_status 200 "$(call POST /api/v1/vms/{name}/resume /api/v1/vms/a/resume)" "resume"
assert_eq "$(jq -r .state "$T/body")" running "resume reply"
refused 404 "resume an unknown VM" POST /api/v1/vms/nosuch/resume
expect_status 200 "$(tapi "$op" POST /api/v1/vms/a/snapshots -d '{"tag":"live"}')" "live snapshot"
assert_eq "$(vv vm snapshots a --json | jq -r 'map(.tag) | join(",")')" "s1,live" "after the live snapshot"
expect_status 200 "$(tapi "$op" PATCH /api/v1/vms/a -d '{"cpus":1}')" "set while running"
assert_eq "$(jq -r .pending "$T/body")" true "the change waits for the next start"
refused 400 "powerdown timeout 0" POST /api/v1/vms/a/powerdown -d '{"timeout":0}'
SECONDS=0
expect_status 200 "$(call POST /api/v1/vms/{name}/powerdown /api/v1/vms/a/powerdown \
	-d '{"timeout":120}')" "powerdown"
assert_eq "$(jq -r '[.state, .forced] | join(" ")' "$T/body")" "stopped false" "powerdown reply"
((SECONDS < 120)) || fail "powerdown took ${SECONDS}s"
grep -aq '^VV-POWERBUTTON' "$VHDVISOR_RUN/a.console" || fail "the guest saw no power button"
grep -aq 'reboot: Power down' "$VHDVISOR_RUN/a.console" || fail "the guest did not power off"
gone "$pid" || fail "runtime $pid still lives"
refused 409 "powerdown again" POST /api/v1/vms/a/powerdown

note "delete"
expect_status 403 "$(tapi "$view" DELETE /api/v1/vms/c-2)" "viewer delete"
expect_status 200 "$(call DELETE /api/v1/vms/{name} /api/v1/vms/c-2)" "delete"
assert_eq "$(names)" "a,c-1,c-3,f" "after delete"
refused 404 "delete it again" DELETE /api/v1/vms/c-2
refused 405 "delete the list" DELETE /api/v1/vms
consistent

note "audit"
log=$VHDVISOR_STATE/audit.log
grep -q " token:ci POST /api/v1/vms 200$" "$log" || fail "no audit of create: $(cat "$log")"
grep -q " token:ci PATCH /api/v1/vms/a 400$" "$log" || fail "no audit of a refused set"
grep -q " token:ro DELETE /api/v1/vms/c-2 403$" "$log" || fail "no audit of a viewer's delete"
daemon_stop
true
