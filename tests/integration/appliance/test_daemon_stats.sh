#!/bin/bash
# vhdvisord's metrics: a real TCG guest writing to its disk; its disk
# byte counters and CPU time rise between two samples, since= filters,
# step=60 reads the minutes, the host's figures match /proc, bad query
# values get 400, a viewer token may read, metrics.db is 0600.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH   # hv's runtime serves disks with our vhd tool

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create web --from tmpl --mem 128M >/dev/null
view=$(vv token create ro --role viewer 2>/dev/null)

daemon_start --listen 127.0.0.1:0
assert_eq "$(stat -c %a "$VHDVISOR_STATE/metrics.db")" 600 "metrics.db mode"

note "host stats"
# the sampler takes its first sample at once; wait for two
for _ in $(seq 1 50); do
	expect_status 200 "$(api GET /api/v1/host/stats)" "host stats"
	(($(jq '.points | length' "$T/body") >= 2)) && break
	sleep 0.2
done
(($(jq '.points | length' "$T/body") >= 2)) || fail "no host samples: $(head -c 300 "$T/body")"
memkb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
assert_eq "$(jq '.points[-1].mem_total' "$T/body")" "$((memkb * 1024))" "host memory total"
assert_eq "$(jq '.points[-1].cpus' "$T/body")" "$(getconf _NPROCESSORS_ONLN)" "host CPUs"
assert_eq "$(jq .step "$T/body")" 1 "default step"
jq -e '.points[-1] | .storage_free > 0 and .storage_free <= .storage_total and
	.load1 >= 0 and .mem_available <= .mem_total and .cpu_busy_ns > 0' "$T/body" \
	>/dev/null || fail "host sample: $(jq -c '.points[-1]' "$T/body")"
free=$(df -B1 --output=avail "$VHDVISOR_STATE" | tail -1)
jq -e --argjson f "$free" '(.points[-1].storage_free - $f) | fabs < 1e9' "$T/body" >/dev/null ||
	fail "storage free $(jq '.points[-1].storage_free' "$T/body"), df says $free"
jq -e '[.points[].t] | . == sort and (unique | length) == length' "$T/body" >/dev/null ||
	fail "times not increasing: $(jq -c '[.points[].t]' "$T/body")"

note "since= filters"
t2=$(jq '.points[-1].t' "$T/body")
expect_status 200 "$(api GET "/api/v1/host/stats?since=$t2")" "since"
assert_eq "$(jq '[.points[].t | select(. < '"$t2"')] | length' "$T/body")" 0 "older samples"
(($(jq '.points | length' "$T/body") >= 1)) || fail "since=$t2 gave nothing"
expect_status 200 "$(api GET "/api/v1/host/stats?since=$((t2 + 100000))")" "since in the future"
assert_eq "$(jq '.points | length' "$T/body")" 0 "samples from the future"
expect_status 200 "$(api GET "/api/v1/host/stats?since=0&step=60")" "minutes"
assert_eq "$(jq .step "$T/body")" 60 "step 60"
(($(jq '.points | length' "$T/body") >= 1)) || fail "no minute yet: $(head -c 300 "$T/body")"
jq -e '.points | all(.t % 60 == 0)' "$T/body" >/dev/null || fail "minutes not on minutes"

note "bad query values"
for q in "since=abc" "since=-5" "step=5" "step=" "since=1&since=2" "nosuch=1" "since=%zz" \
	"since=1e3" "since=99999999999999999999"; do
	expect_status 400 "$(api GET "/api/v1/host/stats?$q")" "?$q"
done
expect_status 400 "$(api GET "/api/v1/vms/web/stats?step=2")" "vm step 2"
expect_status 414 "$(api GET "/api/v1/host/stats?since=$(printf '%05000d' 1)")" "a huge query"
expect_status 200 "$(api GET "/api/v1/host/stats?since=%31")" "an encoded value"
expect_status 400 "$(api GET "/api/v1/host?since=1")" "a route without query parameters"
expect_status 404 "$(api GET /api/v1/vms/nosuch/stats)" "stats of a missing VM"

note "a stopped VM has no samples"
expect_status 200 "$(api GET /api/v1/vms/web/stats)" "stopped VM"
assert_eq "$(jq -c '[.running, (.points | length)]' "$T/body")" "[false,0]" "stopped VM stats"

note "a TCG guest that writes to its disk"
body=$(jq -nc --arg k "$G/vmlinux" --arg i "$G/initrd.img" \
	'{kernel: $k, initrd: $i, append: "vv.run=count:vda:1024", accel: "tcg"}')
at_exit '"$VHDVISOR" vm stop web'
expect_status 200 "$(api POST /api/v1/vms/web/start -d "$body")" "start"
pid=$(jq -r .pid "$T/body")
for _ in $(seq 1 120); do
	grep -q VV-COUNT=3 "$VHDVISOR_RUN/web.console" 2>/dev/null && break
	sleep 1
done
grep -q VV-COUNT=3 "$VHDVISOR_RUN/web.console" || fail "the guest does not write"

# last [AFTER]: the newest sample of the VM into $T/last; waits for one
# taken in a second later than AFTER (a Unix time, default none)
last() {
	for _ in $(seq 1 50); do
		expect_status 200 "$(api GET /api/v1/vms/web/stats)" "vm stats"
		jq -e --argjson a "${1:-0}" '(.points | length) >= 1 and .points[-1].t > $a' \
			"$T/body" >/dev/null && break
		sleep 0.2
	done
	jq '.points[-1]' "$T/body" >"$T/last"
}
# a sample taken after the guest's third write
last "$(date +%s)"
cp "$T/body" "$T/first.json"
jq -e --argjson p "$pid" '.running and .pid == $p and .engine_pid > 0 and
	(.disks | length) >= 1 and .disks[0].source == "bdev"' "$T/first.json" >/dev/null ||
	fail "vm stats: $(jq -c 'del(.points)' "$T/first.json")"
epid=$(jq .engine_pid "$T/first.json")
[[ $(tr -d '\0' <"/proc/$epid/cmdline") == *qemu-system* ]] || fail "engine pid $epid is not QEMU"
jq -e '.mem_guest == 134217728 and .engine_rss > 0 and .runtime_rss > 0 and
	.engine_cpu_ns > 0 and .disk0_wr_bytes > 0 and .disk0_wr_ops > 0' "$T/last" \
	>/dev/null || fail "first sample: $(cat "$T/last")"
cp "$T/last" "$T/a"
# the guest writes every 0.1 s and TCG burns CPU: both rise (bounded wait)
for _ in $(seq 1 30); do
	sleep 1
	last
	jq -e --slurpfile a "$T/a" '.t > $a[0].t and .disk0_wr_bytes > $a[0].disk0_wr_bytes and
		.engine_cpu_ns > $a[0].engine_cpu_ns' "$T/last" >/dev/null && break
done
jq -e --slurpfile a "$T/a" '.t > $a[0].t and .disk0_wr_bytes > $a[0].disk0_wr_bytes and
	.disk0_wr_ops > $a[0].disk0_wr_ops and .engine_cpu_ns > $a[0].engine_cpu_ns' \
	"$T/last" >/dev/null || fail "counters did not rise: $(cat "$T/a") then $(cat "$T/last")"
jq -e '.cpu_percent > 0' "$T/last" >/dev/null || fail "cpu_percent: $(jq .cpu_percent "$T/last")"
note "$(jq -r '"t=\(.t) disk0_wr_bytes=\(.disk0_wr_bytes) engine_cpu_ns=\(.engine_cpu_ns)"' "$T/a")"
note "$(jq -r '"t=\(.t) disk0_wr_bytes=\(.disk0_wr_bytes) engine_cpu_ns=\(.engine_cpu_ns) cpu_percent=\(.cpu_percent)"' "$T/last")"
# the engine's CPU time agrees with /proc (clock ticks, utime + stime)
read -r ut st < <(sed 's/.*) //' "/proc/$epid/stat" | awk '{print $12, $13}')
procns=$(((ut + st) * 1000000000 / $(getconf CLK_TCK)))
jq -e --argjson p "$procns" '.engine_cpu_ns <= $p' "$T/last" >/dev/null ||
	fail "engine CPU $(jq .engine_cpu_ns "$T/last") ns above /proc's $procns"

note "since= on a VM, and a viewer token over TLS"
ta=$(jq .t "$T/a")
expect_status 200 "$(tapi "$view" GET "/api/v1/vms/web/stats?since=$ta&step=1")" "viewer reads"
jq -e --argjson t "$ta" '(.points | length) >= 2 and (.points | all(.t >= $t))' "$T/body" \
	>/dev/null || fail "since=$ta: $(jq -c '[.points[].t]' "$T/body")"
expect_status 200 "$(tapi "$view" GET /api/v1/host/stats)" "viewer reads the host"
expect_status 401 "$(tapi "" GET /api/v1/host/stats)" "no token"
expect_status 200 "$(api GET "/api/v1/vms/web/stats?since=0&step=60")" "VM minutes"
(($(jq '.points | length' "$T/body") >= 1)) || fail "no VM minute: $(head -c 300 "$T/body")"
jq -e '.points[-1].disk0_wr_bytes > 0' "$T/body" >/dev/null || fail "minute disk bytes"

note "stop: the VM's seconds stay"
expect_status 200 "$(api POST /api/v1/vms/web/stop)" "stop"
gone "$pid" || fail "runtime $pid still lives"
for _ in $(seq 1 30); do
	expect_status 200 "$(api GET "/api/v1/vms/web/stats?since=$ta")" "stats after stop"
	[[ $(jq .running "$T/body") == false ]] && break
	sleep 0.2
done
jq -e '.running == false and (.points | length) >= 2' "$T/body" >/dev/null ||
	fail "after stop: $(jq -c 'del(.points)' "$T/body")"

daemon_stop
note "a new daemon serves the minutes from metrics.db"
daemon_start
expect_status 200 "$(api GET "/api/v1/vms/web/stats?since=0&step=60")" "minutes after a restart"
jq -e '(.points | length) >= 1 and .points[-1].disk0_wr_bytes > 0' "$T/body" >/dev/null ||
	fail "minutes after a restart: $(head -c 300 "$T/body")"
expect_status 200 "$(api GET "/api/v1/vms/web/stats?since=$ta")" "seconds after a restart"
assert_eq "$(jq '.points | length' "$T/body")" 0 "seconds are not kept across restarts"
daemon_stop
