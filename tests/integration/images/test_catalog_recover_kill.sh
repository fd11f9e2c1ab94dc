#!/bin/bash
# `catalog recover` killed -9 at random moments: every command then sees
# either the old state (refused as damaged) or the whole new catalog, never
# a part, and a rerun finishes the job.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq
ITER=${VV_KILL_ITER:-10}
N=16
refused=0

mkraw "$T/a.raw" 64M
vv image import "$T/a.raw" --format raw --name a >/dev/null
vv vm create base --from a >/dev/null
vv vm clone base c --count $((N - 1)) >/dev/null
for v in base c-1 c-7; do vv vm snapshot "$v" s >/dev/null; done
want=$(vv vm list --json | jq -r '[.[].name] | sort | join(" ")')
cp -a "$VHDVISOR_STATE" "$T/good"
rm -f "$VHDVISOR_STATE"/catalog.db*

for i in $(seq 1 "$ITER"); do
	"$VHDVISOR" catalog recover >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(printf '%03d' $((RANDOM % 130)))"   # a whole run takes about 0.1 s
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rc=0
	vv vm list --json >"$T/list" 2>"$T/err" || rc=$?
	if ((rc)); then
		grep -q "catalog missing or damaged" "$T/err" || fail "kill $i: $(cat "$T/err")"
		refused=$((refused + 1))
		continue
	fi
	assert_eq "$(jq -r '[.[].name] | sort | join(" ")' "$T/list")" "$want" "kill $i: VMs"
	consistent
	rm -f "$VHDVISOR_STATE"/catalog.db*     # damage it again
done
note "$refused of $ITER kills left the old (refused) state, the others the new catalog"
vv catalog recover >/dev/null
assert_eq "$(vv vm list --json | jq -r '[.[].name] | sort | join(" ")')" "$want" "VMs at the end"
assert_eq "$(vv vm snapshots c-7 --json | jq -r '.[].tag')" "recovered-1" "c-7's snapshot"
consistent
