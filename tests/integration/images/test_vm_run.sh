#!/bin/bash
# `vm start` runs hv's runtime detached: of 50 linked clones of one
# template, ten boot at once (TCG on this machine, 128 MiB each), each
# writes its own marker through its guest, finds its identity on the
# kernel command line, and powers off; the other clones and the template
# stay unchanged; a held guest is stopped by `vm stop`.
# serial
# timeout: 600
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
img=$VHDVISOR_STATE/images/$(image_id tmpl).vhd
before=$(sha "$img")
N=10
vv vm create base --from tmpl --mem 128M >/dev/null
vv vm clone base lab --count 50 >/dev/null
at_exit 'for k in $(seq 1 $N) 12; do "$VHDVISOR" vm stop lab-$k >/dev/null 2>&1; done'
idle=$(vv vm show lab-11 --json | jq -r .disk)
idle_sum=$(sha "$idle")

t0=$(date +%s)
for i in $(seq 1 $N); do
	vv vm start "lab-$i" --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
		--append "vv.run=write:vda:2048:16:MARK$i,uuid,poweroff" >/dev/null
	assert_eq "$(vv vm status "lab-$i" --json | jq .running)" true "lab-$i running"
done
# A second start and a reset are refused while a VM runs: checked on a held
# guest (lab-12), which cannot power itself off under the check.
vv vm start lab-12 --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append "vv.run=hold" >/dev/null
assert_eq "$(vv vm status lab-12 --json | jq .running)" true "lab-12 running"
expect_exit 1 vv vm start lab-12 --kernel "$G/vmlinux" --initrd "$G/initrd.img"
assert_stderr "already running"
expect_exit 1 vv vm reset lab-12
assert_stderr "running"
vv vm stop lab-12 >/dev/null
assert_eq "$(vv vm status lab-12 --json | jq .running)" false "lab-12 stopped"

uuids=()
for i in $(seq 1 $N); do
	for _ in $(seq 1 400); do
		vv vm status "lab-$i" --json | jq -e '.running == false' >/dev/null && break
		sleep 1
	done
	assert_eq "$(vv vm status "lab-$i" --json | jq .running)" false "lab-$i powered off"
	vv vm console "lab-$i" >"$T/c$i"
	grep -q VV-WRITE-OK "$T/c$i" || { tail -20 "$T/c$i"; fail "lab-$i: guest write failed"; }
	mid=$(vv vm show "lab-$i" --json | jq -r .machine_id)
	grep -q "hostname=lab-$i " "$T/c$i" || fail "lab-$i: no hostname on its command line"
	grep -q "systemd.machine_id=$mid" "$T/c$i" || fail "lab-$i: no machine-id"
	uuid=$(vv vm show "lab-$i" --json | jq -r .uuid)
	[[ $uuid =~ ^[0-9a-f-]{36}$ ]] || fail "lab-$i: no SMBIOS UUID in vm show ($uuid)"
	grep -aq "^VV-UUID=$uuid" "$T/c$i" || fail "lab-$i: the guest's SMBIOS UUID is not $uuid"
	uuids+=("$uuid")
done
note "$N clones booted, wrote and powered off in $(($(date +%s) - t0)) s"
for i in $(seq 1 $N); do
	disk=$(vv vm show "lab-$i" --json | jq -r .disk)
	assert_eq "$("$VHD" read "$disk" $((2048 * 1024)) 6)" "MARK$i" "lab-$i marker"
done
assert_eq "$(sha "$img")" "$before" "template unchanged"
assert_eq "$(printf '%s\n' "${uuids[@]}" | sort -u | wc -l)" $N "distinct SMBIOS UUIDs"
assert_eq "$(sha "$idle")" "$idle_sum" "a clone that did not run is unchanged"

note "a held guest stops with vm stop"
vv vm start lab-1 --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append "vv.run=hold" >/dev/null
for _ in $(seq 1 120); do
	grep -q VV-HOLD "$VHDVISOR_RUN/lab-1.console" 2>/dev/null && break
	sleep 1
done
grep -q VV-HOLD "$VHDVISOR_RUN/lab-1.console" || fail "guest did not come up"
vv vm stop lab-1 >/dev/null
assert_eq "$(vv vm status lab-1 --json | jq .running)" false "stopped"
vv vm snapshot lab-1 after >/dev/null
