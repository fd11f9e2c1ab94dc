#!/bin/bash
# vhdvisord with a catalog of 10,000 VMs (real linked clones: `vm clone
# --count`, one differencing VHD each on a 64 MiB template), in one run:
#  1. GET /api/v1/vms (the whole list, ~3.8 MB of JSON) from one client:
#     median and p99 (goal p99 < 50 ms); `vhdvisor vm list` wall time
#     (goal < 0.3 s) and `vm list --json`;
#  2. 100 concurrent clients for VV_BENCH_SECS (default 10) seconds on
#     GET /api/v1/vms/{name}, then on GET /api/v1/vms: requests/s, p50, p99;
#  3. the daemon's RSS idle (empty catalog), with 10,000 VMs after the
#     single-client lists, and after the load; its CPU time per list.
# Load tool: tests/tools/api_load (keep-alive connections on the Unix
# socket). VV_BENCH_VMS changes the count. The machine's load average is
# printed: on a shared machine wall times follow it, CPU per request less.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd jq curl bc
LOAD=$VV_BUILD/tests/tools/api_load
VHDVISORD=$VV_BUILD/bin/vhdvisord
[[ -x $LOAD ]] || skip "build the test tools first (make tests-build)"
N=${VV_BENCH_VMS:-10000}
SECS=${VV_BENCH_SECS:-10}
export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run
SOCK=$VHDVISOR_RUN/vhdvisord.sock

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
row() { printf '%-52s %s\n' "$1" "$2"; }
verdict() { [[ $(echo "$1" | bc -l) == 1 ]] && echo yes || echo NO; }

truncate -s 64M "$T/tmpl.raw"
"$VHDVISOR" image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
"$VHDVISOR" vm create base --from tmpl >/dev/null

mkdir -p "$VHDVISOR_RUN"
"$VHDVISORD" --state "$VHDVISOR_STATE" --run "$VHDVISOR_RUN" 2>"$T/daemon.log" &
DPID=$!
trap 'kill $DPID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do [[ -S $SOCK ]] && break; sleep 0.1; done
[[ -S $SOCK ]] || { cat "$T/daemon.log"; echo "FAIL: vhdvisord did not start"; exit 1; }
sleep 0.5
rss_idle=$(rss_kb $DPID)

clone=$(secs "$VHDVISOR" vm clone base vm --count $((N - 1)))
n=$(curl -sS --unix-socket "$SOCK" http://localhost/api/v1/vms | jq length)
[[ $n == "$N" ]] || { echo "FAIL: the API lists $n VMs, not $N"; exit 1; }
files=$(find "$VHDVISOR_STATE/vms" -name '*.vhd' | wc -l)
((files >= N)) || { echo "FAIL: $files VHD files for $N VMs"; exit 1; }

c0=$(cpu_ticks $DPID)
one=$("$LOAD" "$SOCK" 1 -n 50 /api/v1/vms) || { echo "FAIL: $one"; exit 1; }
c1=$(cpu_ticks $DPID)
cpu_ms=$(((c1 - c0) * 1000 / $(getconf CLK_TCK) / 50))
rss_list=$(rss_kb $DPID)
cli=$(for _ in 1 2 3 4 5; do secs "$VHDVISOR" vm list; echo; done | median)
clij=$(for _ in 1 2 3; do secs "$VHDVISOR" vm list --json; echo; done | median)
get=$("$LOAD" "$SOCK" 100 -t "$SECS" /api/v1/vms/vm-1 /api/v1/vms/vm-$((N / 2)) \
	/api/v1/vms/vm-$((N - 1))) || { echo "FAIL: $get"; exit 1; }
lists=$("$LOAD" "$SOCK" 100 -t "$SECS" /api/v1/vms) || { echo "FAIL: $lists"; exit 1; }
rss_load=$(rss_kb $DPID)
p99=$(jq .p99_ms <<<"$one")

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
row "$N linked clones (vm clone --count)" "$(printf '%.2f s' "$clone")"
row "GET /api/v1/vms, 1 client: median / p99" \
	"$(jq -r '"\(.p50_ms) ms / \(.p99_ms) ms (\(.bytes / .requests | floor) bytes)"' <<<"$one")"
row "GET /api/v1/vms: daemon CPU per request" "$cpu_ms ms"
row "vhdvisor vm list / vm list --json" "$(printf '%.3f s / %.3f s' "$cli" "$clij")"
row "100 clients GET /api/v1/vms/{name}: rps, p50 / p99" \
	"$(jq -r '"\(.rps) /s, \(.p50_ms) ms / \(.p99_ms) ms"' <<<"$get")"
row "100 clients GET /api/v1/vms: rps, p50 / p99" \
	"$(jq -r '"\(.rps) /s, \(.p50_ms) ms / \(.p99_ms) ms"' <<<"$lists")"
row "daemon RSS idle / $N VMs listed / after the load" \
	"$((rss_idle / 1024)) MiB / $((rss_list / 1024)) MiB / $((rss_load / 1024)) MiB"
row "goal: GET /api/v1/vms p99 < 50 ms" "$(verdict "$p99 < 50")"
row "goal: vm list < 0.3 s" "$(verdict "$cli < 0.3")"
