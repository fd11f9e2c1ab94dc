#!/bin/bash
# `vhdvisor image build debian`: debootstrap makes a Debian 12 template
# that enters the catalog with its metadata and boots with `vhdvisor run
# --boot image` (kernel, initramfs and root=UUID from its grub.cfg) to
# systemd's targets and the login prompt on the serial console. Slow
# (debootstrap, then a TCG boot): runs only with VHDVISOR_LONG=1.
# serial
# timeout: 1800
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
[[ ${VHDVISOR_LONG:-} == 1 ]] || skip "long test: set VHDVISOR_LONG=1"
need_cmd jq debootstrap qemu-system-x86_64
[[ $(id -u) == 0 ]] || skip "debootstrap needs root"

note "image build debian"
vv image build debian >"$T/build.out" 2>"$T/build.err" ||
	{ cat "$T/build.err" >&2; fail "image build debian failed"; }
vv image show debian --json >"$T/show.json"
assert_eq "$(jq -r .source "$T/show.json")" "recipe:debian" source
assert_eq "$(jq -r .boot "$T/show.json")" image boot
assert_eq "$(jq -r .min_mem "$T/show.json")" $((512 << 20)) min_mem
jq -e '.os | startswith("Debian 12")' "$T/show.json" >/dev/null || fail "os not filled"
assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "tmp after the build"

note "boot it to the login prompt"
vv image export debian "$T/debian.vhd"
"$VHDVISOR" run --disk "$T/debian.vhd" --boot image --mem 1G --console "file:$T/console" \
	--name "deb$$" >"$T/run.out" 2>&1 &
pid=$!
at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
up=
for _ in $(seq 1 1500); do
	grep -aq -e "login:" "$T/console" 2>/dev/null && { up=1; break; }
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
grep -a "Reached target" "$T/console" | tail -3
[[ -n $up ]] || { tail -30 "$T/console" "$T/run.out" >&2; fail "no login prompt"; }
grep -aq "Reached target" "$T/console" || fail "no systemd target reached"
