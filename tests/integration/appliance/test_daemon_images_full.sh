#!/bin/bash
# Image uploads on a full disk (the state directory on a 16 MiB tmpfs): a
# declared size or a Content-Length larger than the free space is refused
# with 507 before a byte is read, a chunked body that fills the disk gets
# 507 in the middle, and a commit whose copy does not fit gets 507; each
# time the upload (or the copy) is gone, the catalog is as it was and the
# daemon goes on serving; a small upload afterwards works.
# timeout: 120
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl
mkdir -p "$T/small"
mount -t tmpfs -o size=16M,mode=0700 tmpfs "$T/small" 2>/dev/null || skip "cannot mount a tmpfs here"
at_exit umount -l "$T/small"
export VHDVISOR_STATE=$T/small/state

# new_upload: a new upload, its id in $up
new_upload() {
	expect_status 200 "$(api POST /api/v1/images/uploads -d '{}')" "new upload"
	up=$(jq -r .id "$T/body")
}
# put BODY-FILE [CURL ARGS]: BODY-FILE as the data of upload $up
put() {
	local f=$1
	shift
	api PUT "/api/v1/images/uploads/$up" -H "Content-Type: application/octet-stream" \
		--data-binary @"$f" "$@"
}
nothing_left() {
	assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "$1: files left in tmp"
	assert_eq "$(nfiles "$VHDVISOR_STATE/images")" "${2:-0}" "$1: images"
	expect_status 404 "$(api GET "/api/v1/images/uploads/$up")" "$1: upload gone"
	expect_status 200 "$(api GET /api/v1/host)" "$1: the daemon serves"
	consistent
}

daemon_start
free=$(api GET /api/v1/host >/dev/null; jq .storage.free "$T/body")
((free <= 16 << 20)) || fail "free space $free"

note "a declared size that does not fit"
expect_status 507 "$(api POST /api/v1/images/uploads -d "{\"size\":\"$((32 << 20))\"}")" "size"
assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "nothing made"

note "a Content-Length that does not fit: 507 before the body"
head -c 32M /dev/urandom >"$T/big"
new_upload
expect_status 507 "$(put "$T/big")" "Content-Length over the free space"
nothing_left "Content-Length"

note "a chunked body that fills the disk"
new_upload
expect_status 507 "$(put "$T/big" -H "Transfer-Encoding: chunked")" "full disk"
grep -q "disk is full" "$T/body" || fail "reason: $(cat "$T/body")"
nothing_left "chunked"

note "a commit whose copy does not fit"
"$VHD" create "$T/half.vhd" 16M >/dev/null
"$VHD" write "$T/half.vhd" 0 --from <(head -c 9M /dev/urandom) >/dev/null
new_upload
expect_status 200 "$(put "$T/half.vhd")" "a 9 MiB VHD fits"
expect_status 507 "$(api POST "/api/v1/images/uploads/$up/commit" -d '{"name":"half"}')" "its copy does not"
assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 1 "only the upload is left"
assert_eq "$(vv image list --json | jq length)" 0 "no image"
expect_status 200 "$(api DELETE "/api/v1/images/uploads/$up")" "abandon"
nothing_left "commit"

note "a small upload works afterwards"
"$VHD" create "$T/small.vhd" 4M >/dev/null
"$VHD" write "$T/small.vhd" 0 --pattern 7 --length 65536 >/dev/null
new_upload
expect_status 200 "$(put "$T/small.vhd")" "small upload"
expect_status 200 "$(api POST "/api/v1/images/uploads/$up/commit" -d '{"name":"small"}')" "commit"
nothing_left "small" 1
daemon_stop
