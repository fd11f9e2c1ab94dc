#!/bin/bash
# A lost catalog (emptied file, deleted file, damaged WAL) in a state
# directory that holds images and VMs is refused by every command instead
# of being silently recreated empty; `image gc` then deletes nothing;
# `catalog recover` rebuilds images, VMs, layer chains, snapshots and extra
# disks from the files, keeps the old catalog aside, and the VMs read the
# same bytes. gc keeps what it cannot account for unless --force.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3

# state_sum: every file under images/ and vms/ with its SHA-256.
state_sum() { (cd "$VHDVISOR_STATE" && find images vms -type f -print0 | sort -z |
	xargs -0 sha256sum); }
view() { vraw "$1" "$T/v"; sha "$T/v"; }
disk() { vv vm show "$1" --json | jq -r .disk; }
extra() { vv vm disk list "$1" --json | jq -r ".[$2].file"; }
put() { # put VHD OFFSET: 1 MiB of random bytes
	head -c 1M /dev/urandom >"$T/w"
	"$VHD" write "$1" "$2" --from "$T/w" >/dev/null
}

mkraw "$T/a.raw" 64M
vv image import "$T/a.raw" --format raw --name a >/dev/null
img=$(image_id a)
vv vm create v1 --from a --mem 512M >/dev/null
put "$(disk v1)" 0
vv vm snapshot v1 s1 >/dev/null
want_s1=$(view "$(disk v1)")
put "$(disk v1)" 5000000
vv vm create v2 --from a >/dev/null
put "$(disk v2)" 20000000
vv vm disk add v2 8M >/dev/null
put "$(extra v2 1)" 1048576
want_v1=$(view "$(disk v1)")
want_v2=$(view "$(disk v2)")
want_v2d=$(view "$(extra v2 1)")
v1_uuid=$(vv vm show v1 --json | jq -r .uuid)
sum=$(state_sum)
cp -a "$VHDVISOR_STATE" "$T/good"

damage() {
	rm -rf "$VHDVISOR_STATE"
	cp -a "$T/good" "$VHDVISOR_STATE"
	local db=$VHDVISOR_STATE/catalog.db
	case $1 in
	emptied) : >"$db" ;;
	deleted) rm -f "$db" ;;
	deleted-all) rm -f "$db" "$db-wal" "$db-shm" ;;
	wal)
		[[ -s $db-wal ]] || fail "no WAL to damage"
		# garbage over the first frame header: SQLite drops every frame
		head -c 64 /dev/urandom | dd of="$db-wal" bs=1 seek=32 conv=notrunc status=none
		;;
	esac
}

# emptied or deleted while the WAL survived: the WAL still holds names,
# settings and tags; deleted with its WAL, or a damaged WAL: the files only
for how in emptied deleted deleted-all wal; do
	case $how in
	emptied | deleted) tag=s1 mem=536870912 ;;
	*) tag=recovered-1 mem=268435456 ;;
	esac
	note "$how catalog: refused"
	damage "$how"
	for cmd in "vm list" "image list" "image gc" "image gc --force" "vm create x --from a" \
		"lab list" "catalog check"; do
		# shellcheck disable=SC2086
		expect_exit 1 vv $cmd
		# shellcheck disable=SC2016 # the backquotes are literal
		assert_stderr 'catalog missing or damaged; see `vhdvisor catalog recover`'
	done
	assert_eq "$(state_sum)" "$sum" "files after the refused commands ($how)"

	note "$how catalog: recover"
	# what a recovery killed before its switch leaves is ignored
	echo junk >"$VHDVISOR_STATE/catalog.db.recover"
	vv catalog recover --dry-run >"$T/out"
	grep -q "would recover 1 images, 2 VMs" "$T/out" || fail "dry run: $(cat "$T/out")"
	expect_exit 1 vv vm list
	vv catalog recover >"$T/out"
	grep -q "recovered 1 images, 2 VMs (3 layers, 1 snapshots, 1 extra disks)" "$T/out" ||
		fail "recover report: $(cat "$T/out")"
	[[ $how == deleted-all ]] || ls "$VHDVISOR_STATE"/catalog-damaged-*/catalog.db* >/dev/null ||
		fail "the old catalog was not kept"
	assert_eq "$(vv vm list --json | jq -r '[.[].name] | join(" ")')" "v1 v2" "VMs"
	assert_eq "$(vv image list --json | jq -r '.[].id')" "$img" "images"
	assert_eq "$(vv vm show v1 --json | jq -r .image)" "$img" "v1's image"
	assert_eq "$(view "$(disk v1)")" "$want_v1" "v1's disk"
	assert_eq "$(view "$(disk v2)")" "$want_v2" "v2's disk"
	assert_eq "$(vv vm disk list v2 --json | jq length)" 2 "v2's disks"
	assert_eq "$(view "$(extra v2 1)")" "$want_v2d" "v2's extra disk"
	assert_eq "$(vv vm snapshots v1 --json | jq -r '.[].tag')" "$tag" "v1's snapshot"
	assert_eq "$(vv vm show v1 --json | jq -r .mem)" "$mem" "v1's memory"
	if [[ $tag == s1 ]]; then
		assert_eq "$(image_id a)" "$img" "the image's name, from the WAL"
		assert_eq "$(vv vm show v1 --json | jq -r .uuid)" "$v1_uuid" "v1's UUID, from the WAL"
	fi
	assert_eq "$(state_sum)" "$sum" "files after recover ($how)"
	consistent   # (not "clean": its file list leaves out extra disks)
	vv catalog check >/dev/null
	vv image gc --json | jq -e '.files_removed == 0 and .kept == 0' >/dev/null ||
		fail "gc after recover"
	assert_eq "$(state_sum)" "$sum" "files after gc ($how)"
	vv vm revert v1 "$tag"
	assert_eq "$(view "$(disk v1)")" "$want_s1" "v1 reverted to its recovered snapshot"
	expect_exit 1 vv catalog recover
	assert_stderr "opens fine"
done

note "a WAL damaged after a checkpoint: the older catalog opens, gc keeps the newer VM"
rm -rf "$VHDVISOR_STATE"
cp -a "$T/good" "$VHDVISOR_STATE"
sqlite3 "$VHDVISOR_STATE/catalog.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
vv vm create v3 --from a >/dev/null
put "$(disk v3)" 3000000
want_v3=$(view "$(disk v3)")
vv vm snapshot v1 s2 >/dev/null
put "$(disk v1)" 7000000
want_v1b=$(view "$(disk v1)")
head -c 64 /dev/urandom | dd of="$VHDVISOR_STATE/catalog.db-wal" bs=1 seek=32 conv=notrunc status=none
assert_eq "$(vv vm list --json | jq -r '[.[].name] | join(" ")')" "v1 v2" "the older catalog"
sum=$(state_sum)
vv image gc --json 2>"$T/err" | jq -e '.files_removed == 0 and .kept == 2' >/dev/null ||
	fail "gc on the older catalog: $(cat "$T/err")"
grep -q "kept vms/v3" "$T/err" || fail "gc did not name v3's folder"
grep -q "kept vms/v1/.*newer than the catalog" "$T/err" || fail "gc did not name v1's new top"
assert_eq "$(state_sum)" "$sum" "files after gc on the older catalog"
vv catalog check | grep -q "^vms/v3/.*no row names" || fail "check does not list v3's files"
expect_exit 1 vv catalog recover
vv catalog recover --force >"$T/out"
grep -q "from the old catalog: metadata of 1 images, 1 names, settings and identity of 2 VMs, 1 snapshot tags" \
	"$T/out" || fail "salvage: $(cat "$T/out")"
assert_eq "$(vv vm list --json | jq -r '[.[].name] | join(" ")')" "v1 v2 v3" "VMs after recover"
assert_eq "$(image_id a)" "$img" "the image's name, kept"
assert_eq "$(vv vm show v1 --json | jq -r '.mem, .uuid' | tr '\n' ' ')" "536870912 $v1_uuid " \
	"v1's settings, kept"
assert_eq "$(vv vm snapshots v1 --json | jq -r '[.[].tag] | sort | join(" ")')" "recovered-2 s1" \
	"v1's snapshot tags: kept, and the one the older catalog did not know"
assert_eq "$(view "$(disk v3)")" "$want_v3" "v3's disk"
assert_eq "$(view "$(disk v1)")" "$want_v1b" "v1's disk, with what it wrote after the checkpoint"

note "a layer whose parent is gone goes to lost+found, not away"
damage deleted
orphan=$VHDVISOR_STATE/vms/v2/0123456789abcdef.vhd
"$VHD" create "$T/p.vhd" 8M >/dev/null
"$VHD" create --parent "$T/p.vhd" "$orphan" >/dev/null
rm "$T/p.vhd"
# a layer whose parent UUID is an image's but whose locators lead out of
# the state directory (to a copy with the same UUID)
cp "$VHDVISOR_STATE/images/$img.vhd" "$T/copy.vhd"
mkdir "$VHDVISOR_STATE/vms/sneaky"
"$VHD" create --parent "$T/copy.vhd" "$VHDVISOR_STATE/vms/sneaky/00000000000000aa.vhd" >/dev/null
vv catalog recover >"$T/out"
grep -q "2 VMs (3 layers, 1 snapshots, 1 extra disks); 2 files moved to lost+found" "$T/out" ||
	fail "lost files: $(cat "$T/out")"
[[ -f $VHDVISOR_STATE/lost+found/vms/v2/0123456789abcdef.vhd ]] || fail "orphan not in lost+found"
[[ -f $VHDVISOR_STATE/lost+found/vms/sneaky/00000000000000aa.vhd ]] ||
	fail "the layer on an outside parent is not in lost+found"
assert_eq "$(view "$(disk v2)")" "$want_v2" "v2's disk beside the orphan"

note "gc keeps what the catalog does not account for, unless --force"
rm -rf "$VHDVISOR_STATE"
cp -a "$T/good" "$VHDVISOR_STATE"
cp -a "$VHDVISOR_STATE/vms/v1" "$VHDVISOR_STATE/vms/ghost"
sqlite3 "$VHDVISOR_STATE/catalog.db" "PRAGMA foreign_keys=OFF; DELETE FROM names; DELETE FROM images"
vv image gc --json >"$T/gc" 2>"$T/err"
jq -e '.files_removed == 0 and .kept == 2' "$T/gc" >/dev/null || fail "gc: $(cat "$T/gc" "$T/err")"
grep -q "kept vms/ghost" "$T/err" || fail "gc did not name the unknown VM folder"
grep -q "kept images/$img.vhd" "$T/err" || fail "gc did not name the needed image"
[[ -f $VHDVISOR_STATE/images/$img.vhd && -d $VHDVISOR_STATE/vms/ghost ]] || fail "gc removed them"
vv image gc --force --json | jq -e '.forced_removed == 2' >/dev/null || fail "gc --force"
[[ ! -e $VHDVISOR_STATE/images/$img.vhd && ! -e $VHDVISOR_STATE/vms/ghost ]] ||
	fail "gc --force kept them"

note "after a revert: the top is the newest leaf, the other branch a snapshot"
export VHDVISOR_STATE=$T/rev
vv image import "$T/a.raw" --format raw --name a >/dev/null
vv vm create r --from a >/dev/null
put "$(disk r)" 0
vv vm snapshot r a >/dev/null
put "$(disk r)" 2000000
vv vm snapshot r b >/dev/null
want_b=$(view "$(disk r)")
vv vm revert r a
put "$(disk r)" 4000000
want_r=$(view "$(disk r)")
rm -f "$VHDVISOR_STATE"/catalog.db*
vv catalog recover >/dev/null
assert_eq "$(view "$(disk r)")" "$want_r" "r's disk after recover"
assert_eq "$(vv vm snapshots r --json | jq -r '[.[].tag] | sort | join(" ")')" \
	"recovered-1 recovered-2" "r's snapshots"
vv vm revert r recovered-2
assert_eq "$(view "$(disk r)")" "$want_b" "r's other branch (snapshot b)"

note "a new state directory still starts empty"
VHDVISOR_STATE=$T/fresh vv vm list >/dev/null
VHDVISOR_STATE=$T/fresh vv catalog check >/dev/null
