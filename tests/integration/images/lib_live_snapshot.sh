# tests/integration/images/lib_live_snapshot.sh: the body shared by
# test_vm_snapshot_live.sh (NBD) and test_vm_snapshot_live_vu.sh
# (vhost-user): set TRANSPORT, source this, then test the refusals.
# A guest writes an increasing counter while three live snapshots are
# taken; each frozen layer never changes again, no write is lost, every
# layer passes `vhd check` and reads the same through libvhdi, and revert
# / snapshot-rm read what each snapshot froze.
: "${TRANSPORT:?set TRANSPORT (nbd or vhost-user) before sourcing}"
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64 qemu-img sqlite3
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"

OFF=2048   # KiB: where the guest writes its counter, a whole 2 MiB block
           # each time (libvhdi misreads partly filled blocks' bitmaps)
mkraw "$T/tmpl.raw" 32M   # random data the chains must show through
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create v --from tmpl --mem 192M >/dev/null
at_exit '"$VHDVISOR" vm stop v >/dev/null 2>&1'
disk() { vv vm show v --json | jq -r .disk; }
# count FILE: the counter the disk (chain) at FILE holds
count() { "$VHD" read "$1" $((OFF * 1024)) 21 | sed -n 's/^VV-COUNT=0*\([0-9]*\)$/\1/p'; }
# printed: the last count the guest reported on its console
printed() { vv vm console v | sed -n 's/^VV-COUNT=0*\([0-9][0-9]*\)\r*$/\1/p' | tail -1; }
# wait_printed N: until the guest reported a count >= N
wait_printed() {
	local p
	for _ in $(seq 1 600); do
		p=$(printed)
		[[ -n $p ]] && ((p >= $1)) && return 0
		vv vm console v | grep -q VV-COUNT-FAIL && fail "the guest's write failed"
		sleep 0.2
	done
	vv vm console v | tail -20
	fail "the guest did not reach count $1 (at ${p:-nothing})"
}

vv vm start v --kernel "$G/vmlinux" --initrd "$G/initrd.img" --disk-transport "$TRANSPORT" \
	--append "vv.run=count:vda:$OFF:2048" >/dev/null
wait_printed 5
pgrep -f -- "serve --socket $VHDVISOR_RUN/" >/dev/null && fail "a vhd serve process runs"
if [[ $TRANSPORT == vhost-user ]]; then
	pid=$(vv vm status v --json | jq .pid)
	ps -o args= --ppid "$pid" | grep -q vhost-user-blk-pci ||
		fail "the runtime's QEMU has no vhost-user-blk device: $(ps -o args= --ppid "$pid")"
fi

declare -A frozen_file frozen_sha frozen_count
for tag in s1 s2 s3; do
	layer=$(disk)
	before=$(printed)
	t0=$(date +%s%N)
	vv vm snapshot v "$tag" >/dev/null
	t1=$(date +%s%N)
	note "live snapshot $tag took $(((t1 - t0) / 1000000)) ms"
	assert_eq "$(vv vm status v --json | jq .running)" true "still running after $tag"
	[[ $(disk) != "$layer" ]] || fail "$tag: the VM's top did not change"
	frozen_file[$tag]=$layer
	frozen_sha[$tag]=$(sha "$layer")
	frozen_count[$tag]=$(count "$layer")
	c=${frozen_count[$tag]}
	[[ -n $c ]] && ((c >= before)) ||
		fail "$tag froze count '${c}', but the guest had already written $before"
	wait_printed $((c + 5))    # writes go on, into the new top
	assert_eq "$(sha "$layer")" "${frozen_sha[$tag]}" "$tag's layer unchanged after more writes"
done

vv vm stop v >/dev/null
last=$(printed)
final=$(count "$(disk)")
((final >= last)) || fail "final disk holds count $final, the guest reported $last"
((frozen_count[s1] < frozen_count[s2] && frozen_count[s2] < frozen_count[s3] &&
	frozen_count[s3] < final)) ||
	fail "counts not increasing: ${frozen_count[*]} $final"
for tag in s1 s2 s3; do
	assert_eq "$(sha "${frozen_file[$tag]}")" "${frozen_sha[$tag]}" "$tag's layer after stop"
done

note "every layer is sound, with no timestamp warning"
while read -r f; do
	"$VHD" check "$VHDVISOR_STATE/$f" >/dev/null 2>"$T/chk" || { cat "$T/chk"; fail "vhd check $f"; }
	"$VHD" info "$VHDVISOR_STATE/$f" >/dev/null 2>"$T/info"
	grep -qi timestamp "$T/info" && { cat "$T/info"; fail "$f: timestamp warning"; }
	# libvhdi, an independent reader, sees the same chain content (QEMU's
	# vpc driver reads no differencing chain)
	lvread_chain "$T/l.raw" "$VHDVISOR_STATE/$f" || fail "libvhdi cannot read $f"
	vraw "$VHDVISOR_STATE/$f" "$T/v.raw"
	assert_eq "$(sha "$T/l.raw")" "$(sha "$T/v.raw")" "libvhdi and vhd read $f alike"
done < <(sqlite3 "$VHDVISOR_STATE/catalog.db" "SELECT file FROM layers WHERE vm = 'v'")

note "revert and snapshot-rm read what each snapshot froze"
vv vm revert v s2
assert_eq "$(count "$(disk)")" "${frozen_count[s2]}" "revert s2"
vv vm snapshot-rm v s1 >/dev/null 2>&1
vv vm revert v s3
assert_eq "$(count "$(disk)")" "${frozen_count[s3]}" "revert s3 after removing s1"
vv vm revert v s2
assert_eq "$(count "$(disk)")" "${frozen_count[s2]}" "revert s2 after removing s1"
