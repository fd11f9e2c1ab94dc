#!/bin/bash
# `vhdvisor run --disk-transport vhost-user`: the VM's runtime serves its
# disks itself over vhost-user-blk (no `vhd serve` child): a guest with 2
# vCPUs writes and reads a dynamic VHD and a differencing child, a
# read-only disk refuses its write, `vhd read` sees the data, the parent
# stays byte-identical; kill -9 of QEMU leaves a clean image with the
# synced data; image boot and firmware boot of the tiny template work over
# it; a bad transport name is a usage error.
# serial
# timeout: 900
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"

pat() { yes "$1" | head -c $(($2 * 1024)) || true; }
pat_sha() { pat "$1" "$2" | sha256sum | cut -d' ' -f1; }

cd "$T"
note "--disk-transport bogus is a usage error"
"$VHD" create d1.vhd 64M >/dev/null
rc=0
"$VHDVISOR" run --name "$VM" --kernel "$G/vmlinux" --disk d1.vhd \
	--disk-transport bogus >bogus.out 2>bogus.err || rc=$?
assert_eq "$rc" 2 "exit status of --disk-transport bogus"
grep -q -- "--disk-transport 'bogus'" bogus.err || fail "no reason: $(cat bogus.err)"

"$VHD" create parent.vhd 64M >/dev/null
pat PARENT 4096 >parent.dat
"$VHD" write parent.vhd 0 --from parent.dat >/dev/null
"$VHD" create --parent parent.vhd child.vhd >/dev/null
"$VHD" create ro.vhd 16M >/dev/null
parent_sha=$(sha parent.vhd) ro_sha=$(sha ro.vhd)

note "2 vCPUs, a dynamic VHD, a differencing child and a read-only disk over vhost-user"
run="cpus,write:vda:1024:512:VVMARKER,read:vda:1024:512,write:vdb:0:256:CHILDDATA"
run+=",read:vdb:2048:1024,write:vdc:0:4:NOPE,sync,hold"
start_direct "$T/con.log" "vv.run=$run" --cpus 2 --mem 256M --disk-transport vhost-user \
	--disk d1.vhd --disk child.vhd --disk ro.vhd,ro --api "$T/api.sock"
wait_line "$T/con.log" '^VV-HOLD'
sock=$VHDVISOR_RUN/$VM/disk0.sock
[[ -S $sock ]] || fail "no vhost-user socket $sock"
assert_eq "$(stat -c %a "$sock")" 600 "mode of the disk socket"
children=$(ps -o pid=,args= --ppid "$VMPID")
grep -q qemu-system <<<"$children" || fail "QEMU is not the runtime's child: $children"
grep -q 'serve' <<<"$children" && fail "a disk export child runs: $children"
pgrep -f -- "serve --socket $VHDVISOR_RUN/" >/dev/null && fail "a vhd serve process runs"
grep -q 'vhost-user-blk-pci' <<<"$children" || fail "QEMU has no vhost-user-blk device: $children"
r=$(api "$T/api.sock" '{"cmd":"stats"}')
jq -e '.ok and (.disks | length) == 3 and all(.disks[]; .transport == "vhost-user" and .source == "bdev" and .rd_ops != null) and
	.disks[0].rd_ops > 0' \
	<<<"$r" >/dev/null || fail "stats: $r"
assert_eq "$(json_get "$(api "$T/api.sock" '{"cmd":"powerdown"}')" ok)" true "powerdown"
wait_exit
[[ $RC == 0 ]] || { cat "$T/run.err"; tail -20 "$T/con.log"; fail "exit $RC"; }
assert_eq "$(console_value "$T/con.log" VV-CPUS)" 2 "vCPUs"
mapfile -t writes < <(grep -a '^VV-WRITE-' "$T/con.log" | tr -d '\r')
assert_eq "${writes[*]}" "VV-WRITE-OK VV-WRITE-OK VV-WRITE-FAIL" \
	"write results (vda, child vdb, read-only vdc)"
mapfile -t reads < <(grep -a '^VV-READ-SHA=' "$T/con.log" | tr -d '\r' | cut -d= -f2)
want=$(pat_sha VVMARKER 512)
assert_eq "${reads[0]}" "$want" "the guest reads its marker back"
assert_eq "$("$VHD" read d1.vhd 1M 512K | sha256sum | cut -d' ' -f1)" "$want" "vhd read of the marker"
assert_eq "$("$VHD" read child.vhd 0 256K | sha256sum | cut -d' ' -f1)" \
	"$(pat_sha CHILDDATA 256)" "child's new data"
parent_part=$(dd if=parent.dat bs=1K skip=2048 count=1024 status=none | sha256sum | cut -d' ' -f1)
assert_eq "${reads[1]}" "$parent_part" "guest's read of parent data through the child"
assert_eq "$(sha parent.vhd)" "$parent_sha" "parent file"
assert_eq "$(sha ro.vhd)" "$ro_sha" "read-only disk"
for f in d1.vhd child.vhd parent.vhd; do
	"$VHD" check "$f" >/dev/null || fail "vhd check $f: $("$VHD" check "$f" 2>&1 | tail -3)"
done
assert_clean "$T/api.sock"

note "synced data survives kill -9 of QEMU"
"$VHD" create k.vhd 64M >/dev/null
start_direct "$T/k.log" "vv.run=write:vda:0:1024:SYNCED,sync,hold" --disk-transport vhost-user \
	--disk k.vhd --api "$T/api.sock"
wait_line "$T/k.log" '^VV-HOLD'
grep -q '^VV-WRITE-OK' "$T/k.log" || fail "the guest's write failed"
pid=$(json_get "$(api "$T/api.sock" '{"cmd":"status"}')" engine_pid)
[[ -n $pid && $pid != 0 ]] || fail "no QEMU pid"
kill -9 "$pid"
wait_exit
assert_eq "$RC" 4 "exit after QEMU was killed"
"$VHD" check k.vhd >/dev/null || fail "vhd check after kill -9: $("$VHD" check k.vhd 2>&1 | tail -3)"
assert_eq "$("$VHD" read k.vhd 0 1M | sha256sum | cut -d' ' -f1)" "$(pat_sha SYNCED 1024)" \
	"synced data after kill -9 of QEMU"
assert_clean "$T/api.sock"

tiny=$(tiny_vhd)
cp "$tiny" tiny.vhd
"$VHD" create --parent tiny.vhd clone.vhd >/dev/null
tiny_sha=$(sha tiny.vhd)

note "image boot over vhost-user (the kernel read out of the disk first)"
rc=0
"$VHDVISOR" run --name "$VM" --console file:img.log --disk clone.vhd --boot image \
	--disk-transport vhost-user --append "vv.run=write:vda:61440:64:CLONE" \
	>run.out 2>run.err || rc=$?
[[ $rc == 0 ]] || { cat run.err; tail img.log; fail "image boot exit $rc"; }
grep -q '^VV-WRITE-OK' img.log || fail "image boot: the guest could not write"
assert_eq "$("$VHD" read clone.vhd 60M 64K | sha256sum | cut -d' ' -f1)" \
	"$(pat_sha CLONE 64)" "clone's data"
assert_eq "$(sha tiny.vhd)" "$tiny_sha" "template after the clone ran"
assert_clean

note "firmware boot over vhost-user (SeaBIOS -> the disk's GRUB2)"
rc=0
"$VHDVISOR" run --name "$VM" --console file:fw.log --disk clone.vhd --boot firmware \
	--disk-transport vhost-user --append vv.run=poweroff >run.out 2>run.err || rc=$?
[[ $rc == 0 ]] || { cat run.err; tail fw.log; fail "firmware boot exit $rc"; }
grep -qa 'VHDVISOR-GUEST-UP' fw.log || fail "firmware boot: no userspace marker"
"$VHD" check clone.vhd >/dev/null || fail "vhd check clone.vhd"
assert_clean
