#!/bin/bash
# `vhdvisor vm clone --count 100` from a 1 GiB template vs a loop of
# `qemu-img create -f qcow2 -b` (linked clones, QEMU's way) and a loop of
# `cp --reflink=auto` of the raw template (a full clone where the
# filesystem cannot share blocks). Goal: 100 clones in under a second.
source "$VV_ROOT/tests/bench/lib.sh"
need_cmd qemu-img jq
export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run
N=100

truncate -s 1G "$T/tmpl.raw"
head -c 256M /dev/urandom | dd of="$T/tmpl.raw" bs=1M seek=64 conv=notrunc status=none
"$VHDVISOR" image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
"$VHDVISOR" vm create base --from tmpl >/dev/null
qemu-img convert -f raw -O qcow2 "$T/tmpl.raw" "$T/tmpl.qcow2"

ours=$(secs "$VHDVISOR" vm clone base c --count $N)
n=$("$VHDVISOR" vm list --json | jq '[.[] | select(.name | startswith("c-"))] | length')
[[ $n == "$N" ]] || { echo "FAIL: $n clones"; exit 1; }

qcow_loop() {
	mkdir -p "$T/q"
	for i in $(seq 1 $N); do
		qemu-img create -q -f qcow2 -b "$T/tmpl.qcow2" -F qcow2 "$T/q/c-$i.qcow2"
	done
}
cp_loop() {
	mkdir -p "$T/cp"
	for i in $(seq 1 $N); do
		cp --reflink=auto "$T/tmpl.raw" "$T/cp/c-$i.raw"
	done
}
qemu=$(secs qcow_loop)
cp=$(secs cp_loop)
compare "$N linked clones vs qemu-img create -b" "$ours" "$qemu" "qemu-img"
compare "$N linked clones vs cp --reflink=auto" "$ours" "$cp" "cp"
printf '%-40s %s\n' "under a second" "$(echo "$ours < 1" | bc -l | sed 's/1/yes/;s/0/NO/')"
