#!/bin/bash
# A real guest (QEMU TCG, 2 vCPUs, vhost-user-blk-pci with 2 queues, its
# memory in a shared memfd) on `vhd serve --vhost-user`: it writes, reads
# back and flushes on a dynamic VHD and on a differencing child; afterwards
# `vhd read` and libvhdi read what it wrote, `vhd check` passes and the
# parent is byte-identical. A --read-only export refuses the guest's writes.
# A 4 GiB guest (two memory regions, one at a file offset) works too.
# timeout: 600
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-system-x86_64 jq
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>"$T/guest.log") ||
	fail "guest material could not be built: $(tail -1 "$T/guest.log")"
S=$T/vu.sock

# guest CONSOLE APPEND [QUEUES [MEM]]: boots the test kernel with the disk at
# $S as /dev/vda, runs the vv.run actions of APPEND, waits for the poweroff.
guest() {
	local con=$1 run=$2 queues=${3:-2} mem=${4:-256M} rc=0
	timeout 240 qemu-system-x86_64 -nodefaults -no-user-config \
		-machine q35,memory-backend=mem -accel tcg,thread=multi -smp 2 -m "$mem" \
		-object "memory-backend-memfd,id=mem,size=$mem,share=on" \
		-display none -no-reboot -serial "file:$con" \
		-kernel "$G/vmlinux" -initrd "$G/initrd.img" \
		-append "console=ttyS0 quiet vv.run=$run" \
		-chardev "socket,id=vu0,path=$S" \
		-device "vhost-user-blk-pci,chardev=vu0,num-queues=$queues" \
		>"$T/qemu.out" 2>&1 || rc=$?
	((rc == 0)) || { cat "$T/qemu.out" >&2; tail -20 "$con" >&2; fail "qemu exited $rc"; }
	grep -aq '^VV-END=poweroff' "$con" || { tail -20 "$con" >&2; fail "the guest did not finish"; }
}
val() { grep -a "^$2=" "$1" | tail -1 | cut -d= -f2- | tr -d '\r'; }
want() { yes "$1" | head -c $(($2 * 1024)) | sha256sum | cut -d' ' -f1; }
vu_stop() {
	local rc=0
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" || rc=$?
	[[ $rc == 0 ]] || { cat "$T/serve.err" >&2; fail "vhd serve exited $rc after SIGTERM"; }
	[[ ! -e $S ]] || fail "the socket is left behind"
}

note "dynamic VHD, 2 vCPUs, 2 queues"
"$VHD" create "$T/dyn.vhd" 64M
vu_start "$S" --queues 2 "$T/dyn.vhd"
[[ $(stat -c %a "$S") == 600 ]] || fail "socket mode $(stat -c %a "$S"), want 600"
guest "$T/c1" "cpus,write:vda:1024:512:alpha,read:vda:1024:512,write:vda:40000:64:omega,sync,read:vda:0:4"
assert_eq "$(val "$T/c1" VV-CPUS)" 2 "guest CPUs"
grep -aq '^VV-WRITE-OK' "$T/c1" || fail "guest write failed: $(grep -a VV- "$T/c1")"
[[ $(grep -ac '^VV-WRITE-OK' "$T/c1") == 2 ]] || fail "second write failed"
assert_eq "$(grep -a '^VV-READ-SHA=' "$T/c1" | head -1 | cut -d= -f2 | tr -d '\r')" "$(want alpha 512)" "guest read back"
assert_eq "$(val "$T/c1" VV-READ-SHA)" "$(head -c 4096 /dev/zero | sha256sum | cut -d' ' -f1)" "unwritten start"
grep -q 'queue 1: started' "$T/serve.err" || fail "queue 1 never started: $(cat "$T/serve.err")"
grep 'requests$' "$T/serve.err" | sed 's/^/    /'
vu_stop
assert_eq "$("$VHD" read "$T/dyn.vhd" 1M 512K | sha256sum | cut -d' ' -f1)" "$(want alpha 512)" "vhd read"
assert_eq "$("$VHD" read "$T/dyn.vhd" 40000K 64K | sha256sum | cut -d' ' -f1)" "$(want omega 64)" "vhd read (2)"
"$VHD" check "$T/dyn.vhd" >/dev/null || fail "vhd check after the guest"
lvread_chain "$T/lv.raw" "$T/dyn.vhd" || fail "lvread"
assert_eq "$(dd if="$T/lv.raw" bs=1K skip=1024 count=512 status=none | sha256sum | cut -d' ' -f1)" \
	"$(want alpha 512)" "libvhdi read"
assert_eq "$(dd if="$T/lv.raw" bs=1K skip=40000 count=64 status=none | sha256sum | cut -d' ' -f1)" \
	"$(want omega 64)" "libvhdi read (2)"

note "differencing child: the guest's writes land in the child only"
"$VHD" create "$T/base.vhd" 64M
"$VHD" write "$T/base.vhd" 0 --pattern 0x5a --length 4M
"$VHD" snapshot "$T/base.vhd" "$T/kid.vhd"
base_sum=$(sha "$T/base.vhd")
vu_start "$S" --queues 2 "$T/kid.vhd"
guest "$T/c2" "read:vda:0:64,write:vda:2048:256:kid,read:vda:2048:256,sync"
assert_eq "$(grep -a '^VV-READ-SHA=' "$T/c2" | head -1 | cut -d= -f2 | tr -d '\r')" \
	"$(head -c 65536 /dev/zero | tr '\0' '\132' | sha256sum | cut -d' ' -f1)" "parent data seen by the guest"
grep -aq '^VV-WRITE-OK' "$T/c2" || fail "guest write to the child failed"
assert_eq "$(val "$T/c2" VV-READ-SHA)" "$(want kid 256)" "guest read back (child)"
vu_stop
assert_eq "$(sha "$T/base.vhd")" "$base_sum" "parent after the guest wrote its child"
assert_eq "$("$VHD" read "$T/kid.vhd" 2M 256K | sha256sum | cut -d' ' -f1)" "$(want kid 256)" "vhd read (child)"
"$VHD" check "$T/kid.vhd" >/dev/null || fail "vhd check of the child"
lvread_chain "$T/lv2.raw" "$T/kid.vhd" || fail "lvread (chain)"
assert_eq "$(dd if="$T/lv2.raw" bs=1K skip=2048 count=256 status=none | sha256sum | cut -d' ' -f1)" \
	"$(want kid 256)" "libvhdi read (child)"
assert_eq "$(head -c 65536 "$T/lv2.raw" | sha256sum | cut -d' ' -f1)" \
	"$(head -c 65536 /dev/zero | tr '\0' '\132' | sha256sum | cut -d' ' -f1)" "libvhdi read (parent range)"

note "--read-only: the guest cannot write"
dyn_sum=$(sha "$T/dyn.vhd")
vu_start "$S" --read-only "$T/dyn.vhd"
guest "$T/c3" "write:vda:0:64:nope,read:vda:1024:512" 1
grep -aq '^VV-WRITE-FAIL' "$T/c3" || fail "a write to a read-only export succeeded: $(grep -a VV- "$T/c3")"
assert_eq "$(val "$T/c3" VV-READ-SHA)" "$(want alpha 512)" "read-only read"
vu_stop
assert_eq "$(sha "$T/dyn.vhd")" "$dyn_sum" "image after the read-only export"

note "a 4 GiB guest: its memory reaches us in two regions (below and above 4 GiB)"
vu_start "$S" "$T/dyn.vhd"
guest "$T/c4" "write:vda:4096:1024:high,read:vda:4096:1024" 1 4G
grep -q 'memory region 2 of 2: guest 0x100000000' "$T/serve.err" ||
	fail "no region above 4 GiB: $(grep 'memory region' "$T/serve.err")"
assert_eq "$(val "$T/c4" VV-READ-SHA)" "$(want high 1024)" "4 GiB guest read back"
vu_stop
assert_eq "$("$VHD" read "$T/dyn.vhd" 4M 1M | sha256sum | cut -d' ' -f1)" "$(want high 1024)" "vhd read (4 GiB guest)"
