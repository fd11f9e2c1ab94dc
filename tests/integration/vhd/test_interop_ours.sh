#!/bin/bash
# Images made and written by our tool read back byte-identical through
# qemu-img (vpc driver) and libvhdi (vhdiinfo, vhdimount); data qemu-io
# writes into our images reads back identically through us.
# timeout: 600
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd qemu-img qemu-io vhdiinfo jq

rnd "$T/r2" 4096
rnd "$T/r3" 511

# check_image KIND SIZE [create options...]
check_image() {
	local kind=$1 size=$2 img=$T/img.vhd ref=$T/ref.raw last
	shift 2
	note "$kind $size $*"
	rm -f "$img"
	"$VHD" create "$@" "$img" "$size"
	assert_eq "$(vsize "$img")" "$size" "virtual size of $kind"
	assert_eq "$("$VHD" info --json "$img" | jq -r .type)" "$kind" "type"
	ref_new "$ref" "$size"
	rnd "$T/r1" $((size > 8 << 20 ? (3 << 20) + 77 : size / 4 + 77))
	put "$img" "$ref" 0 "$T/r2"
	put "$img" "$ref" $((size / 3 + 7)) "$T/r1"   # unaligned, crosses blocks
	last=$((size - 511))
	put "$img" "$ref" "$last" "$T/r3"          # the very last bytes
	put "$img" "$ref" $((size / 2 + 3)) "$T/r2"

	vraw "$img" "$T/ours.raw"
	same "$T/ours.raw" "$ref" "$kind $size read back through us"

	qraw "$img" "$T/q.raw"
	same "$T/q.raw" "$ref" "$kind $size through qemu-img convert"

	vhdiinfo "$img" >"$T/vhdiinfo.txt" || fail "vhdiinfo rejects our $kind image"
	grep -q "Media size.*($size bytes)" "$T/vhdiinfo.txt" ||
		{ cat "$T/vhdiinfo.txt"; fail "vhdiinfo size of $kind image"; }
	if [[ -z ${NO_FUSE:-} ]]; then
		vhdi_mount "$img" "$T/mnt"
		same "$T/mnt/vhdi1" "$ref" "$kind $size through vhdimount"
		vhdi_umount "$T/mnt"
	fi

	# qemu-io writes into our image; we read them back.
	qemu-io --image-opts -c "write -P 0xa5 65536 131072" \
		-c "write -P 0x3c $((size - 4096)) 4096" "$(qopts "$img")" >/dev/null
	head -c 131072 /dev/zero | tr '\0' '\245' | dd of="$ref" bs=1M seek=65536 oflag=seek_bytes \
		conv=notrunc status=none
	head -c 4096 /dev/zero | tr '\0' '\074' | dd of="$ref" bs=1M seek=$((size - 4096)) \
		oflag=seek_bytes conv=notrunc status=none
	vraw "$img" "$T/ours.raw"
	same "$T/ours.raw" "$ref" "$kind $size after qemu-io writes"
}

check_image fixed $((1024 * 1024 + 512)) --fixed
check_image fixed $((127 * 1024 * 1024)) --fixed
check_image dynamic $((1024 * 1024 + 512))
check_image dynamic $((127 * 1024 * 1024))
check_image dynamic $((127 * 1024 * 1024)) --block-size 512K
check_image dynamic $((64 * 1024 * 1024 + 4096)) --block-size 8M
check_image fixed $((16 * 1024 * 1024)) --fixed --prealloc

note "sparse 2040 GiB dynamic: compared over written ranges only"
big=$T/big.vhd
"$VHD" create "$big" 2040G
assert_eq "$(vsize "$big")" $((2040 << 30)) "2040 GiB size"
((($(stat -c %s "$big")) < 16 * 1024 * 1024)) || fail "2040 GiB image is not sparse"
"$VHD" write "$big" 0 --pattern 0x11 --length 1M
"$VHD" write "$big" 1T --pattern 0x22 --length 3M
"$VHD" write "$big" $(((2040 << 30) - 65536)) --pattern 0x33 --length 65536
qemu-io --image-opts -c "read -P 0x11 0 1M" -c "read -P 0x22 1T 3M" \
	-c "read -P 0x33 $(((2040 << 30) - 65536)) 65536" -c "read -P 0 2M 1M" "$(qopts "$big")" \
	>"$T/qio.txt"
grep -q 'Pattern verification failed' "$T/qio.txt" && fail "qemu-io reads other data in the 2040 GiB image"
vhdiinfo "$big" >"$T/vi.txt" || fail "vhdiinfo rejects the 2040 GiB image"
grep -q "Media size.*($((2040 << 30)) bytes)" "$T/vi.txt" || { cat "$T/vi.txt"; fail "vhdiinfo on 2040 GiB"; }
assert_eq "$("$VHD" read "$big" $((1 << 40)) 16 | od -An -tx1 | tr -d ' \n')" \
	"22222222222222222222222222222222" "our read in the 2040 GiB image"
expect_exit 1 "$VHD" create "$T/toobig.vhd" 2041G
[[ ! -e $T/toobig.vhd ]] || fail "a refused create left a file"
echo "all interop checks passed"
