#!/bin/bash
# The tiny template (images/recipes/tiny) enters the catalog; two linked
# clones of it boot from their own disks (the kernel read out of the
# differencing chain, no --kernel), each guest reads its disk and the hash
# matches what our vhd tool reads from that clone's chain.
# serial
# timeout: 500
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64
export PATH=$VV_BUILD/bin:$PATH
tiny=$(VHD=$VHD bash "$VV_ROOT/images/recipes/tiny/build.sh" --print 2>"$T/build.log" | tail -1) ||
	skip "the tiny template cannot be built here: $(tail -1 "$T/build.log")"
[[ -f $tiny ]] || skip "no tiny template"

vv image import "$tiny" --name tiny --boot image --os busybox >/dev/null
vv vm create t0 --from tiny >/dev/null
vv vm clone t0 t --count 2 >/dev/null
at_exit '"$VHDVISOR" vm stop t-1; "$VHDVISOR" vm stop t-2'
for v in t-1 t-2; do
	vv vm start "$v" --append "vv.run=read:vda:0:2048,poweroff" >/dev/null
done
for v in t-1 t-2; do
	for _ in $(seq 1 240); do
		vv vm status "$v" --json | jq -e '.running == false' >/dev/null && break
		sleep 1
	done
	vv vm console "$v" >"$T/$v.console"
	grep -aq VHDVISOR-GUEST-UP "$T/$v.console" || { tail -20 "$T/$v.console"; fail "$v did not boot"; }
	want=$("$VHD" read "$(vv vm show "$v" --json | jq -r .disk)" 0 $((2048 * 1024)) | sha256sum |
		cut -d' ' -f1)
	grep -aq "VV-READ-SHA=$want" "$T/$v.console" || fail "$v read other bytes than its chain holds"
done
