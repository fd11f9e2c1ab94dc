#!/bin/bash
# Cloud-init as image metadata: `image import --cloud-init` and `image set
# IMAGE --cloud-init on|off` mark an image, `image show` (text and JSON)
# says so, bundles carry the mark (and bundles from before it import as
# unmarked), a version-3 catalog is upgraded to 4 with its images
# unmarked. VMs made from a marked image by `vm create`, `vm clone` and
# `lab create` have cloud_init on (and `vm set --cloud-init off` still
# turns it off); VMs of an unmarked image have it off. One boot of each
# kind: the cloud-init VM gets its NoCloud seed (the guest reads it as
# /dev/vdb), the other none.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq sqlite3 tar
db=$VHDVISOR_STATE/catalog.db

truncate -s 32M "$T/tmpl.raw"
mkraw "$T/plain.raw" 16M

note "a version-3 catalog is upgraded"
vv image import "$T/plain.raw" --format raw --name plain >/dev/null
sqlite3 "$db" 'ALTER TABLE images DROP COLUMN cloud_init; PRAGMA user_version = 3'
assert_eq "$(vv image show plain --json | jq .cloud_init)" false "old image unmarked"
assert_eq "$(sqlite3 "$db" 'PRAGMA user_version')" 4 "schema version"
assert_eq "$(sqlite3 "$db" 'SELECT count(*) FROM pragma_table_info("images")
	WHERE name = "cloud_init"')" 1 "images.cloud_init column"

note "marking images"
vv image import "$T/tmpl.raw" --format raw --name ci --cloud-init --json >"$T/imp.json"
assert_eq "$(jq .cloud_init "$T/imp.json")" true "import --cloud-init"
assert_eq "$(vv image show ci --json | jq .cloud_init)" true "show --json"
vv image show ci | grep -Eq '^cloud_init +true$' || fail "show (text) lacks cloud_init true"
vv image show plain | grep -Eq '^cloud_init +false$' || fail "show (text) lacks cloud_init false"
assert_eq "$(vv image list --json | jq -c '[.[] | .cloud_init]')" '[false,true]' "list --json"
vv image set plain --cloud-init on
assert_eq "$(vv image show plain --json | jq .cloud_init)" true "set on"
vv image set plain --cloud-init off
assert_eq "$(vv image show plain --json | jq .cloud_init)" false "set off"
expect_exit 2 vv image set plain --cloud-init maybe
assert_stderr "on or off"
expect_exit 2 vv image set plain
expect_exit 1 vv image set nosuch --cloud-init on
assert_stderr "no image"

note "VMs inherit the mark"
vv vm create c1 --from ci >/dev/null
vv vm create p1 --from plain >/dev/null
assert_eq "$(vv vm show c1 --json | jq .cloud_init)" true "vm create of a cloud-init image"
assert_eq "$(vv vm show p1 --json | jq .cloud_init)" false "vm create of a plain image"
vv vm set c1 --cloud-init off
assert_eq "$(vv vm show c1 --json | jq .cloud_init)" false "vm set --cloud-init off"
vv vm clone c1 c2 >/dev/null
assert_eq "$(vv vm show c2 --json | jq .cloud_init)" true "clone of a cloud-init image's VM"
vv vm clone p1 p2 >/dev/null
assert_eq "$(vv vm show p2 --json | jq .cloud_init)" false "clone of a plain image's VM"
printf 'written' >"$T/m"
"$VHD" write "$(vv vm show c1 --json | jq -r .disk)" 1048576 --from "$T/m" >/dev/null
vv vm clone c1 c3 >/dev/null   # captures c1's disk as an image derived from ci
cap=$(vv vm show c3 --json | jq -r .image)
[[ $cap != "$(image_id ci)" ]] || fail "c1's written disk was not captured"
assert_eq "$(vv image show "$cap" --json | jq .cloud_init)" true "derived image marked"
assert_eq "$(vv vm show c3 --json | jq .cloud_init)" true "clone through a derived image"
vv lab create lab --from ci --count 2 >/dev/null
for v in lab-1 lab-2; do
	assert_eq "$(vv vm show $v --json | jq .cloud_init)" true "lab create: $v"
done

note "bundles carry the mark"
vv image export ci --bundle "$T/ci.tar"
vv image export plain --bundle "$T/plain.tar"
B=$T/hostB
VHDVISOR_STATE=$B vv image import "$T/ci.tar" >/dev/null
VHDVISOR_STATE=$B vv image import "$T/plain.tar" >/dev/null
assert_eq "$(VHDVISOR_STATE=$B vv image show ci --json | jq .cloud_init)" true "marked on host B"
assert_eq "$(VHDVISOR_STATE=$B vv image show plain --json | jq .cloud_init)" false \
	"unmarked on host B"
vv vm export c2 --bundle "$T/c2.tar"
VHDVISOR_STATE=$B vv vm import "$T/c2.tar" >/dev/null
assert_eq "$(VHDVISOR_STATE=$B vv vm show c2 --json | jq .cloud_init)" true "VM's flag on host B"
# a bundle written before the mark existed (no cloud_init keys) imports;
# its VM gets the image's mark on the host it lands on
mkdir "$T/old"
tar -C "$T/old" -xf "$T/c2.tar"
jq 'del(.images[].cloud_init) | del(.vm.cloud_init)' "$T/old/manifest.json" >"$T/man"
mv "$T/man" "$T/old/manifest.json"
(cd "$T/old" && tar -cf "$T/old.tar" manifest.json images vms)
C=$T/hostC
VHDVISOR_STATE=$C vv image import "$T/old.tar" >/dev/null
assert_eq "$(VHDVISOR_STATE=$C vv image show ci --json | jq .cloud_init)" false "old bundle's image"
assert_eq "$(VHDVISOR_STATE=$C vv vm show c2 --json | jq .cloud_init)" false "old bundle's VM"
consistent

note "the seed at start"
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || G=
if [[ -z $G || ! -e $G/vmlinux ]] || ! command -v qemu-system-x86_64 >/dev/null ||
	! command -v genisoimage >/dev/null; then
	skip "no guest material, QEMU or genisoimage here (everything before the boot passed)"
fi
export PATH=$VV_BUILD/bin:$PATH
vv vm set c1 --cloud-init on
boot() { # boot VM: runs the guest until it powers off after reading vdb
	at_exit "'$VHDVISOR' vm stop $1"
	vv vm start "$1" --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
		--append "vv.run=read:vdb:0:64,poweroff" >/dev/null
	for _ in $(seq 1 240); do
		vv vm status "$1" --json | jq -e '.running == false' >/dev/null && break
		sleep 1
	done
	assert_eq "$(vv vm status "$1" --json | jq .running)" false "$1 powered off"
	vv vm console "$1" >"$T/$1.console"
}
boot c1
iso=$VHDVISOR_RUN/c1.seed.iso
[[ -f $iso ]] || fail "no seed for the cloud-init VM"
want=$(head -c 65536 "$iso" | sha256sum | cut -d' ' -f1)
grep -aq "^VV-READ-SHA=$want" "$T/c1.console" || { tail -20 "$T/c1.console"; fail "c1's vdb is not its seed"; }
if command -v isoinfo >/dev/null; then
	isoinfo -R -i "$iso" -x /meta-data >"$T/meta"
	grep -qx "instance-id: $(vv vm show c1 --json | jq -r .uuid)" "$T/meta" ||
		{ cat "$T/meta"; fail "seed instance-id"; }
fi
boot p1
[[ ! -e $VHDVISOR_RUN/p1.seed.iso ]] || fail "a seed for the plain image's VM"
# no /dev/vdb: the guest hashes nothing
empty=$(sha256sum </dev/null | cut -d' ' -f1)
grep -aq "^VV-READ-SHA=$empty" "$T/p1.console" ||
	{ tail -20 "$T/p1.console"; fail "p1 has a /dev/vdb, or its guest did not run"; }
exit 0
