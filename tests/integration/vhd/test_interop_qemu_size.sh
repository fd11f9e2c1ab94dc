#!/bin/bash
# QEMU's default view of our images: without driver options, qemu-img must
# present exactly the size we created (it trusts current_size only for the
# creators it knows; for others it uses the CHS product, which rounds odd
# sizes down and silently truncates the disk).
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd qemu-img jq

bad=()
for spec in "fixed $((1024 * 1024 + 512))" "dynamic $((1024 * 1024 + 512))" \
	"dynamic $((127 << 20))" "fixed $((127 << 20))" "dynamic $((10 << 30))"; do
	set -- $spec
	rm -f "$T/s.vhd"
	"$VHD" create --"$1" "$T/s.vhd" "$2"
	q=$(qemu-img info -f vpc --output=json "$T/s.vhd" | jq -r '."virtual-size"')
	note "$1 $2: qemu-img sees $q bytes"
	[[ $q == "$2" ]] || bad+=("$1 $2 -> $q")
done
((${#bad[@]} == 0)) || fail "qemu-img presents other sizes than we created: ${bad[*]} (creator '$("$VHD" info --json "$T/s.vhd" | jq -r .creator.app)')"
