#!/bin/bash
# Images made by `qemu-img create -f vpc` (fixed and dynamic, with and
# without force_size) and written by qemu-io read identically through us
# and pass our check (and map as qemu-img maps them); our writes into them
# read back through qemu-img.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd qemu-img qemu-io jq

# allocated ranges, neighbours merged (qemu splits where file offsets jump)
ranges='[.[] | select(.data) | [.start, .length]] | reduce .[] as $r ([];
	if length > 0 and (.[-1][0] + .[-1][1]) == $r[0] then .[-1][1] += $r[1] else . + [$r] end)'
for sub in dynamic fixed; do
	for force in off on; do
		img=$T/q-$sub-$force.vhd
		note "qemu-img create subformat=$sub force_size=$force"
		qemu-img create -q -f vpc -o subformat=$sub,force_size=$force "$img" 67M
		qsize=$(qemu-img info -f vpc --output=json "$img" | jq -r '."virtual-size"')
		assert_eq "$(vsize "$img")" "$qsize" "our size vs qemu's"
		qemu-io -f vpc -c "write -P 0x61 0 1M" -c "write -P 0x62 3M 1536" \
			-c "write -P 0x63 $((qsize - 65536)) 65536" "$img" >/dev/null
		qemu-img convert -f vpc -O raw "$img" "$T/qref"
		vraw "$img" "$T/got"
		same "$T/got" "$T/qref" "$sub/$force read through us"
		expect_exit 0 "$VHD" check "$img"
		if [[ $sub == dynamic ]]; then   # the same allocated ranges as qemu-img map
			"$VHD" map --json "$img" | jq -c "$ranges" >"$T/m1"
			qemu-img map -f vpc --output=json "$img" | jq -c "$ranges" >"$T/m2"
			same "$T/m1" "$T/m2" "allocation map vs qemu-img map"
		fi
		"$VHD" write "$img" $((5 << 20)) --pattern 0x64 --length 777777
		"$VHD" write "$img" 100 --pattern 0x65 --length 1000
		vraw "$img" "$T/got"
		qemu-img convert -f vpc -O raw "$img" "$T/qref"
		same "$T/qref" "$T/got" "$sub/$force: our writes through qemu-img"
		expect_exit 0 "$VHD" check "$img"
		qemu-io -f vpc -c "read -P 0x64 $((5 << 20)) 777777" -c "read -P 0x65 100 1000" \
			"$img" >"$T/qio.txt"
		! grep -q "verification failed" "$T/qio.txt" || fail "qemu-io reads other data"
	done
done
echo "qemu-made images interoperate"
