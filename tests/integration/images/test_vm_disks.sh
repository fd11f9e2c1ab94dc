#!/bin/bash
# Extra data disks: `vm disk add|list|resize|rm`; disk 0 (the boot disk)
# cannot be removed; disk operations are refused while the VM runs; the
# guest sees disk 1 as /dev/vdb and a marker it writes there reads back
# with `vhd read`; a clone gets its own empty disks; `vm rm` removes the
# files; a version-1 catalog is upgraded. One TCG boot.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3 qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
mkraw "$T/data.raw" 12M
vv image import "$T/data.raw" --format raw --name data >/dev/null
data_vhd=$VHDVISOR_STATE/images/$(image_id data).vhd

note "a version-1 catalog is upgraded"
db=$VHDVISOR_STATE/catalog.db
sqlite3 "$db" 'DROP TABLE disks; ALTER TABLE vms DROP COLUMN cloud_init; ALTER TABLE images DROP COLUMN cloud_init; PRAGMA user_version = 1'
vv vm create a --from tmpl --mem 256M >/dev/null
assert_eq "$(sqlite3 "$db" 'PRAGMA user_version')" 4 "schema version"

assert_eq "$(vv vm disk add a 16M)" "disk 1 of a" "disk add"
assert_eq "$(vv vm disk add a --file "$data_vhd")" "disk 2 of a" "disk add --file"
list() { vv vm disk list a --json; }
assert_eq "$(list | jq length)" 3 "three disks"
assert_eq "$(list | jq '.[1].size')" $((16 << 20)) "disk 1 size"
d1=$(list | jq -r '.[1].file')
d2=$(list | jq -r '.[2].file')
[[ $d1 == "$VHDVISOR_STATE/vms/a/"*.vhd ]] || fail "disk 1 not in the VM's folder: $d1"
vraw "$d2" "$T/d2.raw"
assert_eq "$(sha "$T/d2.raw")" "$(sha "$T/data.raw")" "imported disk content"

vv vm disk resize a 1 24M
assert_eq "$(list | jq '.[1].size')" $((24 << 20)) "disk 1 grown"
vv vm disk resize a 0 48M
assert_eq "$(list | jq '.[0].size')" $((48 << 20)) "boot disk grown"
expect_exit 1 vv vm disk rm a 0
assert_stderr "boot disk"
vv vm disk rm a 2
assert_eq "$(list | jq length)" 2 "disk 2 removed"
[[ ! -e $d2 ]] || fail "disk 2's file left behind"

vv vm clone a b >/dev/null
assert_eq "$(vv vm disk list b --json | jq '.[1].size')" $((24 << 20)) "clone's disk size"
b1=$(vv vm disk list b --json | jq -r '.[1].file')
[[ $b1 != "$d1" && $b1 == "$VHDVISOR_STATE/vms/b/"* ]] || fail "clone shares disk 1: $b1"

note "the guest writes to /dev/vdb"
at_exit '"$VHDVISOR" vm stop a'
vv vm start a --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
	--append "vv.run=write:vdb:1024:16:DMARK,hold" >/dev/null
for _ in $(seq 1 240); do
	grep -q VV-HOLD "$VHDVISOR_RUN/a.console" 2>/dev/null && break
	sleep 1
done
grep -q VV-WRITE-OK "$VHDVISOR_RUN/a.console" || { tail -20 "$VHDVISOR_RUN/a.console"; fail "guest write to vdb failed"; }
for op in "add a 8M" "resize a 1 32M" "rm a 1"; do
	# shellcheck disable=SC2086
	expect_exit 1 vv vm disk $op
	assert_stderr "running"
done
vv vm stop a >/dev/null
assert_eq "$("$VHD" read "$d1" $((1024 * 1024)) 5)" DMARK "marker on disk 1"
assert_eq "$("$VHD" read "$b1" $((1024 * 1024)) 5 | tr -d '\0')" "" "clone's disk untouched"

vv vm rm a b
[[ ! -e $d1 && ! -e $b1 ]] || fail "vm rm left disk files"
consistent
