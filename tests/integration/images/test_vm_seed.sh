#!/bin/bash
# Cloud-init NoCloud seed: `vm set --cloud-init on` makes `vm start` build
# an ISO9660 volume labelled cidata in the run folder (meta-data with the
# VM's SMBIOS UUID as instance-id and its name as local-hostname;
# user-data setting the hostname and /etc/machine-id) and attach it
# read-only after the data disks; the guest reads it as /dev/vdb. One boot.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64 genisoimage isoinfo blkid
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || skip "guest material cannot be built here"
[[ -e $G/vmlinux && -e $G/initrd.img ]] || skip "no guest kernel/initrd in $G"
export PATH=$VV_BUILD/bin:$PATH

truncate -s 32M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create ci --from tmpl --mem 256M >/dev/null
assert_eq "$(vv vm show ci --json | jq .cloud_init)" false "off by default"
expect_exit 2 vv vm set ci --cloud-init maybe
vv vm set ci --cloud-init on
assert_eq "$(vv vm show ci --json | jq .cloud_init)" true "turned on"

at_exit '"$VHDVISOR" vm stop ci'
vv vm start ci --kernel "$G/vmlinux" --initrd "$G/initrd.img" \
	--append "vv.run=read:vdb:0:64,poweroff" >/dev/null
for _ in $(seq 1 240); do
	vv vm status ci --json | jq -e '.running == false' >/dev/null && break
	sleep 1
done
assert_eq "$(vv vm status ci --json | jq .running)" false "powered off"
iso=$VHDVISOR_RUN/ci.seed.iso
[[ -f $iso ]] || fail "no seed in the run folder"
vv vm console ci >"$T/console"
want=$(head -c 65536 "$iso" | sha256sum | cut -d' ' -f1)
grep -aq "^VV-READ-SHA=$want" "$T/console" || { tail -20 "$T/console"; fail "the guest's vdb is not the seed"; }

assert_eq "$(blkid -o value -s LABEL "$iso")" cidata "volume label"
uuid=$(vv vm show ci --json | jq -r .uuid)
mid=$(vv vm show ci --json | jq -r .machine_id)
isoinfo -R -i "$iso" -x /meta-data >"$T/meta"
isoinfo -R -i "$iso" -x /user-data >"$T/user"
grep -qx "instance-id: $uuid" "$T/meta" || { cat "$T/meta"; fail "instance-id"; }
grep -qx "local-hostname: ci" "$T/meta" || fail "local-hostname"
assert_eq "$(head -1 "$T/user")" "#cloud-config" "user-data header"
grep -qx "hostname: ci" "$T/user" || { cat "$T/user"; fail "user-data hostname"; }
grep -q "path: /etc/machine-id" "$T/user" || fail "user-data machine-id path"
grep -q "content: \"$mid\\\\n\"" "$T/user" || { cat "$T/user"; fail "user-data machine-id"; }

vv vm set ci --cloud-init off
assert_eq "$(vv vm show ci --json | jq .cloud_init)" false "turned off"
