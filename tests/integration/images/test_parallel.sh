#!/bin/bash
# Parallel commands on one catalog queue instead of failing: four imports
# and four `vm clone --count 25` at once all succeed (no lock timeouts),
# and the catalog and files stay consistent.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3

for i in 1 2 3 4; do
	truncate -s 64M "$T/r$i.raw"
	head -c 4M /dev/urandom | dd of="$T/r$i.raw" bs=1M seek=$((i * 8)) conv=notrunc status=none
done
mkraw "$T/tmpl.raw" 32M
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create base --from tmpl >/dev/null

pids=()
for i in 1 2 3 4; do
	"$VHDVISOR" image import "$T/r$i.raw" --format raw --name "r$i" >"$T/imp$i" 2>&1 & pids+=($!)
	"$VHDVISOR" vm clone base "p$i" --count 25 >"$T/cl$i" 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || { cat "$T"/imp* "$T"/cl* >&2; fail "a parallel command failed"; }
done
assert_eq "$(vv image list --json | jq length)" 5 "images"
assert_eq "$(vv vm list --json | jq '[.[] | select(.name | startswith("p"))] | length')" 100 "clones"
assert_eq "$(vv vm list --json | jq '[.[] | .mac] | unique | length')" 101 "distinct MACs"
vv image gc >/dev/null
consistent clean
