#!/bin/bash
# Export of a 2 GiB half-sparse catalog image to a dynamic VHD and to an
# Azure fixed VHD vs `qemu-img convert` of the same stored file (each run
# ends with the output synced). Goal: at least as fast.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-img jq
export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run

truncate -s 2G "$T/src.raw"
for i in $(seq 0 2 30); do   # 16 x 64 MiB of data between 16 x 64 MiB holes
	head -c 64M /dev/urandom | dd of="$T/src.raw" bs=64M seek=$i conv=notrunc \
		status=none
done
"$VHDVISOR" image import "$T/src.raw" --format raw --name big >/dev/null
stored=$VHDVISOR_STATE/$("$VHDVISOR" image show big --json | jq -r .file)
src="driver=vpc,force_size_calc=current_size,file.filename=$stored"

timed() { # timed OUT CMD...: wall time of CMD then sync of OUT
	local out=$1
	shift
	secs sh -c '"$@" && sync "$0"' "$out" "$@"
}
ours=$(timed "$T/o.vhd" "$VHDVISOR" image export big "$T/o.vhd" --format vhd)
theirs=$(timed "$T/q.vhd" qemu-img convert --image-opts "$src" -O vpc -o subformat=dynamic,force_size "$T/q.vhd")
compare "2 GiB half-sparse -> dynamic VHD" "$ours" "$theirs" "qemu-img"
ours=$(timed "$T/o.azure" "$VHDVISOR" image export big "$T/o.azure" --format azure)
theirs=$(timed "$T/q.fixed" qemu-img convert --image-opts "$src" -O vpc -o subformat=fixed,force_size "$T/q.fixed")
compare "2 GiB half-sparse -> Azure fixed VHD" "$ours" "$theirs" "qemu-img"
