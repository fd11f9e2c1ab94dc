#!/bin/bash
# The web console's first load in headless Chromium (playwright-core,
# /usr/bin/chromium) over HTTPS from vhdvisord, with 10 and with 1,000 VMs
# in the catalog (linked clones): median of 5 fresh browser contexts of the
# time from navigation to a rendered dashboard (goal < 1 s with 1,000),
# then to the whole VM list rendered, and the bytes on the wire (the
# dashboard's load: files gzip, /host, /vms, /host/stats).
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd jq node
[[ -x /usr/bin/chromium ]] || skip "no /usr/bin/chromium"
WEB_NPM=${VHDVISOR_WEB_NPM:-${VHDVISOR_CACHE:-/var/cache/vhdvisor}/web-npm}
[[ -d $WEB_NPM/node_modules/playwright-core ]] || skip "no playwright-core in $WEB_NPM"
VHDVISORD=$VV_BUILD/bin/vhdvisord
export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run
truncate -s 64M "$T/tmpl.raw"
"$VHDVISOR" image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
"$VHDVISOR" vm create base --from tmpl >/dev/null
tok=$("$VHDVISOR" token create bench --role operator 2>/dev/null)
have=1
for n in 10 1000; do
	"$VHDVISOR" vm clone base "vm$n" --count $((n - have)) >/dev/null   # vm10-1 .. vm10-9, ...
	have=$n
	mkdir -p "$VHDVISOR_RUN"
	rm -f "$VHDVISOR_RUN/vhdvisord.json"
	"$VHDVISORD" --state "$VHDVISOR_STATE" --run "$VHDVISOR_RUN" --listen 127.0.0.1:0 \
		2>"$T/daemon.log" &
	dpid=$!
	for _ in $(seq 1 100); do [[ -s $VHDVISOR_RUN/vhdvisord.json ]] && break; sleep 0.1; done
	url=$(jq -r .url "$VHDVISOR_RUN/vhdvisord.json")
	out=$(URL=$url TOK=$tok WEB_NPM=$WEB_NPM N=$n node "$VV_ROOT/tests/bench/web_first_load.cjs") ||
		{ kill $dpid; echo "FAIL: $out"; exit 1; }
	kill $dpid; wait $dpid 2>/dev/null || true
	printf '%-5s VMs: dashboard %5s ms   VM list %5s ms   %7s bytes on the wire\n' "$n" \
		"$(jq .dash_ms <<<"$out")" "$(jq .list_ms <<<"$out")" "$(jq .bytes <<<"$out")"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
