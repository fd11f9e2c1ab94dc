#!/bin/bash
# Images through vhdvisord: a VHD made by qemu-img uploaded in pieces (the
# first PUT broken off, resumed at the offset the server tells, a kill -9
# of the daemon mid-upload, resumed after the restart), its SHA-256 as
# sha256sum says and its content id computed while it arrives, committed with the checks of `image import` (the same
# content id as the CLI gives; qemu-img and vhdiinfo read the
# stored file); the file downloaded whole and by ranges, byte for byte; tag,
# chain (with an image derived from it), rm (409 while a VM or a derived
# image uses it); bad Content-Range, overlapping and
# gapped ranges, a file that is not a VHD, a cut-short VHD, a differencing
# VHD, a wrong SHA-256; one request at a time per upload (409 while a PUT
# runs); an 80 MiB body and a 64 MiB image pass with the daemon's peak RSS
# under 40 MiB; viewer and operator tokens get 403; `image gc` removes what
# a killed daemon left.
# timeout: 180
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl qemu-img vhdiinfo python3 sqlite3

partial_put() { python3 "$VV_ROOT/tests/integration/appliance/partial_put.py" "$SOCK" "$@"; }
# put ID FILE START [CURL ARGS]: the rest of FILE from START, with its Content-Range
put() {
	local id=$1 f=$2 start=$3 total
	shift 3
	total=$(stat -c %s "$f")
	tail -c +$((start + 1)) "$f" >"$T/piece"
	api PUT "/api/v1/images/uploads/$id" -H "Content-Type: application/octet-stream" \
		-H "Content-Range: bytes $start-$((total - 1))/$total" --data-binary @"$T/piece" "$@"
}
new_upload() {
	expect_status 200 "$(api POST /api/v1/images/uploads -d "${1:-{\}}")" "new upload"
	jq -r .id "$T/body"
}

note "a VHD made by qemu-img"
mkraw "$T/disk.raw" 24M
qemu-img convert -f raw -O vpc -o subformat=dynamic "$T/disk.raw" "$T/disk.vhd"
size=$(stat -c %s "$T/disk.vhd")
want_sha=$(sha "$T/disk.vhd")
a=$((size / 3)) b=$((size * 2 / 3))   # where the upload breaks off
daemon_start

note "upload, broken off after a third, resumed where the server says"
up=$(new_upload)
[[ $up =~ ^[0-9a-f]{32}$ ]] || fail "upload id: $up"
part=$VHDVISOR_STATE/tmp/$up.upload
assert_eq "$(stat -c %a "$part")" 600 "upload file mode"
partial_put "/api/v1/images/uploads/$up" "$T/disk.vhd" 0 $a "$part"
for _ in $(seq 1 100); do   # until the daemon has seen the connection end
	expect_status 200 "$(api GET "/api/v1/images/uploads/$up")" "upload state"
	[[ $(jq -r .busy "$T/body") == false ]] && break
	sleep 0.1
done
assert_eq "$(jq -r .offset "$T/body")" $a "offset after the break"
assert_eq "$(jq -r .sha256 "$T/body")" "$(head -c $a "$T/disk.vhd" | sha256sum | cut -d' ' -f1)" \
	"sha256 of the first third"
assert_eq "$(jq -r .content_id "$T/body")" null "no content id before the last block"

note "ranges that do not start at the offset: 409 with the offset"
expect_status 409 "$(put "$up" "$T/disk.vhd" 0)" "overlapping range"
assert_eq "$(jq -r .offset "$T/body")" $a "409 tells the offset"
expect_status 409 "$(put "$up" "$T/disk.vhd" $((a + 512)))" "a gap"
expect_status 409 "$(api PUT "/api/v1/images/uploads/$up" --data-binary @"$T/disk.vhd")" \
	"no Content-Range: from 0, which the upload is past"
for cr in "bytes 9-3/100" "bytes=0-1/2" "lines 0-1/2" "bytes 0-1/1" "bytes -1-4/9" "bytes 0-x/9"; do
	expect_status 400 "$(api PUT "/api/v1/images/uploads/$up" -H "Content-Range: $cr" \
		--data-binary x)" "Content-Range '$cr'"
done
expect_status 400 "$(api PUT "/api/v1/images/uploads/$up" \
	-H "Content-Range: bytes $a-$a/*" -H "Transfer-Encoding: chunked" --data-binary xyz)" \
	"chunked body longer than its range"
expect_status 404 "$(api PUT /api/v1/images/uploads/0123456789abcdef0123456789abcdef --data-binary x)" \
	"no such upload"
expect_status 404 "$(api GET /api/v1/images/uploads/nosuch)" "bad upload id"
expect_status 400 "$(api PUT "/api/v1/images/uploads/..%2Fx" --data-binary x)" "upload id with a slash"
expect_status 200 "$(api GET "/api/v1/images/uploads/$up")" "state kept"
assert_eq "$(jq -r .offset "$T/body")" $a "offset unchanged by refused PUTs"

note "one request at a time per upload: 409 while a PUT runs"
partial_put "/api/v1/images/uploads/$up" "$T/disk.vhd" $a 4096 "$part" "$T/release" &
pp=$!
for _ in $(seq 1 600); do
	(($(stat -c %s "$part") >= a + 4096)) && break
	sleep 0.05
done
expect_status 409 "$(put "$up" "$T/disk.vhd" $((a + 4096)))" "a second PUT"
grep -q busy "$T/body" || fail "409 says busy: $(cat "$T/body")"
expect_status 409 "$(api POST "/api/v1/images/uploads/$up/commit")" "commit while a PUT runs"
expect_status 409 "$(api DELETE "/api/v1/images/uploads/$up")" "abandon while a PUT runs"
expect_status 200 "$(api GET "/api/v1/images/uploads/$up")" "state while a PUT runs"
assert_eq "$(jq -r '[.busy, .offset] | join(" ")' "$T/body")" "true $((a + 4096))" "busy state"
touch "$T/release"
wait "$pp" || fail "partial PUT"
for _ in $(seq 1 100); do
	expect_status 200 "$(api GET "/api/v1/images/uploads/$up")" "upload state"
	[[ $(jq -r .busy "$T/body") == false ]] && break
	sleep 0.1
done
a=$((a + 4096))

note "kill -9 of the daemon in the middle of a PUT, resumed after the restart"
partial_put "/api/v1/images/uploads/$up" "$T/disk.vhd" $a $((b - a)) "$part" &
pp=$!
for _ in $(seq 1 600); do
	(($(stat -c %s "$part") >= b)) && break
	sleep 0.05
done
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
wait "$pp" || fail "partial PUT"
consistent
daemon_start
assert_eq "$(stat -c %s "$part")" $b "bytes kept through kill -9"
# a PUT first (the new daemon hashes what is there again), then the offset
# as the server tells it, then the rest
dd if="$T/disk.vhd" of="$T/piece" iflag=skip_bytes,count_bytes skip=$b count=4096 status=none
expect_status 200 "$(api PUT "/api/v1/images/uploads/$up" --data-binary @"$T/piece" \
	-H "Content-Range: bytes $b-$((b + 4095))/$size")" "a piece right after the restart"
assert_eq "$(jq -r .sha256 "$T/body")" "$(head -c $((b + 4096)) "$T/disk.vhd" | sha256sum | cut -d' ' -f1)" \
	"sha256 after the restart"
expect_status 200 "$(api GET "/api/v1/images/uploads/$up")" "upload after the restart"
off=$(jq -r .offset "$T/body")
assert_eq "$off" $((b + 4096)) "offset after kill -9 and a piece"
expect_status 200 "$(put "$up" "$T/disk.vhd" "$off")" "the rest"
assert_eq "$(jq -r .offset "$T/body")" "$size" "offset at the end"
assert_eq "$(jq -r .sha256 "$T/body")" "$want_sha" "sha256 of the whole upload"
streamed_id=$(jq -r .content_id "$T/body")
[[ $streamed_id =~ ^[0-9a-f]{64}$ ]] || fail "content id computed on the way: $(cat "$T/body")"
cmp "$part" "$T/disk.vhd" || fail "the upload differs from the file"

note "commit"
# the event stream sees the image added (here) and removed (below)
curl -sS -N --unix-socket "$SOCK" -o "$T/ev" http://localhost/api/v1/events 2>/dev/null &
EVP=$!
at_exit "kill $EVP"
for _ in $(seq 1 50); do [[ -e $T/ev ]] && break; sleep 0.1; done
sleep 0.3
expect_status 400 "$(api POST "/api/v1/images/uploads/$up/commit" -d '{"name":"a/b"}')" "bad name"
expect_status 400 "$(api POST "/api/v1/images/uploads/$up/commit" \
	-d "{\"sha256\":\"$(printf '%064d' 0)\"}")" "wrong sha256"
[[ -f $part ]] || fail "a wrong sha256 lost the upload"
expect_status 200 "$(api POST "/api/v1/images/uploads/$up/commit" \
	-d "{\"name\":\"up:1\",\"os\":\"linux\",\"sha256\":\"$want_sha\"}")" "commit"
id=$(jq -r .id "$T/body")
assert_eq "$id" "$streamed_id" "the content id computed while receiving is the import's"
assert_eq "$(jq -r '.names | join(",")' "$T/body")" "up:1" "names"
assert_eq "$(jq -r .upload_sha256 "$T/body")" "$want_sha" "upload sha256 in the reply"
[[ -e $part ]] && fail "upload file left after commit"
expect_status 404 "$(api GET "/api/v1/images/uploads/$up")" "upload gone after commit"
stored=$VHDVISOR_STATE/images/$id.vhd
assert_eq "$(stat -c %a "$stored")" 600 "stored file mode"
qsize() {
	qemu-img info --output=json --image-opts \
		"driver=vpc,force_size_calc=current_size,file.filename=$1" | jq '.["virtual-size"]'
}
assert_eq "$(qsize "$stored")" "$(qsize "$T/disk.vhd")" "qemu-img info: virtual size"
vhdiinfo "$stored" >"$T/vhdiinfo" || fail "vhdiinfo"
grep -q "Dynamic" "$T/vhdiinfo" || fail "vhdiinfo: $(cat "$T/vhdiinfo")"
qraw "$stored" "$T/stored.raw"
qraw "$T/disk.vhd" "$T/uploaded.raw"
cmp "$T/stored.raw" "$T/uploaded.raw" || fail "stored content differs from the uploaded disk"
cmp -n $((24 << 20)) "$T/stored.raw" "$T/disk.raw" || fail "stored content differs from the raw disk"
vv image import "$T/disk.vhd" --name cli >/dev/null
assert_eq "$(image_id cli)" "$id" "same content id as the CLI's import"
consistent

note "download: whole, ranges, Content-Length"
st=$(curl -sS --unix-socket "$SOCK" -D "$T/hdr" -o "$T/dl" -w '%{http_code}' \
	"http://localhost/api/v1/images/up:1/file")
assert_eq "$st" 200 "download"
cmp "$T/dl" "$stored" || fail "downloaded bytes differ"
fsize=$(stat -c %s "$stored")
grep -qi "^content-length: $fsize\s*$" "$T/hdr" || fail "content length: $(cat "$T/hdr")"
grep -qi "^content-type: application/octet-stream" "$T/hdr" || fail "content type"
grep -qi "^accept-ranges: bytes" "$T/hdr" || fail "accept-ranges"
ranged() { # RANGE OFF LEN
	st=$(curl -sS --unix-socket "$SOCK" -D "$T/hdr" -o "$T/dl" -w '%{http_code}' \
		-H "Range: $1" "http://localhost/api/v1/images/$id/file")
	assert_eq "$st" 206 "range $1"
	cmp "$T/dl" <(tail -c +$(($2 + 1)) "$stored" | head -c "$3") || fail "bytes of $1"
	grep -qi "^content-range: bytes $2-$(($2 + $3 - 1))/$fsize\s*$" "$T/hdr" ||
		fail "content-range of $1: $(cat "$T/hdr")"
	grep -qi "^content-length: $3\s*$" "$T/hdr" || fail "content-length of $1"
}
ranged "bytes=1000-70999" 1000 70000
ranged "bytes=-512" $((fsize - 512)) 512
ranged "bytes=$((fsize - 100))-" $((fsize - 100)) 100
ranged "bytes=5-$((fsize + 1000))" 5 $((fsize - 5))
st=$(curl -sS --unix-socket "$SOCK" -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
	-H "Range: bytes=$fsize-" "http://localhost/api/v1/images/$id/file")
expect_status 416 "$st" "range past the end"
grep -qi "^content-range: bytes \*/$fsize" "$T/hdr" || fail "416 content-range"
st=$(curl -sS --unix-socket "$SOCK" -o "$T/dl" -w '%{http_code}' -H "Range: bytes=0-1,5-9" \
	"http://localhost/api/v1/images/$id/file")
assert_eq "$st" 200 "several ranges: the whole file"
cmp "$T/dl" "$stored" || fail "several ranges: bytes"
expect_status 404 "$(api GET /api/v1/images/nosuch/file)" "file of a missing image"

note "memory: an 80 MiB body and a 64 MiB image go through without being held"
head -c 80M /dev/zero >"$T/zeros"
up=$(new_upload)
expect_status 200 "$(put "$up" "$T/zeros" 0)" "80 MiB upload"
expect_status 200 "$(api DELETE "/api/v1/images/uploads/$up")" "abandon it"
head -c 64M /dev/urandom >"$T/big.raw"
qemu-img convert -f raw -O vpc -o subformat=dynamic "$T/big.raw" "$T/big.vhd"
up=$(new_upload)
expect_status 200 "$(put "$up" "$T/big.vhd" 0)" "64 MiB VHD"
streamed_id=$(jq -r .content_id "$T/body")
expect_status 200 "$(api POST "/api/v1/images/uploads/$up/commit")" "commit it"
bid=$(jq -r .id "$T/body")
assert_eq "$bid" "$streamed_id" "64 MiB: the content id computed while receiving"
expect_status 200 "$(api GET "/api/v1/images/$bid/file")" "download it"
cmp "$T/body" "$VHDVISOR_STATE/images/$bid.vhd" || fail "64 MiB download"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
((hwm < 40 << 10)) || fail "the daemon's peak RSS is $hwm KiB"
expect_status 200 "$(api DELETE "/api/v1/images/$bid")" "rm it"
rm -f "$T/zeros" "$T/big.raw" "$T/big.vhd"

note "tag, chain, rm"
expect_status 200 "$(api POST "/api/v1/images/$id/tag" -d '{"name":"web"}')" "tag"
assert_eq "$(jq -r .version "$T/body")" 1 "next version"
assert_eq "$(image_id web:1)" "$id" "the CLI sees the tag"
expect_status 400 "$(api POST "/api/v1/images/$id/tag" -d '{"name":"../x"}')" "bad tag"
expect_status 400 "$(api POST "/api/v1/images/$id/tag" -d '{}')" "tag without a name"
expect_status 404 "$(api POST /api/v1/images/nosuch/tag -d '{"name":"x"}')" "tag a missing image"
vv vm create v1 --from up:1 >/dev/null
expect_status 200 "$(api GET /api/v1/images/web/chain)" "chain"
assert_eq "$(jq -r '[.id, (.chain | length), .chain[0].id, (.vms | join(",")),
	(.children | length)] | join(" ")' "$T/body")" "$id 1 $id v1 0" "chain"
expect_status 409 "$(api DELETE "/api/v1/images/$id")" "rm while a VM uses it"
grep -q v1 "$T/body" || fail "409 names the VM: $(cat "$T/body")"
[[ -f $stored ]] || fail "a refused rm removed the file"
note "an image derived from it: in its chain, and rm refused while it is there"
printf 'written' >"$T/m"
"$VHD" write "$(vv vm show v1 --json | jq -r .disk)" 1048576 --from "$T/m" >/dev/null
vv vm clone v1 v2 >/dev/null   # captures v1's disk as an image derived from up:1
kid=$(vv vm show v2 --json | jq -r .image)
[[ $kid != "$id" ]] || fail "v1's written disk was not captured"
expect_status 200 "$(api GET "/api/v1/images/$kid/chain")" "chain of the derived image"
assert_eq "$(jq -r '[.chain[].id] | join(" ")' "$T/body")" "$kid $id" "derived chain, parent last"
expect_status 200 "$(api GET "/api/v1/images/$id/chain")" "chain of the parent"
assert_eq "$(jq -r '.children | join(" ")' "$T/body")" "$kid" "children"
vv vm rm v1 >/dev/null
vv vm rm v2 >/dev/null
expect_status 409 "$(api DELETE "/api/v1/images/$id")" "rm while an image derives from it"
expect_status 200 "$(api DELETE "/api/v1/images/$kid")" "rm the derived image"
expect_status 200 "$(api DELETE /api/v1/images/web:1)" "rm"
[[ -e $stored ]] && fail "file left after rm"
expect_status 404 "$(api GET "/api/v1/images/$id")" "gone"
expect_status 404 "$(api DELETE "/api/v1/images/$id")" "rm twice"
for _ in $(seq 1 50); do
	sed -n 's/^data: //p' "$T/ev" | jq -e -s --arg id "$id" \
		'any(.[]; .type == "image.removed" and .id == $id)' >/dev/null && break
	sleep 0.1
done
kill "$EVP" 2>/dev/null || true
assert_eq "$(sed -n 's/^data: //p' "$T/ev" | jq -r --arg id "$id" \
	'select(.id == $id and (.type | startswith("image."))) | .type' | tr '\n' ' ')" \
	"image.added image.removed " "events of the uploaded image"

note "uploads that are not images"
up=$(new_upload)
head -c 1M /dev/urandom >"$T/junk"
expect_status 200 "$(put "$up" "$T/junk" 0)" "junk upload"
assert_eq "$(jq -r .content_id "$T/body")" null "no content id for junk"
expect_status 400 "$(api POST "/api/v1/images/uploads/$up/commit" -d '{"name":"junk"}')" "not a VHD"
grep -q "not a VHD" "$T/body" || fail "reason: $(cat "$T/body")"
expect_status 404 "$(api GET "/api/v1/images/uploads/$up")" "a refused upload is removed"
up=$(new_upload)
head -c $((size - 4096)) "$T/disk.vhd" >"$T/short.vhd"
expect_status 200 "$(put "$up" "$T/short.vhd" 0)" "cut-short upload"
expect_status 400 "$(api POST "/api/v1/images/uploads/$up/commit")" "cut-short VHD"
"$VHD" create "$T/base.vhd" 8M >/dev/null
"$VHD" snapshot "$T/base.vhd" "$T/child.vhd" >/dev/null
up=$(new_upload)
expect_status 200 "$(put "$up" "$T/child.vhd" 0)" "differencing upload"
expect_status 400 "$(api POST "/api/v1/images/uploads/$up/commit")" "differencing VHD"
grep -q "differencing" "$T/body" || fail "reason: $(cat "$T/body")"
up=$(new_upload)
expect_status 400 "$(api POST "/api/v1/images/uploads/$up/commit")" "empty upload"
expect_status 200 "$(api DELETE "/api/v1/images/uploads/$up")" "abandon"
[[ -e $VHDVISOR_STATE/tmp/$up.upload ]] && fail "abandoned upload left"
expect_status 400 "$(api POST /api/v1/images/uploads -d '{"size":"-1"}')" "bad size"
expect_status 507 "$(api POST /api/v1/images/uploads -d '{"size":"999999999999999999"}')" "size too large"
# up:1 and cli:1 were one image, removed above; the refused uploads added none
assert_eq "$(vv image list --json | jq length)" 0 "images left"

note "tokens: viewer and operator may not upload or remove"
daemon_stop
view=$(vv token create ro --role viewer 2>/dev/null)
op=$(vv token create ops --role operator 2>/dev/null)
adm=$(vv token create boss --role admin 2>/dev/null)
daemon_start --listen 127.0.0.1:0
vv image import "$T/disk.vhd" --name cli >/dev/null
cid=$(image_id cli)
expect_status 403 "$(tapi "$view" POST /api/v1/images/uploads -d '{}')" "viewer upload"
expect_status 403 "$(tapi "$op" POST /api/v1/images/uploads -d '{}')" "operator upload"
expect_status 200 "$(tapi "$adm" POST /api/v1/images/uploads -d '{}')" "admin upload"
up=$(jq -r .id "$T/body")
expect_status 403 "$(tapi "$op" PUT "/api/v1/images/uploads/$up" --data-binary x)" "operator PUT"
expect_status 401 "$(tapi "" PUT "/api/v1/images/uploads/$up" --data-binary x)" "PUT without a token"
st=$(tapi "$adm" PUT "/api/v1/images/uploads/$up" -H "Content-Type: application/octet-stream" \
	--data-binary @"$T/disk.vhd")
expect_status 200 "$st" "admin PUT over TLS"
assert_eq "$(jq -r .sha256 "$T/body")" "$want_sha" "sha256 over TLS"
expect_status 403 "$(tapi "$view" POST "/api/v1/images/uploads/$up/commit")" "viewer commit"
expect_status 403 "$(tapi "$op" DELETE "/api/v1/images/uploads/$up")" "operator abandon"
expect_status 403 "$(tapi "$op" DELETE "/api/v1/images/$cid")" "operator rm"
expect_status 403 "$(tapi "$view" POST "/api/v1/images/$cid/tag" -d '{"name":"x"}')" "viewer tag"
expect_status 200 "$(tapi "$view" GET "/api/v1/images/$cid/chain")" "viewer chain"
st=$(curl -sS --cacert "$VHDVISOR_STATE/tls/cert.pem" -H "Authorization: Bearer $view" \
	-H "Range: bytes=512-1535" -o "$T/dl" -w '%{http_code}' "$URL/api/v1/images/$cid/file")
assert_eq "$st" 206 "viewer ranged download over TLS"
cmp "$T/dl" <(tail -c +513 "$VHDVISOR_STATE/images/$cid.vhd" | head -c 1024) || fail "TLS range bytes"
grep -q " token:boss PUT /api/v1/images/uploads/$up 200$" "$VHDVISOR_STATE/audit.log" ||
	fail "PUT not audited: $(tail -5 "$VHDVISOR_STATE/audit.log")"
grep -q " token:ops PUT /api/v1/images/uploads/$up 403$" "$VHDVISOR_STATE/audit.log" ||
	fail "refused PUT not audited"

note "gc removes an upload a killed daemon left"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
[[ -f $VHDVISOR_STATE/tmp/$up.upload ]] || fail "the upload should still be there"
vv image gc >/dev/null
consistent clean
true
