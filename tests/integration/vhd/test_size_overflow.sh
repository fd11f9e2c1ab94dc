#!/bin/bash
# timeout: 120
# A dynamic image whose footers claim a current_size near 2^64 (checksums
# fixed) once wrapped the BAT-size check (size + block_size - 1): `vhd
# check` said clean, `vhd read 1T` and `vhd map` died of SIGSEGV, `vhd
# serve` crashed on a read and `vhd write` overwrote the dynamic header.
# Now every command refuses it with a clear message, exits 1 (2 where the
# command documents it for a FILE it cannot open) and leaves the
# file byte for byte as it was.
# Also: a dynamic image whose footer copy at offset 0 has a bad checksum
# (the trailing footer intact) is reported by `vhd check` and rewritten by
# `--repair`; qemu-img then opens it (QEMU reads the copy at 0 first and
# refuses a bad checksum there) and reads the same data.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd python3 qemu-img qemu-io

# set_size IMG SIZE: current_size of both footers, checksums recomputed
set_size() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
p, size = sys.argv[1], int(sys.argv[2], 0)
b = bytearray(open(p, 'rb').read())
for off in (0, len(b) - 512):
    struct.pack_into('>Q', b, off + 48, size)
    struct.pack_into('>I', b, off + 64, 0)
    struct.pack_into('>I', b, off + 64, ~sum(b[off:off + 512]) & 0xffffffff)
open(p, 'wb').write(b)
PY
}

for size in 0xFFFFFFFFFFFFFE00 0xFFFFFFFFFFE00200 0x8000000000000000; do
	note "current_size $size"
	IMG=$T/big.vhd
	rm -f "$IMG"
	"$VHD" create "$IMG" 8M
	"$VHD" write "$IMG" 0 --pattern 0x5a --length 4096
	set_size "$IMG" "$size"
	SUM=$(sha "$IMG")
	for cmd in "info" "check" "read 0 512" "read 1T 512" "map" \
		"write 1T --pattern 0x11 --length 512" "write 0 --pattern 0x11 --length 512" \
		"check --repair" "resize 16M" "convert OUT" "serve"; do
		rc=0
		case $cmd in
		convert*) "$VHD" convert "$IMG" "$T/out.vhd" ;;
		serve) timeout 20 "$VHD" serve --socket "$T/s.sock" "$IMG" ;;
		# shellcheck disable=SC2086
		*) "$VHD" ${cmd%% *} "$IMG" $([[ $cmd == *\ * ]] && echo "${cmd#* }") ;;
		esac &>"$T/stderr" || rc=$?
		[[ $rc == 1 || $rc == 2 ]] || { cat "$T/stderr" >&2; fail "vhd $cmd exited $rc, want 1 or 2"; }
		grep -Eq "BAT has 4 entries|4 BAT entries cannot cover" "$T/stderr" ||
			{ cat "$T/stderr" >&2; fail "vhd $cmd: no clear message"; }
		assert_eq "$(sha "$IMG")" "$SUM" "the image after vhd $cmd"
		[[ ! -e $T/out.vhd && ! -e $T/s.sock ]] || fail "vhd $cmd left an output behind"
	done
done

note "a footer copy at 0 with a bad checksum is reported and repaired"
IMG=$T/copy.vhd
rm -f "$IMG"
"$VHD" create "$IMG" 8M
"$VHD" write "$IMG" 1M --pattern 0x77 --length 65536
vraw "$IMG" "$T/want.raw"
# flip every bit of the checksum's last byte (writing a fixed value would
# leave it as it was whenever it already held that value)
b=$(od -An -tu1 -j67 -N1 "$IMG" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 0xff)))" | dd of="$IMG" bs=1 seek=67 conv=notrunc status=none
expect_exit 1 "$VHD" check "$IMG"
grep -q "footer-copy-damaged" "$T/stdout" || { cat "$T/stdout"; fail "check did not name the copy"; }
qemu-img info "$IMG" >/dev/null 2>&1 && fail "qemu-img opened the damaged copy (the judge is blind)"
expect_exit 0 "$VHD" check --repair "$IMG"
grep -q "repaired.*footer-copy-damaged" "$T/stdout" || { cat "$T/stdout"; fail "--repair did not rewrite the copy"; }
expect_exit 0 "$VHD" check "$IMG"
cmp -n 512 "$IMG" <(tail -c 512 "$IMG") || fail "the copy at 0 differs from the trailing footer"
qemu-img info --output=json "$IMG" | jq -e '."virtual-size" == 8388608' >/dev/null ||
	fail "qemu-img info after the repair: $(qemu-img info "$IMG" 2>&1)"
qraw "$IMG" "$T/got.raw"
cmp "$T/want.raw" "$T/got.raw" || fail "qemu-img reads other data after the repair"
