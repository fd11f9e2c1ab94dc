#!/bin/bash
# Hostile input to the catalog (issue 17, items 1, 8, 9). Nothing that
# enters the catalog may read a host file its sender names: a bundle layer
# whose parent is a raw host file or another VM's disk, an image bundle
# whose image is a child of a raw file, `vm disk add --file` of a child;
# raw parents only when a person asks the vhd tool for them. `image
# import` takes raw disks only when told (--format raw) and only whole
# sectors. Every manifest field is judged like the command line's input,
# and a VM imported under a new name gets a new identity.
# timeout: 300
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq tar
A=$T/hostA B=$T/hostB

# rebundle DIR OUT: DIR (an extracted bundle, changed) as the tar OUT, its
# manifest's sizes and hashes brought up to date as a hostile sender would.
rebundle() {
	local d=$1 out=$2 f m
	m=$(cat "$d/manifest.json")
	for f in $(jq -r '.files[].path' <<<"$m"); do
		m=$(jq --arg p "$f" --arg s "$(sha "$d/$f")" --argjson n "$(stat -c %s "$d/$f")" \
			'(.files[] | select(.path == $p)) |= (.sha256 = $s | .size = $n)' <<<"$m")
	done
	printf '%s\n' "$m" >"$d/manifest.json"
	(cd "$d" && tar -cf "$out" manifest.json $(ls -d images vms 2>/dev/null))
}

# refused TAR REGEX [own]: importing TAR into host B (under a name of its
# own, so that each case stands alone; with "own" under the manifest's)
# fails with REGEX on stderr and leaves no trace: no new image, VM or file.
nref=0
refused() {
	local before vms name=()
	[[ ${3:-} == own ]] || name=("h$((++nref))")
	before=$(cd "$B" && find images vms tmp -type f 2>/dev/null | sort | sha256sum)
	vms=$(VHDVISOR_STATE=$B vv vm list --json | jq length)
	expect_exit 1 env VHDVISOR_STATE=$B "$VHDVISOR" vm import "$1" "${name[@]}"
	assert_stderr "$2"
	assert_eq "$(cd "$B" && find images vms tmp -type f 2>/dev/null | sort | sha256sum)" \
		"$before" "files after refusing $(basename "$1")"
	assert_eq "$(VHDVISOR_STATE=$B vv vm list --json | jq length)" "$vms" \
		"VMs after $(basename "$1")"
}

# a host file no VM may read
head -c 16M /dev/urandom >"$T/secret.raw"

note "raw parents: the vhd tool only when asked"
"$VHD" create --parent "$T/secret.raw" "$T/onraw.vhd" >/dev/null
expect_exit 1 "$VHD" map "$T/onraw.vhd"
assert_stderr "raw file"
"$VHD" map --raw-parent "$T/onraw.vhd" >/dev/null
expect_exit 1 "$VHD" info "$T/onraw.vhd"
assert_stderr "raw file"
"$VHD" info --raw-parent "$T/onraw.vhd" | grep -q "secret.raw" || fail "info --raw-parent"
expect_exit 1 "$VHD" convert -O raw "$T/onraw.vhd" "$T/flat.raw"
assert_stderr "raw file"
"$VHD" convert -O raw --raw-parent "$T/onraw.vhd" "$T/flat.raw"
cmp "$T/flat.raw" "$T/secret.raw" || fail "convert --raw-parent reads the raw parent"
rm "$T/flat.raw"

note "image import: raw only with --format raw, whole sectors, .vhd must be VHD"
mkraw "$T/disk.raw" 16M
expect_exit 1 vv image import "$T/disk.raw" --name nope
assert_stderr "--format raw"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$T/passwd"
expect_exit 1 vv image import "$T/passwd" --format raw
assert_stderr "whole number of 512-byte sectors"
head -c 4096 /dev/urandom >"$T/junk.vhd"
expect_exit 1 vv image import "$T/junk.vhd"
assert_stderr "named .vhd but is not a VHD"
expect_exit 1 vv image import "$T/onraw.vhd"
assert_stderr "raw file|null parent UUID"
expect_exit 2 vv image import "$T/disk.raw" --format floppy
assert_eq "$(vv image list --json | jq length)" 0 "nothing imported"

note "host A: an image and a VM to export"
VHDVISOR_STATE=$A vv image import "$T/disk.raw" --format raw --name base >/dev/null
id=$(VHDVISOR_STATE=$A image_id base)
VHDVISOR_STATE=$A vv vm create web --from base >/dev/null
VHDVISOR_STATE=$A vv vm snapshot web s1 >/dev/null
VHDVISOR_STATE=$A vv vm export web --bundle "$T/vm.tar"
VHDVISOR_STATE=$A vv image export base --bundle "$T/img.tar"
VHDVISOR_STATE=$A vv image export base "$T/base.raw" --format raw
VHDVISOR_STATE=$A vv vm show web --json >"$T/webA.json"

note "host B: a victim VM with data of its own"
VHDVISOR_STATE=$B vv image import "$T/img.tar" >/dev/null
VHDVISOR_STATE=$B vv vm create victim --from base >/dev/null
vdisk=$(VHDVISOR_STATE=$B vv vm show victim --json | jq -r .disk)
printf 'victim-private-data' >"$T/vdata"
"$VHD" write "$vdisk" 4096 --from "$T/vdata" >/dev/null

mkdir "$T/x"
tar -C "$T/x" -xf "$T/vm.tar"
top=$(jq -r '.vm.top as $t | .vm.layers[] | select(.id == $t) | .file' "$T/x/manifest.json")
bottom=$(jq -r '.vm.layers[] | select(.parent == 0 or .parent == null) | .file' \
	"$T/x/manifest.json")

note "a layer whose parent locator names a host file"
cp -a "$T/x" "$T/h1"
rm "$T/h1/$bottom"
"$VHD" create --parent "$T/secret.raw" "$T/h1/$bottom" >/dev/null
rebundle "$T/h1" "$T/h1.tar"
refused "$T/h1.tar" "parent UUID|raw file"

note "a layer whose parent is another VM's disk (UUID and locator match it)"
cp -a "$T/x" "$T/h2"
rm "$T/h2/$bottom"
"$VHD" create --parent "$vdisk" "$T/h2/$bottom" >/dev/null
rebundle "$T/h2" "$T/h2.tar"
refused "$T/h2.tar" "parent UUID"

note "a layer with the image's UUID whose locators lead outside the state dir: relinked"
cp -a "$T/x" "$T/h3"
mkdir "$T/elsewhere"
cp "$B/images/$id.vhd" "$T/elsewhere/$id.vhd"   # same UUID, a file anyone may swap
rm "$T/h3/$bottom"
"$VHD" create --parent "$T/elsewhere/$id.vhd" "$T/h3/$bottom" >/dev/null
rm "$T/h3/$top"
"$VHD" create --parent "$T/h3/$bottom" "$T/h3/$top" >/dev/null
rm -f "$T/h3/images/$id.vhd"
jq '.files |= map(select(.path | startswith("images/") | not)) | .images = []' \
	"$T/h3/manifest.json" >"$T/m" && mv "$T/m" "$T/h3/manifest.json"
rebundle "$T/h3" "$T/h3.tar"
VHDVISOR_STATE=$B vv vm import "$T/h3.tar" h3 >/dev/null
d3=$(VHDVISOR_STATE=$B vv vm show h3 --json | jq -r .disk)
printf 'swapped' | dd of="$T/elsewhere/$id.vhd" bs=1 seek=1048576 conv=notrunc status=none
mv "$T/elsewhere" "$T/elsewhere.gone"
"$VHD" info "$d3" >"$T/i3"
grep -q "/images/$id.vhd" "$T/i3" && ! grep -q elsewhere "$T/i3" ||
	fail "h3 is not linked to the catalog's image: $(cat "$T/i3")"
vraw "$d3" "$T/h3.raw"
cmp -s "$T/h3.raw" "$T/base.raw" || fail "h3 reads other data than its image"
VHDVISOR_STATE=$B vv vm rm h3 >/dev/null

note "a damaged layer gets the same vhd check as an import"
cp -a "$T/x" "$T/h4"
printf '\xff\xff\xff\xf0' | dd of="$T/h4/$top" bs=1 seek=1536 conv=notrunc status=none
rebundle "$T/h4" "$T/h4.tar"
refused "$T/h4.tar" "damaged|past the end|BAT"

note "an image bundle whose image is a child of a raw file"
mkdir "$T/i"
tar -C "$T/i" -xf "$T/img.tar"
rm "$T/i/images/$id.vhd"
"$VHD" create --parent "$T/base.raw" "$T/i/images/$id.vhd" >/dev/null   # same content id
rebundle "$T/i" "$T/i.tar"
expect_exit 1 env VHDVISOR_STATE=$T/hostC "$VHDVISOR" image import "$T/i.tar"
assert_stderr "differencing"
assert_eq "$(VHDVISOR_STATE=$T/hostC vv image list --json | jq length)" 0 "no image on host C"

note "manifest fields are judged like command-line input"
bad_field() { # bad_field JQ-FILTER REGEX [own]
	rm -rf "$T/f"
	cp -a "$T/x" "$T/f"
	jq "$1" "$T/f/manifest.json" >"$T/m" && mv "$T/m" "$T/f/manifest.json"
	rebundle "$T/f" "$T/f.tar"
	refused "$T/f.tar" "$2" "${3:-}"
}
bad_field '.vm.cpus = -1' 'cpus'
bad_field '.vm.cpus = 4294967295' 'cpus'
bad_field '.vm.mem = 12345' 'mem'
bad_field '.vm.mac = "zz;rm -rf /"' 'bad MAC'
bad_field '.vm.uuid = "../../x"' 'bad UUID'
bad_field '.vm.machine_id = "x\ny"' 'machine-id|control'
bad_field '.vm.name = "../evil"' 'bad VM name' own
bad_field '.vm.snapshots[0].tag = "a\nb"' 'tag'
bad_field '.vm.snapshots[0].tag = "\u001b[31mred"' 'tag'
bad_field '.images[0].virtual_size = 1125899906842624' 'manifest says|virtual_size'
bad_field '.images[0].os = "x\u0007"' 'control'
bad_field '.images[0].boot = "uefi;reboot"' 'bad boot'
bad_field '.images[0].names = ["ok", "bad name"]' 'bad name'

note "the honest bundle still imports; a new name gets a new identity"
VHDVISOR_STATE=$B vv vm import "$T/vm.tar" >/dev/null
VHDVISOR_STATE=$B vv vm show web --json >"$T/webB.json"
for k in mac uuid machine_id; do
	assert_eq "$(jq -r .$k "$T/webB.json")" "$(jq -r .$k "$T/webA.json")" "$k kept under its own name"
done
expect_exit 1 env VHDVISOR_STATE=$B "$VHDVISOR" vm import "$T/vm.tar"
assert_stderr "--name NEW"
VHDVISOR_STATE=$B vv vm import "$T/vm.tar" --name web2 >/dev/null
VHDVISOR_STATE=$B vv vm show web2 --json >"$T/web2.json"
for k in mac uuid machine_id; do
	[[ $(jq -r .$k "$T/web2.json") != "$(jq -r .$k "$T/webA.json")" ]] ||
		fail "$k of the copy is the original's"
done
VHDVISOR_STATE=$B vv vm import "$T/vm.tar" web3 --keep-identity >/dev/null
for k in mac uuid machine_id; do
	assert_eq "$(VHDVISOR_STATE=$B vv vm show web3 --json | jq -r .$k)" \
		"$(jq -r .$k "$T/webA.json")" "$k kept with --keep-identity"
done
VHDVISOR_STATE=$B consistent

note "the VM's image here already, as another copy (another UUID): linked by content id"
D=$T/hostD
VHDVISOR_STATE=$D vv image import "$T/disk.raw" --format raw --name base >/dev/null
VHDVISOR_STATE=$D vv vm import "$T/vm.tar" >/dev/null
mv "$A" "$A.away"   # nothing of host A may be read
vraw "$(VHDVISOR_STATE=$D vv vm show web --json | jq -r .disk)" "$T/webD.raw"
mv "$A.away" "$A"
cmp -s "$T/webD.raw" "$T/base.raw" || fail "the VM on host D does not read its image"
VHDVISOR_STATE=$D consistent

note "catalog files are not read through symbolic links"
mv "$D/images/$id.vhd" "$T/img-moved.vhd"
ln -s "$T/img-moved.vhd" "$D/images/$id.vhd"
expect_exit 1 env VHDVISOR_STATE=$D "$VHDVISOR" image export base "$T/exp.raw" --format raw
assert_stderr "symbolic link"
expect_exit 1 env VHDVISOR_STATE=$D "$VHDVISOR" vm flatten web
assert_stderr "symbolic link"
rm "$D/images/$id.vhd"
mv "$T/img-moved.vhd" "$D/images/$id.vhd"
VHDVISOR_STATE=$D vv image export base "$T/exp.raw" --format raw
cmp -s "$T/exp.raw" "$T/base.raw" || fail "export after the link is gone"

note "vm disk add --file: a child of a host file is refused"
expect_exit 1 env VHDVISOR_STATE=$B "$VHDVISOR" vm disk add web --file "$T/onraw.vhd"
assert_stderr "differencing|raw file"
"$VHD" create --parent "$vdisk" "$T/onvm.vhd" >/dev/null
expect_exit 1 env VHDVISOR_STATE=$B "$VHDVISOR" vm disk add web --file "$T/onvm.vhd"
assert_stderr "differencing"
printf 'conectix' | dd of="$T/junk.vhd" bs=1 seek=0 conv=notrunc status=none
expect_exit 1 env VHDVISOR_STATE=$B "$VHDVISOR" vm disk add web --file "$T/junk.vhd"
assert_eq "$(VHDVISOR_STATE=$B vv vm disk list web --json | jq length)" 1 "only the boot disk"
"$VHD" create "$T/data.vhd" 4M >/dev/null
assert_eq "$(VHDVISOR_STATE=$B vv vm disk add web --file "$T/data.vhd")" "disk 1 of web" \
	"a standalone data disk"
