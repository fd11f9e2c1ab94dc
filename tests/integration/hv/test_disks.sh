#!/bin/bash
# Guest disks are VHD chains served by the runtime (default transport,
# vhost-user-blk; NBD in the last part): what the guest writes is
# seen by `vhd read` and qemu-img; the guest reads what qemu-img wrote; on a
# differencing child writes land in the child and the parent stays
# byte-identical; ro refuses writes; snapshot discards them; data the guest
# synced survives kill -9 of QEMU, and the image passes `vhd check`; a disk
# server (threads of the runtime, NBD or vhost-user) that loses its image
# in a failed live switch ends the run as a crash (exit 4), nothing synced
# lost.
# serial
# timeout: 900
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/hv/lib_hv.sh"
need_cmd qemu-img qemu-io

# pat WORD KIB: what the guest's write action puts on the disk.
pat() { yes "$1" | head -c $(($2 * 1024)) || true; }
pat_sha() { pat "$1" "$2" | sha256sum | cut -d' ' -f1; }

cd "$T"
"$VHD" create d1.vhd 64M >/dev/null
qemu-img create -q -f vpc -o subformat=dynamic q.vhd 64M
qemu-io -f vpc -c 'write -P 0x5a 0 1M' q.vhd >/dev/null
"$VHD" create parent.vhd 64M >/dev/null
pat PARENT 4096 >parent.dat
"$VHD" write parent.vhd 0 --from parent.dat >/dev/null
"$VHD" create --parent parent.vhd child.vhd >/dev/null
"$VHD" create ro.vhd 16M >/dev/null
"$VHD" create snap.vhd 16M >/dev/null
parent_sha=$(sha parent.vhd) ro_sha=$(sha ro.vhd) snap_sha=$(sha snap.vhd)

note "one guest, five disks"
run="write:vda:1024:512:VVPATTERN,read:vdb:0:1024,write:vdc:0:256:CHILDDATA"
run+=",read:vdc:2048:1024,write:vdd:0:4:NOPE,write:vde:0:64:SCRATCH"
rc=$(boot_direct "$T/con.log" "vv.run=$run" --mem 256M \
	--disk d1.vhd --disk q.vhd --disk child.vhd --disk ro.vhd,ro --disk snap.vhd,snapshot)
[[ $rc == 0 ]] || { cat "$T/run.err"; tail -20 "$T/con.log"; fail "exit $rc"; }
mapfile -t writes < <(grep -a '^VV-WRITE-' "$T/con.log" | tr -d '\r')
assert_eq "${writes[*]}" "VV-WRITE-OK VV-WRITE-OK VV-WRITE-FAIL VV-WRITE-OK" \
	"write results (vda, vdc, ro vdd, snapshot vde)"
mapfile -t reads < <(grep -a '^VV-READ-SHA=' "$T/con.log" | tr -d '\r' | cut -d= -f2)

note "our tool and qemu-img see the guest's write"
want=$(pat_sha VVPATTERN 512)
assert_eq "$("$VHD" read d1.vhd 1M 512K | sha256sum | cut -d' ' -f1)" "$want" "vhd read"
qemu-img convert -f vpc -O raw d1.vhd d1.raw
assert_eq "$(dd if=d1.raw bs=1K skip=1024 count=512 status=none | sha256sum | cut -d' ' -f1)" \
	"$want" "qemu-img"
assert_eq "$("$VHD" read d1.vhd 0 1M | tr -d '\0' | wc -c)" 0 "bytes before the write"

note "the guest read what qemu-io wrote"
assert_eq "${reads[0]}" "$(head -c 1M /dev/zero | tr '\0' 'Z' | sha256sum | cut -d' ' -f1)" \
	"guest's sha of the qemu-io pattern"

note "differencing child: writes in the child, parent untouched"
assert_eq "$(sha parent.vhd)" "$parent_sha" "parent file"
assert_eq "$("$VHD" read child.vhd 0 256K | sha256sum | cut -d' ' -f1)" \
	"$(pat_sha CHILDDATA 256)" "child's new data"
assert_eq "$("$VHD" read child.vhd 2M 1M | sha256sum | cut -d' ' -f1)" \
	"$(dd if=parent.dat bs=1K skip=2048 count=1024 status=none | sha256sum | cut -d' ' -f1)" \
	"parent data seen through the child"
assert_eq "${reads[1]}" "$(dd if=parent.dat bs=1K skip=2048 count=1024 status=none |
	sha256sum | cut -d' ' -f1)" "guest's read of parent data through the child"
assert_eq "$("$VHD" read parent.vhd 0 256K | sha256sum | cut -d' ' -f1)" \
	"$(pat_sha PARENT 256)" "parent's data"

note "ro and snapshot disks are unchanged"
assert_eq "$(sha ro.vhd)" "$ro_sha" "read-only disk"
assert_eq "$(sha snap.vhd)" "$snap_sha" "snapshot disk"
for f in d1.vhd child.vhd parent.vhd; do
	"$VHD" check "$f" >/dev/null || fail "vhd check $f: $("$VHD" check "$f" 2>&1 | tail -3)"
done
assert_clean

note "synced data survives kill -9 of QEMU"
"$VHD" create k-qemu.vhd 64M >/dev/null
start_direct "$T/k-qemu.log" "vv.run=write:vda:0:1024:SYNCED-qemu,sync,hold" \
	--disk k-qemu.vhd --api "$T/api.sock"
wait_line "$T/k-qemu.log" '^VV-HOLD'
grep -q '^VV-WRITE-OK' "$T/k-qemu.log" || fail "the guest's write failed"
pid=$(json_get "$(api "$T/api.sock" '{"cmd":"status"}')" engine_pid)
[[ -n $pid ]] || fail "no QEMU process found"
kill -9 "$pid"
wait_exit
assert_eq "$RC" 4 "exit after QEMU was killed"
grep -Eq 'QEMU ended' "$T/run.err" || fail "no message: $(cat "$T/run.err")"
"$VHD" check k-qemu.vhd >/dev/null ||
	fail "vhd check after kill -9 of QEMU: $("$VHD" check k-qemu.vhd 2>&1 | tail -3)"
assert_eq "$("$VHD" read k-qemu.vhd 0 1M | sha256sum | cut -d' ' -f1)" \
	"$(pat_sha SYNCED-qemu 1024)" "synced data after kill -9 of QEMU"
assert_clean "$T/api.sock"

# The disk server runs in the runtime; it fails for good when a live
# switch cannot open the new top and not even the old one again
# (failopen.so breaks both opens): the guest gets I/O errors, the run ends
# as a crash (exit 4), the old top is clean and holds what was synced.
gcc -shared -fPIC -o "$T/failopen.so" "$VV_ROOT/tests/integration/failopen.c" -ldl ||
	fail "cannot build failopen.so"
for tr in nbd vhost-user; do
	note "a disk server that lost its image ends the run with exit 4 ($tr)"
	rm -f k-lost.vhd k-lost-1.vhd
	"$VHD" create k-lost.vhd 64M >/dev/null
	"$VHD" snapshot k-lost.vhd k-lost-1.vhd >/dev/null
	# k-lost.vhd: opened read-write once to serve; k-lost-1.vhd: the
	# switch's checks (1) and restamp (2), then its open for serving fails
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	LD_PRELOAD=$T/failopen.so VV_FAIL_OPEN="$T/k-lost-1.vhd=2;$T/k-lost.vhd=1" \
		start_direct "$T/k-lost-$tr.log" "vv.run=write:vda:0:1024:SYNCED-lost,sync,hold" \
		--disk "$T/k-lost.vhd" --api "$T/api.sock" --disk-transport "$tr"
	wait_line "$T/k-lost-$tr.log" '^VV-HOLD'
	grep -q '^VV-WRITE-OK' "$T/k-lost-$tr.log" || fail "the guest's write failed"
	r=$(api "$T/api.sock" "{\"cmd\":\"switch-disk\",\"disk\":0,\"file\":\"$T/k-lost-1.vhd\"}")
	note "switch-disk: $r"
	assert_eq "$(json_get "$r" ok)" false "the switch failed"
	wait_exit
	assert_eq "$RC" 4 "exit after the disk lost its image"
	grep -q 'died' "$T/run.err" || fail "no message: $(cat "$T/run.err")"
	grep -q 'cannot be reopened' "$T/run.err" || fail "no reason: $(cat "$T/run.err")"
	"$VHD" check k-lost.vhd >/dev/null ||
		fail "vhd check after the lost disk: $("$VHD" check k-lost.vhd 2>&1 | tail -3)"
	assert_eq "$("$VHD" read k-lost.vhd 0 1M | sha256sum | cut -d' ' -f1)" \
		"$(pat_sha SYNCED-lost 1024)" "synced data after the lost disk"
	assert_clean "$T/api.sock"
done
