#!/bin/bash
# `vm snapshot` of a running VM: the guest keeps writing an increasing
# counter into its disk while snapshots are taken; each snapshot's layer
# is frozen from that moment (its bytes never change again), the guest's
# writes go on into the new top, the final disk holds the last count, and
# revert / snapshot-rm afterwards read exactly what each snapshot froze.
# Every layer passes `vhd check` with no parent timestamp warning and
# its chain reads the same through libvhdi. The runtime serves the disk
# over NBD from its own threads (no `vhd serve`). A snapshot the runtime
# refuses leaves the catalog and the VM as they were.
# serial
# timeout: 600
TRANSPORT=nbd
source "$VV_ROOT/tests/integration/images/lib_live_snapshot.sh"

note "a snapshot the runtime cannot take changes nothing"
top=$(disk)
# The runtime cannot open any new file in the VM's folder read-write
# (failopen.so), so its disk server refuses the switch to the new layer.
gcc -shared -fPIC -o "$T/failopen.so" "$VV_ROOT/tests/integration/failopen.c" -ldl ||
	fail "cannot build failopen.so"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$T/failopen.so \
	VV_FAIL_OPEN="$(dirname "$top")/*=0" VV_FAIL_OPEN_EXCEPT=$top \
	"$VHDVISOR" vm start v --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append "vv.run=hold" \
	>/dev/null || fail "vm start under failopen.so"
expect_exit 1 vv vm snapshot v s9
assert_stderr "could not switch"
assert_eq "$(disk)" "$top" "top unchanged after a refused snapshot"
assert_eq "$(vv vm snapshots v --json | jq -r '.[].tag' | grep -c s9)" 0 "no snapshot row"
assert_eq "$(vv vm status v --json | jq .running)" true "still running after the refusal"
assert_eq "$(ls "$(dirname "$top")" | wc -l)" \
	"$(sqlite3 "$VHDVISOR_STATE/catalog.db" "SELECT count(*) FROM layers WHERE vm = 'v'")" \
	"no stray layer file"
vv vm stop v >/dev/null
