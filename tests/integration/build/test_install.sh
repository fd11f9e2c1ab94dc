#!/bin/bash
# `make install` puts the programs (vhdvisord included) and vhdvisord's
# systemd unit under DESTDIR; the unit runs the installed daemon and
# leaves the VMs running when it stops (KillMode=process, the run
# directory preserved).
source "$VV_ROOT/tests/integration/lib.sh"

# -o all: install what the test run built (make asan's build too), never
# rebuild it here with other flags
make -s -C "$VV_ROOT" -o all BUILD="$VV_BUILD" DESTDIR="$T/root" PREFIX=/opt/vv install >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "make install failed"; }
for p in vhd vhdvisor vhdvisord; do
	[[ -x $T/root/opt/vv/bin/$p ]] || fail "$p not installed"
done
unit=$T/root/opt/vv/lib/systemd/system/vhdvisord.service
[[ -f $unit ]] || fail "no unit"
assert_eq "$(stat -c %a "$unit")" 644 "unit mode"
grep -qx 'ExecStart=/opt/vv/bin/vhdvisord --state /var/lib/vhdvisor --run /run/vhdvisor' "$unit" ||
	fail "ExecStart: $(grep ExecStart "$unit")"
grep -qx 'KillMode=process' "$unit" || fail "a daemon stop would kill the VMs"
grep -qx 'RuntimeDirectoryPreserve=yes' "$unit" || fail "the run directory would go"
grep -q '@PREFIX@' "$unit" && fail "unreplaced @PREFIX@"
"$T/root/opt/vv/bin/vhdvisord" --help | grep -q -- '--listen' || fail "installed daemon does not run"
if command -v systemd-analyze >/dev/null; then
	# the ExecStart binary is under DESTDIR, not at its final place
	sed "s|/opt/vv/bin|$T/root/opt/vv/bin|" "$unit" >"$T/vhdvisord.service"
	# it exits 0 on ignored lines too: any message is a failure
	systemd-analyze verify "$T/vhdvisord.service" >"$T/verify" 2>&1 ||
		{ cat "$T/verify"; fail "systemd-analyze verify"; }
	[[ ! -s $T/verify ]] || { cat "$T/verify"; fail "systemd-analyze verify complains"; }
fi
true
