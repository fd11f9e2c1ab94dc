#!/bin/bash
# `vm start` (vhost-user is the default disk transport): the detached
# runtime serves the VM's disk itself (no `vhd serve` process) over
# vhost-user-blk, the guest writes through it, the runtime's API reports
# the disk's counters (`disk-stats`),
# a live `vm snapshot` switches the runtime's bdev to a new top (the old
# top is frozen; test_vm_snapshot_live_vu.sh checks this under a writing
# guest), and `vm stop` flushes the disk (`vhd check` passes, the guest's
# data is there). A bad transport name is a usage error.
# serial
# timeout: 600
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64 sqlite3
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"

mkraw "$T/tmpl.raw" 32M
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create v --from tmpl --mem 192M >/dev/null
at_exit '"$VHDVISOR" vm stop v >/dev/null 2>&1'
disk() { vv vm show v --json | jq -r .disk; }

expect_exit 2 vv vm start v --disk-transport bogus --kernel "$G/vmlinux"
assert_stderr "bad --disk-transport 'bogus'"

vv vm start v --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
	--append "vv.run=write:vda:2048:1024:VUDATA,sync,hold" >/dev/null
for _ in $(seq 1 600); do
	vv vm console v | grep -q '^VV-HOLD' && break
	sleep 0.3
done
vv vm console v | grep -q '^VV-WRITE-OK' || { vv vm console v | tail; fail "the guest's write failed"; }
pid=$(vv vm status v --json | jq .pid)
ps -o args= --ppid "$pid" | grep -q vhost-user-blk-pci ||
	fail "the runtime's QEMU has no vhost-user-blk device: $(ps -o args= --ppid "$pid")"
pgrep -f -- "serve --socket $VHDVISOR_RUN/" >/dev/null && fail "a vhd serve process runs"

note "the runtime's API reports the disk's bdev counters"
st=$(python3 - "$VHDVISOR_RUN/v.api" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"disk-stats"}\n')
print(s.makefile().readline().strip())
PY
)
note "disk-stats: $(jq -c '.disks[0] | del(.latency_log2_us)' <<<"$st")"
assert_eq "$(jq '.disks | length' <<<"$st")" 1 "one disk"
# the guest wrote 1 MiB at 2 MiB and synced it (and read its boot data)
(($(jq '.disks[0].write_bytes' <<<"$st") >= 1048576)) || fail "write bytes: $st"
(($(jq '.disks[0].flush_ops' <<<"$st") >= 1)) || fail "no flush counted: $st"
assert_eq "$(jq '.disks[0].errors' <<<"$st")" 0 "errors"
assert_eq "$(jq '.disks[0].latency_log2_us | length' <<<"$st")" 24 "latency buckets"
assert_eq "$(jq '.disks[0].latency_log2_us | add' <<<"$st")" \
	"$(jq '.disks[0] | .read_ops + .write_ops + .flush_ops + .write_zeroes_ops + .discard_ops' \
		<<<"$st")" "every finished request in one latency bucket"

note "a live snapshot over vhost-user switches the top"
old=$(disk)
old_sha=$(sha "$old")
vv vm snapshot v s1 >/dev/null
top=$(disk)
[[ $top != "$old" ]] || fail "the VM's top did not change"
assert_eq "$(vv vm snapshots v --json | jq -r '.[].tag')" s1 "the snapshot row"
assert_eq "$(vv vm status v --json | jq .running)" true "still running"

vv vm stop v >/dev/null
assert_eq "$(sha "$old")" "$old_sha" "the frozen layer unchanged"
for f in "$old" "$top"; do
	"$VHD" check "$f" >/dev/null || fail "vhd check $f: $("$VHD" check "$f" 2>&1 | tail -3)"
done
assert_eq "$("$VHD" read "$top" 2M 1M | sha256sum | cut -d' ' -f1)" \
	"$(yes VUDATA | head -c 1048576 | sha256sum | cut -d' ' -f1)" "the guest's data"
