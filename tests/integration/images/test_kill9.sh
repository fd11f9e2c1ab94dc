#!/bin/bash
# kill -9 at random moments of import, bundle import, clone and
# snapshot-rm: the catalog
# and the files stay consistent, `image gc` removes the leftovers (but
# keeps a merge that can resume), and running the command again finishes
# the job with the right result.
# timeout: 900
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3
ITER=${VV_KILL_ITER:-8}

# killat BINARY ARGS...: runs BINARY in the background (a binary, not a
# shell function, so that $! is its pid) and kills it -9 after a random
# 0-600 ms (it may finish before).
killat() {
	"$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "0.$(printf '%03d' $((RANDOM % 600)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

truncate -s 2G "$T/big.raw"
head -c 48M /dev/urandom | dd of="$T/big.raw" bs=1M seek=300 conv=notrunc status=none
head -c 16M /dev/urandom | dd of="$T/big.raw" bs=1M seek=1500 conv=notrunc status=none
vv image import "$T/big.raw" --format raw --json >"$T/ref.json"
want=$(jq -r .id "$T/ref.json")
vv image rm "$want" >/dev/null

note "import, killed $ITER times"
for i in $(seq 1 "$ITER"); do
	killat "$VHDVISOR" image import "$T/big.raw" --format raw --name big
	consistent
done
vv image gc >/dev/null
consistent clean
vv image import "$T/big.raw" --format raw --name big --json >"$T/imp.json"
assert_eq "$(jq -r .id "$T/imp.json")" "$want" "import after kills"
consistent clean

note "bundle import into a second state directory, killed $ITER times"
vv image export big --bundle "$T/big.tar"
for i in $(seq 1 "$ITER"); do
	VHDVISOR_STATE=$T/other killat "$VHDVISOR" image import "$T/big.tar"
	VHDVISOR_STATE=$T/other consistent
done
VHDVISOR_STATE=$T/other vv image gc >/dev/null
VHDVISOR_STATE=$T/other consistent clean
VHDVISOR_STATE=$T/other vv image import "$T/big.tar" >/dev/null
assert_eq "$(VHDVISOR_STATE=$T/other image_id big)" "$want" "bundle import after kills"
VHDVISOR_STATE=$T/other consistent clean

note "clone --count 40, killed $ITER times"
vv vm create base --from big >/dev/null
for i in $(seq 1 "$ITER"); do
	killat "$VHDVISOR" vm clone base "k$i" --count 40
	consistent
done
vv image gc >/dev/null
consistent clean
vv vm clone base again --count 40 >/dev/null
assert_eq "$(vv vm list --json | jq '[.[] | select(.name | startswith("again-"))] | length')" 40 \
	"clone after kills"
consistent clean

note "snapshot-rm, killed $ITER times"
truncate -s 256M "$T/small.raw"
vv image import "$T/small.raw" --format raw --name small >/dev/null
vv vm create s --from small >/dev/null
disk() { vv vm show s --json | jq -r .disk; }
put() { head -c 24M /dev/urandom >"$T/w"; "$VHD" write "$(disk)" "$1" --from "$T/w" >/dev/null; }
view() { vraw "$(disk)" "$T/v"; sha "$T/v"; }
put 10000000
vv vm snapshot s a >/dev/null
put 110000000
vv vm snapshot s b >/dev/null
put 200000000
vv vm snapshot s c >/dev/null
sc=$(view)
put 10000000
now=$(view)
for tag in b a; do
	for i in $(seq 1 "$ITER"); do
		killat "$VHDVISOR" vm snapshot-rm s "$tag"
		consistent
		assert_eq "$(view)" "$now" "VM view after a killed snapshot-rm $tag"
	done
	# gc keeps the journal and new files of a merge that can resume
	vv image gc >/dev/null
	consistent
	vv vm snapshots s --json | jq -e --arg t "$tag" 'map(.tag) | index($t)' >/dev/null &&
		vv vm snapshot-rm s "$tag"
	assert_eq "$(view)" "$now" "VM view after snapshot-rm $tag"
	vv image gc >/dev/null
	consistent clean
done
vv vm snapshot s now >/dev/null
vv vm revert s c
assert_eq "$(view)" "$sc" "snapshot c intact"
vv image gc >/dev/null
consistent clean
