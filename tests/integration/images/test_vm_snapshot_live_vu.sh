#!/bin/bash
# `vm snapshot` of a running VM whose disk the runtime serves over
# vhost-user-blk (`--disk-transport vhost-user`): the live switch runs on
# the runtime's bdev (bdev_switch_top) while the guest keeps writing an
# increasing counter. The same checks as test_vm_snapshot_live.sh (NBD):
# each snapshot's layer is frozen from that moment, no write is lost, the
# final disk holds the last count, revert / snapshot-rm read what each
# snapshot froze, every layer passes `vhd check` with no parent timestamp
# warning and reads the same through libvhdi. No `vhd serve` runs.
# serial
# timeout: 600
TRANSPORT=vhost-user
source "$VV_ROOT/tests/integration/images/lib_live_snapshot.sh"

note "a switch the bdev refuses changes nothing and the guest keeps its disk"
vv vm start v --kernel "$G/vmlinux" --initrd "$G/initrd.img" --disk-transport vhost-user \
	--append "vv.run=hold" >/dev/null
top=$(disk)
"$VHD" create "$T/other.vhd" 32M >/dev/null    # not a child of the top
r=$(python3 - "$VHDVISOR_RUN/v.api" "$T/other.vhd" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": "switch-disk", "disk": 0, "file": sys.argv[2]}) + "\n").encode())
print(s.makefile().readline().strip())
PY
)
note "refused: $r"
assert_eq "$(jq .ok <<<"$r")" false "switch-disk to a non-child refused"
jq -r .error <<<"$r" | grep -q "not a differencing" || fail "unexpected reason: $r"
assert_eq "$(disk)" "$top" "top unchanged after a refused switch"
assert_eq "$(vv vm status v --json | jq .running)" true "still running after the refusal"
vv vm stop v >/dev/null
"$VHD" check "$top" >/dev/null || fail "vhd check $top after the refusal"
