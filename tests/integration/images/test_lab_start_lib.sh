#!/bin/bash
# `lab start` and `lab stop` run their VMs through the library calls of
# `vm start`/`vm stop` (images/vmstart.h), not by re-running the binary:
# a VM that cannot start makes the lab command fail with its own reason,
# the others still start, the runtimes hold none of the command's
# descriptors (the catalog lock: image gc runs), and lab stop stops them.
# serial
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv lab create trio --from tmpl --count 3 --mem 128M >/dev/null
at_exit "'$VHDVISOR' lab stop trio"

note "a VM that cannot start"
disk=$(vv vm show trio-2 --json | jq -r .disk)
mv "$disk" "$T/away.vhd"
expect_exit 1 vv lab start trio --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append vv.run=hold
assert_stderr "trio-2 did not start: disk"
assert_stderr "1 VM of lab trio failed to start"
assert_eq "$(grep -c '^started trio-[13] ' "$T/stdout")" 2 "the others started"
assert_eq "$(vv lab list --json | jq '.[] | select(.name == "trio") | .running')" 2 "running"
for v in trio-1 trio-3; do
	pid=$(vv vm status "$v" --json | jq .pid)
	ls -l "/proc/$pid/fd" | grep -q "$VHDVISOR_STATE/lock" && fail "$v holds the catalog lock"
done
timeout 60 "$VHDVISOR" image gc >/dev/null || fail "image gc blocked by a runtime"

note "lab stop"
vv lab stop trio >"$T/out"
assert_eq "$(grep -c '^stopped trio-[13]$' "$T/out")" 2 "stop output"
assert_eq "$(vv lab list --json | jq '.[] | select(.name == "trio") | .running')" 0 "stopped"
