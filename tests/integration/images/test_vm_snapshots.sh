#!/bin/bash
# Snapshots of a stopped VM: take, write, revert; deleting the middle (and
# every other) snapshot keeps what each remaining snapshot and the VM read;
# reset goes back to the template; the chain does not grow without bound.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq

mkraw "$T/tmpl.raw" 32M
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create v --from tmpl >/dev/null
disk() { vv vm show v --json | jq -r .disk; }
# put OFF WORD: writes 64 KiB of WORD at OFF into the VM's disk
put() { head -c 65536 < <(yes "$2") >"$T/w"; "$VHD" write "$(disk)" "$1" --from "$T/w" >/dev/null; }
# view FILE OUT: the whole disk of the VM (or of a snapshot layer)
view() { vraw "$1" "$2"; sha "$2"; }

sum_tmpl=$(sha "$T/tmpl.raw")
put 1048576 one
put 20000000 one
vv vm snapshot v s1 >/dev/null
s1=$(view "$(disk)" "$T/v")   # the new top reads what s1 froze
put 1048576 two
vv vm snapshot v s2 >/dev/null
s2=$(view "$(disk)" "$T/v")
put 20000000 three
put 30000000 three
vv vm snapshot v s3 >/dev/null
s3=$(view "$(disk)" "$T/v")
put 1048576 four
now=$(view "$(disk)" "$T/v")
vv vm snapshots v --json | jq -r '.[].tag' | tr '\n' ' ' | grep -qx 's1 s2 s3 ' || fail "snapshot list"

note "revert to each snapshot reads what it froze"
vv vm revert v s1
assert_eq "$(view "$(disk)" "$T/v")" "$s1" "revert s1"
vv vm revert v s3
assert_eq "$(view "$(disk)" "$T/v")" "$s3" "revert s3"
put 1048576 four
assert_eq "$(view "$(disk)" "$T/v")" "$now" "write after revert"
expect_exit 1 vv vm revert v nope
assert_stderr "no snapshot 'nope'"
expect_exit 1 vv vm snapshot v s2
assert_stderr "already has a snapshot 's2'"

note "delete the middle snapshot: the others and the VM read the same"
vv vm snapshot-rm v s2
assert_eq "$(view "$(disk)" "$T/v")" "$now" "VM after rm s2"
for s in s1 s3; do
	vv vm revert v "$s"
	want=$s1; [[ $s == s3 ]] && want=$s3
	assert_eq "$(view "$(disk)" "$T/v")" "$want" "$s after rm s2"
done
put 1048576 four
assert_eq "$(view "$(disk)" "$T/v")" "$now" "rewrite"
nlayers=$(ls "$VHDVISOR_STATE/vms/v" | wc -l)
vv vm snapshot-rm v s1
assert_eq "$(view "$(disk)" "$T/v")" "$now" "VM after rm s1"
vv vm revert v s3
assert_eq "$(view "$(disk)" "$T/v")" "$s3" "s3 after rm s1"
put 1048576 four
(( $(ls "$VHDVISOR_STATE/vms/v" | wc -l) < nlayers )) || fail "chain did not shrink"
vv vm snapshot-rm v s3
assert_eq "$(view "$(disk)" "$T/v")" "$now" "VM after rm s3"
assert_eq "$(ls "$VHDVISOR_STATE/vms/v" | wc -l)" 1 "one layer left"
assert_eq "$("$VHD" info --json "$(disk)" | jq ".chain | length")" 2 "chain: layer + image"

note "reset: back to the template in one step"
vv vm snapshot v keep >/dev/null
vv vm reset v
assert_eq "$(view "$(disk)" "$T/v")" "$sum_tmpl" "reset"
vv vm revert v keep
assert_eq "$(view "$(disk)" "$T/v")" "$now" "snapshots survive reset"
vv image gc --json | jq -e '.files_removed == 0 and .tmp_removed == 0' >/dev/null ||
	fail "operations left garbage"

note "image rm --force flattens the VM first (its snapshots go with the image)"
expect_exit 1 vv image rm tmpl
assert_stderr "used by VMs: v"
vv image rm tmpl --force >/dev/null
assert_eq "$(view "$(disk)" "$T/v")" "$now" "VM after the image is gone"
assert_eq "$(vv vm show v --json | jq -r '.image, (.snapshots | length)' | tr '\n' ' ')" "null 0 " \
	"no image, no snapshots"
assert_eq "$("$VHD" info --json "$(disk)" | jq -r .type)" dynamic "standalone disk"
expect_exit 1 vv vm reset v
assert_stderr "no image"
vv image gc >/dev/null
consistent clean
