# tests/integration/vhd/lib_vhd.sh: helpers of the vhd image tool's tests.
# Sourced after tests/integration/lib.sh.

# vsize IMG: the virtual size our tool reports, in bytes.
vsize() { "$VHD" info --json "$1" | jq -r .virtual_size; }

# vraw IMG OUT: the whole virtual disk through our tool.
vraw() { "$VHD" read "$1" 0 "$(vsize "$1")" >"$2"; }

# qopts IMG: qemu --image-opts for IMG with the vpc driver told to trust
# current_size (QEMU otherwise uses the CHS product for creators it does
# not know; test_interop_qemu_size.sh checks that default separately).
qopts() { echo "driver=vpc,force_size_calc=current_size,file.filename=$1"; }

# qraw IMG OUT: the whole virtual disk through qemu-img (the vpc driver).
qraw() { qemu-img convert --image-opts "$(qopts "$1")" -O raw "$2"; }

# ref_new FILE SIZE: a sparse raw reference of SIZE bytes.
ref_new() { rm -f "$1"; truncate -s "$2" "$1"; }

# put IMG REF OFF DATAFILE: writes DATAFILE at OFF into IMG (our tool) and
# into the raw reference REF.
put() {
	"$VHD" write "$1" "$3" --from "$4"
	dd if="$4" of="$2" bs=1M seek="$3" oflag=seek_bytes conv=notrunc status=none
}

# rnd FILE LEN: LEN random bytes.
rnd() { head -c "$2" /dev/urandom >"$1"; }

# same A B WHAT: byte-identical files, or fail.
same() { cmp -s "$1" "$2" || { cmp "$1" "$2" | head -3 >&2; fail "$3: contents differ"; }; }

# vhdi_mount IMG MNT: mounts IMG with libvhdi's vhdimount (FUSE); skips the
# caller when FUSE is unusable here. The raw disk is then MNT/vhdi1.
vhdi_mount() {
	mkdir -p "$2"
	vhdimount "$1" "$2" >/dev/null 2>&1 || skip "vhdimount/FUSE does not work here"
	at_exit "fusermount3 -u '$2'"
	[[ -e $2/vhdi1 ]] || fail "vhdimount of $1 shows no vhdi1"
}
vhdi_umount() { fusermount3 -u "$1"; }

# poke FILE OFF HEX: overwrites bytes at OFF (negative: from the end).
poke() {
	python3 - "$@" <<'PY'
import sys, os
path, off, data = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
with open(path, 'r+b') as f:
    if off < 0:
        off += os.fstat(f.fileno()).st_size
    f.seek(off)
    f.write(data)
PY
}

# peek_be FILE OFF LEN: the big-endian integer at OFF (negative: from end).
peek_be() {
	python3 - "$@" <<'PY'
import sys, os
path, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, 'rb') as f:
    if off < 0:
        off += os.fstat(f.fileno()).st_size
    f.seek(off)
    print(int.from_bytes(f.read(n), 'big'))
PY
}

# bat_off IMG: byte offset of the BAT of a dynamic/differencing image.
bat_off() { peek_be "$1" $(($(peek_be "$1" 16 8) + 16)) 8; }

# not_crashed RC: the exit status of a command that must fail cleanly.
not_crashed() { (($1 != 0 && $1 < 124)) || fail "exit status $1 (crash or success)"; }
