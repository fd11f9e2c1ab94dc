#!/bin/bash
# A damaged STATE/metrics.db: vhdvisord still starts and keeps the last
# hour of samples in memory, says why in its log, answers minute queries
# with a JSON 500 naming the file, and leaves the file as it was.
# timeout: 60
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl

mkdir -p "$VHDVISOR_STATE"
head -c 8192 /dev/urandom >"$VHDVISOR_STATE/metrics.db"
chmod 600 "$VHDVISOR_STATE/metrics.db"
sum=$(sha256sum <"$VHDVISOR_STATE/metrics.db")
daemon_start
for _ in $(seq 1 50); do
	expect_status 200 "$(api GET /api/v1/host/stats)" "seconds without metrics.db"
	(($(jq '.points | length' "$T/body") >= 1)) && break
	sleep 0.2
done
(($(jq '.points | length' "$T/body") >= 1)) || fail "no samples: $(head -c 300 "$T/body")"
grep -q "metrics kept in memory only: .*metrics.db" "$T/daemon.log" ||
	fail "no warning: $(cat "$T/daemon.log")"
expect_status 500 "$(api GET "/api/v1/host/stats?step=60")" "minutes from a damaged file"
grep -q metrics.db "$T/body" || fail "the error does not name the file: $(cat "$T/body")"
daemon_stop
assert_eq "$(sha256sum <"$VHDVISOR_STATE/metrics.db")" "$sum" "metrics.db untouched"
true
