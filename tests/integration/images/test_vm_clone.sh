#!/bin/bash
# 50 linked clones of one template: each a tiny differencing VHD on the
# image's file, each with its own identity; a marker written into each
# clone reads back from that clone only; the template's file is unchanged.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq

mkraw "$T/tmpl.raw" 64M
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
id=$(image_id tmpl)
img=$VHDVISOR_STATE/images/$id.vhd
before=$(sha "$img")

vv vm create base --from tmpl --cpus 2 --mem 512M >/dev/null
start=$(date +%s%N)
vv vm clone base c --count 50 >/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
note "50 clones in $ms ms"

vv vm list --json >"$T/vms.json"
assert_eq "$(jq length "$T/vms.json")" 51 "VM count"
assert_eq "$(jq '[.[] | .mac] | unique | length' "$T/vms.json")" 51 "distinct MACs"
assert_eq "$(jq '[.[] | .uuid] | unique | length' "$T/vms.json")" 51 "distinct SMBIOS UUIDs"
assert_eq "$(jq '[.[] | .machine_id] | unique | length' "$T/vms.json")" 51 "distinct machine-ids"
assert_eq "$(jq '[.[] | select(.image == "'"$id"'")] | length' "$T/vms.json")" 51 "all on the template"
assert_eq "$(jq -r '.[] | select(.name == "c-17") | .cpus' "$T/vms.json")" 2 "cpus inherited"
jq -r '.[] | .mac' "$T/vms.json" | while read -r mac; do
	(( (0x${mac:0:2} & 3) == 2 )) || fail "MAC $mac is not locally administered unicast"
done
# the MAC is stable per name: a VM re-created under the same name gets it back
mac17=$(jq -r '.[] | select(.name == "c-17") | .mac' "$T/vms.json")
vv vm rm c-17
vv vm clone base c-17 >/dev/null
assert_eq "$(vv vm show c-17 --json | jq -r .mac)" "$mac17" "MAC stable per name"

for i in $(seq 1 50); do
	disk=$(jq -r ".[] | select(.name == \"c-$i\") | .disk" "$T/vms.json")
	[[ $i == 17 ]] && disk=$(vv vm show c-17 --json | jq -r .disk)
	(( $(stat -c %s "$disk") < 65536 )) || fail "clone $i disk is not tiny"
	printf 'marker-of-clone-%05d' "$i" >"$T/m"
	"$VHD" write "$disk" $((i * 4096 + 5000000)) --from "$T/m" >/dev/null
done
for i in $(seq 1 50); do
	disk=$(vv vm show "c-$i" --json | jq -r .disk)
	got=$("$VHD" read "$disk" $((i * 4096 + 5000000)) 21)
	assert_eq "$got" "$(printf 'marker-of-clone-%05d' "$i")" "clone $i marker"
	# a neighbour's marker spot still reads the template's bytes there
	j=$(( i % 50 + 1 ))
	"$VHD" read "$disk" $((j * 4096 + 5000000)) 21 | cmp -s - \
		<(dd if="$T/tmpl.raw" bs=1 skip=$((j * 4096 + 5000000)) count=21 status=none) ||
		fail "clone $i sees clone $j's marker"
done
assert_eq "$(sha "$img")" "$before" "template file byte-identical"

note "a full clone is independent of the image"
vv vm clone c-3 full3 --full >/dev/null
d3=$(vv vm show full3 --json | jq -r .disk)
"$VHD" info --json "$d3" | jq -e '.type == "dynamic"' >/dev/null || fail "full clone is not standalone"
assert_eq "$("$VHD" read "$d3" $((3 * 4096 + 5000000)) 21)" "marker-of-clone-00003" "full clone content"

note "rm refuses an image with VMs, listing them"
expect_exit 1 vv image rm tmpl
assert_stderr "used by VMs: base, c-1, "
vv vm rm $(seq -f 'c-%g' 1 50) base full3
assert_eq "$(ls "$VHDVISOR_STATE/vms" | wc -l)" 0 "VM folders removed"
vv image rm tmpl >/dev/null
