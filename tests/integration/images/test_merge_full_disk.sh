#!/bin/bash
# snapshot-rm on a full filesystem (a small tmpfs as the state directory):
# the merge fails with a clear error, the VM, its snapshots and the catalog
# read exactly as before (no parent or footer touched, nothing half-made
# referenced); once space is freed, running it again finishes the merge.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3
[[ $(id -u) == 0 ]] || skip "mounting a tmpfs needs root"
mkdir -p "$T/small"
mount -t tmpfs -o size=64M tmpfs "$T/small" 2>/dev/null || skip "cannot mount a tmpfs here"
at_exit "umount -l '$T/small'"
export VHDVISOR_STATE=$T/small/state

truncate -s 32M "$T/tmpl.raw"
head -c 2M /dev/urandom | dd of="$T/tmpl.raw" bs=1M seek=1 conv=notrunc status=none
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create v --from tmpl >/dev/null
disk() { vv vm show v --json | jq -r .disk; }
put() { head -c "$2" /dev/urandom >"$T/w"; "$VHD" write "$(disk)" "$1" --from "$T/w" >/dev/null; }
view() { vraw "$(disk)" "$T/v"; sha "$T/v"; }

put 0 $((10 << 20))
vv vm snapshot v s1 >/dev/null
put $((12 << 20)) $((10 << 20))
vv vm snapshot v s2 >/dev/null
s2=$(view)
put $((24 << 20)) $((1 << 20))
now=$(view)
files_before=$(find "$VHDVISOR_STATE" -type f -name '*.vhd' | sort | xargs sha256sum)

note "leave 3 MiB free, then snapshot-rm s1 (needs ~20 MiB for the rebuilt layer)"
free=$(df -B1M --output=avail "$T/small" | tail -1)
dd if=/dev/zero of="$T/small/filler" bs=1M count=$((free - 3)) status=none
free=$(df -B1 --output=avail "$T/small" | tail -1)
((free < (4 << 20))) || fail "the tmpfs is not full ($free bytes free)"
expect_exit 1 vv vm snapshot-rm v s1
assert_stderr "[Nn]o space"; sed "s/^/    /" "$T/stderr" | head -3
assert_eq "$(view)" "$now" "the VM reads as before"
assert_eq "$(vv vm snapshots v --json | jq -r '[.[].tag] | join(" ")')" "s1 s2" "snapshots kept"
consistent
# every image and layer file is byte for byte what it was
while read -r want f; do
	[[ -e $f ]] || fail "$f vanished"
	assert_eq "$(sha "$f")" "$want" "$f untouched"
done <<<"$files_before"

note "completely full: the catalog still opens, lists, and refuses cleanly"
dd if=/dev/zero of="$T/small/filler2" bs=64K status=none 2>/dev/null || true
assert_eq "$(df -B1 --output=avail "$T/small" | tail -1 | tr -d ' ')" 0 "no space left"
assert_eq "$(vv vm list --json | jq -r '.[].name')" v "vm list on a full filesystem"
expect_exit 1 vv vm snapshot-rm v s1
assert_stderr "[Nn]o space"
assert_eq "$(view)" "$now" "the VM reads as before"

note "free the space: running it again finishes the job"
rm -f "$T/small/filler2"
rm -f "$T/small/filler"
vv vm snapshot-rm v s1 >/dev/null 2>&1 || fail "snapshot-rm after freeing space"
assert_eq "$(view)" "$now" "the VM after the merge"
assert_eq "$(vv vm snapshots v --json | jq -r '[.[].tag] | join(" ")')" "s2" "s1 gone"
vv vm revert v s2
assert_eq "$(view)" "$s2" "s2 after the merge"
vv image gc >/dev/null
consistent clean
