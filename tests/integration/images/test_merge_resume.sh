#!/bin/bash
# snapshot-rm killed -9 resumes its merge from the journal's checkpoints:
# a kill after a checkpoint resumes above 0% (also after `image gc`, which
# keeps a resumable merge), random kills always end with the same VM and
# snapshot views, a source written between the kill and the rerun makes
# the rerun start over (and keep the write), a rerun after the switch
# only cleans up, and a journal for another tag, a damaged one, or one
# whose new file was replaced is discarded with a note.
# timeout: 900
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3 script
ITER=${VV_KILL_ITER:-6}

truncate -s 320M "$T/base.raw"
head -c 2M /dev/urandom | dd of="$T/base.raw" bs=1M seek=250 conv=notrunc status=none
vv image import "$T/base.raw" --format raw --name base >/dev/null

disk() { vv vm show "$1" --json | jq -r .disk; }
# put VM OFF MIB: MIB MiB of random data at byte OFF of the VM's top
# (whole 2 MiB blocks: see lvread)
put() {
	head -c "$3M" /dev/urandom >"$T/w"
	"$VHD" write "$(disk "$1")" "$2" --from "$T/w" >/dev/null
}
# view VHD: sha256 of its virtual disk (with its chain)
view() { vraw "$1" "$T/v"; sha "$T/v"; }
snapfile() {
	echo "$VHDVISOR_STATE/$(sqlite3 -cmd '.timeout 10000' "$VHDVISOR_STATE/catalog.db" \
		"SELECT l.file FROM snapshots s JOIN layers l ON l.id = s.layer
		 WHERE s.vm = '$1' AND s.tag = '$2'")"
}
journal() { echo "$VHDVISOR_STATE/vms/$1/merge.journal"; }
has_snap() { vv vm snapshots "$1" --json | jq -e --arg t "$2" 'map(.tag) | index($t)' >/dev/null; }

# mkvm VM: snapshot a (64 MiB), snapshot b (64 MiB, half over a's), a
# 32 MiB top; removing a rebuilds b's layer (~96 MiB) and the top.
# Sets want_top and want_b to the views.
mkvm() {
	vv vm create "$1" --from base >/dev/null
	put "$1" 0 64
	vv vm snapshot "$1" a >/dev/null
	put "$1" 33554432 64
	vv vm snapshot "$1" b >/dev/null
	put "$1" 209715200 32
	put "$1" 4194304 2
	want_top=$(view "$(disk "$1")")
	want_b=$(view "$(snapfile "$1" b)")
}

# vhdi_view VHD: the sha256 of VHD's chain as libvhdi reads it (lvread in
# lib.sh). libvhdi misparses sector bitmaps that are neither all ones nor
# all zeros, so every write here covers whole 2 MiB blocks.
vhdi_view() {
	lvread_chain "$T/lv" "$1" || fail "libvhdi cannot read the chain of $1"
	sha "$T/lv"
}

# check VM WHAT: the VM and snapshot b read what they did, through our
# reader and libvhdi's (QEMU's vpc driver reads no differencing chain),
# and the VM's chain passes `vhd check`
check() {
	assert_eq "$(view "$(disk "$1")")" "$want_top" "$2: VM view"
	assert_eq "$(view "$(snapfile "$1" b)")" "$want_b" "$2: snapshot b view"
	"$VHD" check "$(disk "$1")" >/dev/null || fail "$2: vhd check of the VM's disk"
	assert_eq "$(vhdi_view "$(disk "$1")")" "$want_top" "$2: VM view (libvhdi)"
	assert_eq "$(vhdi_view "$(snapfile "$1" b)")" "$want_b" "$2: snapshot b view (libvhdi)"
}

# kill_after_checkpoint VM TAG: starts snapshot-rm and kills it -9 as
# soon as its journal records a durable checkpoint.
kill_after_checkpoint() {
	"$VHDVISOR" vm snapshot-rm "$1" "$2" 2>/dev/null &
	local pid=$! j
	j=$(journal "$1")
	for _ in $(seq 1 2000); do
		grep -qE '"done":[1-9]' "$j" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.005
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	grep -qE '"done":[1-9]' "$j" 2>/dev/null ||
		fail "snapshot-rm $1 $2 reached no checkpoint before the kill"
}

note "kill after a checkpoint, gc, rerun: resumes above 0% with the same views"
mkvm v1
kill_after_checkpoint v1 a
consistent
has_snap v1 a || fail "snapshot a gone after a killed merge"
check v1 "after the kill"
mapfile -t newf < <(jq -r '.files[].new' "$(journal v1)")
assert_eq "${#newf[@]}" 2 "new files planned (b's layer and the top)"
vv image gc >/dev/null
[[ -f $(journal v1) ]] || fail "gc removed a resumable merge journal"
[[ -f $VHDVISOR_STATE/${newf[0]} ]] || fail "gc removed the merge's new file ${newf[0]}"
# kept to fake a kill after the switch below: the resume reuses the names
cp "$(journal v1)" "$T/journal.saved"
old_top=$(disk v1)
cp --sparse=always "$old_top" "$T/oldtop.saved"
vv vm snapshot-rm v1 a 2>"$T/err"
grep -E "resuming merge of a at [0-9]+%" "$T/err" || fail "no resume note: $(cat "$T/err")"
pct=$(sed -nE 's/.*resuming merge of a at ([0-9]+)%.*/\1/p' "$T/err")
((pct > 0)) || fail "resumed at $pct%"
has_snap v1 a && fail "snapshot a still there"
[[ ! -e $(journal v1) ]] || fail "journal left after the merge"
check v1 "after the resumed merge"
vv image gc >/dev/null
consistent clean

note "killed after the switch: gc, or the rerun, removes the old files and the journal"
cp "$T/journal.saved" "$(journal v1)"
cp --sparse=always "$T/oldtop.saved" "$old_top"
vv image gc >/dev/null
[[ ! -e $(journal v1) && ! -e $old_top ]] || fail "gc kept a finished merge's journal or old file"
cp "$T/journal.saved" "$(journal v1)"
cp --sparse=always "$T/oldtop.saved" "$old_top"
vv vm snapshot-rm v1 a 2>"$T/err"
grep -E "finished the interrupted removal of snapshot 'a'" "$T/err" ||
	fail "no note for the finished merge: $(cat "$T/err")"
[[ ! -e $(journal v1) && ! -e $old_top ]] || fail "rerun kept a finished merge's journal or old file"
check v1 "after finishing a switched merge"
consistent clean

note "random kills ($ITER): every rerun continues, views never change"
mkvm v2
resumed=0
for i in $(seq 1 "$ITER"); do
	has_snap v2 a || break
	"$VHDVISOR" vm snapshot-rm v2 a 2>>"$T/err2" &
	pid=$!
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	consistent
	assert_eq "$(view "$(disk v2)")" "$want_top" "VM view after kill $i"
	if has_snap v2 a; then
		assert_eq "$(view "$(snapfile v2 b)")" "$want_b" "snapshot b after kill $i"
	fi
done
has_snap v2 a && vv vm snapshot-rm v2 a 2>>"$T/err2"
resumed=$(grep -c "resuming merge" "$T/err2" || true)
echo "resumed $resumed times in $ITER kills"
check v2 "after random kills"
vv image gc >/dev/null
consistent clean

note "a source written between the kill and the rerun: the merge starts over"
mkvm v3
kill_after_checkpoint v3 a
put v3 314572800 4
want_top=$(view "$(disk v3)")
vv vm snapshot-rm v3 a 2>"$T/err"
grep -q "resuming" "$T/err" && fail "resumed a stale merge: $(cat "$T/err")"
grep -E "discarded the interrupted merge of snapshot 'a': .*changed since" "$T/err" ||
	fail "no discard note: $(cat "$T/err")"
check v3 "after the merge that started over"
vv image gc >/dev/null
consistent clean

note "gc drops a merge whose source changed; the rerun starts fresh"
mkvm v4
kill_after_checkpoint v4 a
put v4 314572800 4
want_top=$(view "$(disk v4)")
vv image gc >/dev/null
[[ ! -e $(journal v4) ]] || fail "gc kept a stale merge journal"
consistent clean
# on a terminal (script(1)) the merge shows its percentage
script -qec "'$VHDVISOR' vm snapshot-rm v4 a" /dev/null >"$T/err" </dev/null
grep -q "resuming" "$T/err" && fail "resumed after gc dropped the journal"
grep -aE "merging +[0-9]+% " "$T/err" | tr '\r' '\n' | grep -qE "merging +100% " ||
	fail "no progress to 100%: $(tr '\r' '\n' <"$T/err")"
check v4 "after gc and a fresh merge"

note "a journal for another tag, and a damaged journal, are discarded"
mkvm v5
want_a=$(view "$(snapfile v5 a)")
kill_after_checkpoint v5 a
vv vm snapshot v5 c >/dev/null
want_c=$(view "$(snapfile v5 c)")
vv vm snapshot-rm v5 c 2>"$T/err"
grep -E "discarded the interrupted merge of snapshot 'a'" "$T/err" ||
	fail "no note for another tag's journal: $(cat "$T/err")"
assert_eq "$(view "$(disk v5)")" "$want_c" "VM view after rm c"
assert_eq "$(view "$(snapfile v5 a)")" "$want_a" "snapshot a kept"
vv image gc >/dev/null
consistent clean
kill_after_checkpoint v5 a
echo '{"format": "vhdvisor-merge-journal", "version": 1, "files": [' >"$(journal v5)"
vv vm snapshot-rm v5 a 2>"$T/err"
grep -E "damaged merge journal" "$T/err" || fail "no note for a damaged journal: $(cat "$T/err")"
has_snap v5 a && fail "snapshot a still there after rm with a damaged journal"
assert_eq "$(view "$(disk v5)")" "$want_c" "VM view after rm a"
assert_eq "$(view "$(snapfile v5 b)")" "$want_b" "snapshot b after rm a"
vv image gc >/dev/null
consistent clean

note "revert, reset, flatten, vm rm after a kill: no stale resume"
mkvm v6
kill_after_checkpoint v6 a
vv vm revert v6 b
want_top=$want_b
vv vm snapshot-rm v6 a 2>"$T/err"
grep -q "resuming" "$T/err" && fail "resumed after a revert"
grep -E "discarded the interrupted merge of snapshot 'a': the VM's layers changed" "$T/err" ||
	fail "no discard note after revert: $(cat "$T/err")"
check v6 "after revert and rm a"
for op in reset flatten rm; do
	mkvm "v7$op"
	kill_after_checkpoint "v7$op" a
	vv vm "$op" "v7$op" >/dev/null
	vv image gc >/dev/null
	[[ ! -e $(journal "v7$op") ]] || fail "gc kept the merge journal after $op"
	consistent clean
done
vv vm snapshot v7reset x >/dev/null
vv vm snapshot-rm v7reset a 2>"$T/err"
grep -q "resuming\|discarded" "$T/err" && fail "a journal after reset and gc: $(cat "$T/err")"
true

note "a started new file gone or replaced: the rerun starts over"
mkvm v8
kill_after_checkpoint v8 a
first=$(jq -r '.files[0].new' "$(journal v8)")
rm "$VHDVISOR_STATE/$first"
"$VHD" create "$VHDVISOR_STATE/$first" 320M >/dev/null
vv vm snapshot-rm v8 a 2>"$T/err"
grep -q "resuming" "$T/err" && fail "resumed on a replaced new file"
grep -E "discarded the interrupted merge of snapshot 'a': its new file .* not what it names" \
	"$T/err" || fail "no note for a replaced new file: $(cat "$T/err")"
check v8 "after a replaced new file"
vv image gc >/dev/null
consistent clean
