#!/bin/bash
# Disk rate limits in the VM runtime (blkback/ratelimit.c on each disk's
# bdev): a TCG guest writes sequentially with O_DIRECT (1 MiB blocks) to a
# disk started with --disk-limit 0:wbps=20M; the rate, measured on the host
# from the bdev's byte counters (disk-stats) over a 6 s window, is within
# 10% of 20 MiB/s. set-disk-limit to 10 MiB/s while the guest writes: from
# one second after the change the rate is within 10% of 10 MiB/s. Then
# bytes unlimited and wiops=10: write requests/s within 10% of 10.
# disk-stats shows the limits; bad limits are refused (usage error,
# API error) and change nothing. Reads over the NBD transport under
# rbps=20M: within 10% too.
# serial
# timeout: 600
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"
need_cmd jq

MIB=1048576

# sample SOCK: "<monotonic seconds> <write_bytes> <write_ops> <read_bytes>
# <read_ops>" of disk 0, the time taken halfway through the request.
sample() {
	python3 - "$1" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
t0 = time.monotonic()
s.sendall(b'{"cmd":"disk-stats"}\n')
r = json.loads(s.makefile().readline())
t1 = time.monotonic()
d = r["disks"][0]
print("%.6f %d %d %d %d" % ((t0 + t1) / 2, d["write_bytes"], d["write_ops"],
                          d["read_bytes"], d["read_ops"]))
PY
}

# rate A B FIELD (2 written bytes, 3 write ops, 4 read bytes, 5 read ops):
# per second between two samples.
rate() {
	awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " ");
		printf "%.3f", (y[f] - x[f]) / (y[1] - x[1]) }'
}

# within VALUE WANT PERCENT
within() {
	awk -v v="$1" -v w="$2" -v p="$3" 'BEGIN {
		d = v - w; if (d < 0) d = -d; exit !(d <= w * p / 100) }'
}

cd "$T"
"$VHD" create lim.vhd 2G >/dev/null

note "bad --disk-limit is a usage error"
for bad in "1:wbps=1M" "0:wbps=fast" "0:wbps_burst=1M" "x:wbps=1M"; do
	rc=0
	"$VHDVISOR" run --name "$VM" --kernel "$G/vmlinux" --disk lim.vhd \
		--disk-limit "$bad" >bad.out 2>bad.err || rc=$?
	assert_eq "$rc" 2 "exit status of --disk-limit $bad"
	grep -q -- "--disk-limit" bad.err || fail "no reason for $bad: $(cat bad.err)"
done

note "a guest writes under --disk-limit 0:wbps=20M"
start_direct "$T/con.log" "vv.run=ddw:vda:1800,hold" --mem 256M --disk lim.vhd \
	--disk-limit 0:wbps=20M --api "$T/api.sock"
end=$((SECONDS + 240))
while :; do
	[[ -S $T/api.sock ]] && s=$(sample "$T/api.sock" 2>/dev/null) &&
		(($(cut -d' ' -f2 <<<"$s") > 8 * MIB)) && break
	((SECONDS < end)) || { cat "$T/run.err"; tail "$T/con.log"; fail "the guest never wrote"; }
	kill -0 "$VMPID" 2>/dev/null || { cat "$T/run.err"; fail "vhdvisor ended"; }
	sleep 0.5
done
r=$(api "$T/api.sock" '{"cmd":"disk-stats"}')
jq -e '.disks[0].limits | .wbps == 20971520 and .rbps == 0 and .wiops == 0' <<<"$r" \
	>/dev/null || fail "disk-stats limits: $r"

sleep 1
a=$(sample "$T/api.sock")
sleep 6
b=$(sample "$T/api.sock")
r1=$(rate "$a" "$b" 2)
note "measured $(awk -v r="$r1" 'BEGIN {printf "%.2f", r / 1048576}') MiB/s at 20 MiB/s"
within "$r1" $((20 * MIB)) 10 || fail "rate $r1 B/s is not within 10% of 20 MiB/s"

note "bad set-disk-limit requests are refused"
for req in '{"cmd":"set-disk-limit","disk":3,"wbps":1}' \
	'{"cmd":"set-disk-limit","disk":0,"wbps":"10M"}' \
	'{"cmd":"set-disk-limit","disk":0,"wbps":-1}' \
	'{"cmd":"set-disk-limit","disk":0}' \
	'{"cmd":"set-disk-limit","disk":0,"rbps_burst":5}'; do
	r=$(api "$T/api.sock" "$req")
	jq -e '.ok == false and (.error | length) > 0' <<<"$r" >/dev/null ||
		fail "$req: $r"
done
r=$(api "$T/api.sock" '{"cmd":"disk-stats"}')
jq -e '.disks[0].limits | .wbps == 20971520 and .rbps_burst == 0' <<<"$r" >/dev/null ||
	fail "limits changed by refused requests: $r"

note "set-disk-limit to 10 MiB/s while the guest writes"
r=$(api "$T/api.sock" '{"cmd":"set-disk-limit","disk":0,"wbps":10485760}')
assert_eq "$(json_get "$r" ok)" true "set-disk-limit: $r"
sleep 1
a=$(sample "$T/api.sock")
sleep 5
b=$(sample "$T/api.sock")
r2=$(rate "$a" "$b" 2)
note "measured $(awk -v r="$r2" 'BEGIN {printf "%.2f", r / 1048576}') MiB/s from 1 s after the change to 10 MiB/s"
within "$r2" $((10 * MIB)) 10 || fail "rate $r2 B/s is not within 10% of 10 MiB/s"
r=$(api "$T/api.sock" '{"cmd":"disk-stats"}')
jq -e '.disks[0].limits.wbps == 10485760' <<<"$r" >/dev/null || fail "disk-stats: $r"

note "bytes unlimited, 10 write requests/s"
r=$(api "$T/api.sock" '{"cmd":"set-disk-limit","disk":0,"wbps":0,"wiops":10}')
assert_eq "$(json_get "$r" ok)" true "set-disk-limit: $r"
sleep 1
a=$(sample "$T/api.sock")
sleep 6
b=$(sample "$T/api.sock")
r3=$(rate "$a" "$b" 3)
note "measured $r3 write requests/s at 10/s ($(rate "$a" "$b" 2) B/s)"
within "$r3" 10 10 || fail "$r3 requests/s is not within 10% of 10"

assert_eq "$(json_get "$(api "$T/api.sock" '{"cmd":"stop"}')" ok)" true "stop"
wait_exit
[[ $RC == 0 ]] || { cat "$T/run.err"; fail "exit $RC after stop"; }
"$VHD" check lim.vhd >/dev/null || fail "vhd check: $("$VHD" check lim.vhd 2>&1 | tail -3)"
assert_clean "$T/api.sock"

note "reads over NBD under --disk-limit 0:rbps=20M"
start_direct "$T/nbd.log" "vv.run=ddr:vda:1800,hold" --mem 256M --disk lim.vhd,ro \
	--disk-transport nbd --disk-limit 0:rbps=20M --api "$T/api.sock"
end=$((SECONDS + 240))
while :; do
	[[ -S $T/api.sock ]] && s=$(sample "$T/api.sock" 2>/dev/null) &&
		(($(cut -d' ' -f4 <<<"$s") > 8 * MIB)) && break
	((SECONDS < end)) || { cat "$T/run.err"; tail "$T/nbd.log"; fail "the guest never read"; }
	kill -0 "$VMPID" 2>/dev/null || { cat "$T/run.err"; fail "vhdvisor ended"; }
	sleep 0.5
done
sleep 1
a=$(sample "$T/api.sock")
sleep 5
b=$(sample "$T/api.sock")
r4=$(rate "$a" "$b" 4)
note "measured $(awk -v r="$r4" 'BEGIN {printf "%.2f", r / 1048576}') MiB/s of reads at 20 MiB/s"
within "$r4" $((20 * MIB)) 10 || fail "read rate $r4 B/s is not within 10% of 20 MiB/s"
assert_eq "$(json_get "$(api "$T/api.sock" '{"cmd":"stop"}')" ok)" true "stop"
wait_exit
[[ $RC == 0 ]] || { cat "$T/run.err"; fail "exit $RC after stop"; }
assert_clean "$T/api.sock"
