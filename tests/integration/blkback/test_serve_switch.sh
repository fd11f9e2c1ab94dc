#!/bin/bash
# timeout: 400
# `vhd serve --control`: live switches of an export's top layer to a new
# differencing child while clients write (a streaming qemu-img writer with
# 16 requests in flight; fio random writes at iodepth 16 with its own
# verification), then the chain is checked (data equals the source, every
# layer holds some of it and passes vhd check and vhdiinfo, parent links,
# no timestamp warning; the flattened chain compared by qemu-img).
# Refused switches leave the export serving its old top; malformed
# requests get error replies; SIGTERM after switches exits 0.
#
# Children of a served top are made with vhd_create() and a parent opened
# without a lock (the export holds the top's exclusive lock, so `vhd
# snapshot` would be refused): the mkchild helper below.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-img qemu-io nbdcopy socat jq gcc

S=$T/nbd.sock
C=$T/ctl.sock

cat >"$T/mkchild.c" <<'EOF'
/* mkchild PARENT CHILD: a differencing child of a parent in use */
#include <stdio.h>
#include "vhd/vhd.h"
int main(int argc, char **argv)
{
	struct vhd_open_opts po = { .flags = VHD_OPEN_NOLOCK };
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF, .parent_opts = &po };

	if (argc != 3)
		return 2;
	co.parent = argv[1];
	if (vhd_create(argv[2], &co)) {
		fprintf(stderr, "mkchild: %s\n", vhd_last_error());
		return 1;
	}
	return 0;
}
EOF
# shellcheck disable=SC2086
gcc $VV_SAN -I"$VV_ROOT" -D_GNU_SOURCE -o "$T/mkchild" "$T/mkchild.c" \
	"$VV_BUILD/lib/libvhd.a" -pthread || fail "cannot build mkchild"
mkchild() { "$T/mkchild" "$1" "$2" || fail "mkchild $2 failed"; }

# ctl JSON: one request on a new control connection; prints the reply line.
ctl() { printf '%s\n' "$1" | socat -t 60 -T 60 - "UNIX-CONNECT:$C"; }
# ctl_ok JSON: the reply must say ok; prints it.
ctl_ok() {
	local r
	r=$(ctl "$1") || fail "control: no reply to $1"
	[[ $(jq -r .ok <<<"$r") == true ]] || fail "control: $1 -> $r"
	echo "$r"
}
# ctl_err JSON REGEX: the reply must be an error matching REGEX.
ctl_err() {
	local r
	r=$(ctl "$1") || fail "control: no reply to $1"
	[[ $(jq -r .ok <<<"$r") == false ]] || fail "control: $1 was not refused: $r"
	jq -r .error <<<"$r" | grep -Eq -- "$2" || fail "control: $1 -> $r, want /$2/"
}
switch() { ctl_ok "{\"cmd\":\"switch\",\"file\":\"$1\"}" >/dev/null; }
top_of() { ctl_ok '{"cmd":"info"}' | jq -r '.exports[0].file'; }
# layer_holds IMG: IMG itself holds some of the disk (map depth 1)
layer_holds() {
	"$VHD" map --json "$1" | jq -e 'any(.[]; .depth == 1)' >/dev/null ||
		fail "$(basename "$1") holds nothing: no switch happened mid-write"
}
# chain_check TOP N: TOP's chain has N layers, each clean for vhd check and
# readable by libvhdi; opening it warns about nothing.
chain_check() {
	local f
	"$VHD" info --json "$1" >"$T/info.json" 2>"$T/info.err"
	assert_eq "$(jq -r '.chain | length' "$T/info.json")" "$2" "layers of $(basename "$1")"
	[[ ! -s $T/info.err ]] || fail "vhd info $(basename "$1") warned: $(cat "$T/info.err")"
	for f in $(jq -r '.chain[].file' "$T/info.json"); do
		[[ $f == /* ]] || f=$(dirname "$1")/$f
		expect_exit 0 "$VHD" check "$f"
		if command -v vhdiinfo >/dev/null; then
			vhdiinfo "$f" >/dev/null 2>&1 || fail "vhdiinfo cannot read $f"
		fi
	done
}
# same_as_src IMG SRC: the chain of IMG reads SRC, through our library and,
# once flattened (a copy, so the chain stays), through qemu-img.
same_as_src() {
	mkdir -p "$T/flat"
	rm -f "$T/flat/"* "$T/out.raw"
	"$VHD" convert -O raw "$1" "$T/out.raw" || fail "convert $(basename "$1")"
	cmp -s "$T/out.raw" "$2" || fail "$(basename "$1") does not read the source: $(cmp "$T/out.raw" "$2" | head -1)"
	cp "$1" "$T/flat/top.vhd"        # its absolute locator finds the parents
	"$VHD" flatten "$T/flat/top.vhd" || fail "flatten a copy of $(basename "$1")"
	qemu-img compare -q -f vpc -F raw "$T/flat/top.vhd" "$2" ||
		fail "qemu-img: the flattened chain of $(basename "$1") differs from the source"
}

note "a streaming writer (16 in flight) while the top switches 3 times"
"$VHD" create "$T/base.vhd" 64M
head -c 64M /dev/urandom >"$T/src.raw"
"$VHD" snapshot "$T/base.vhd" "$T/top0.vhd"
serve_start "$S" --control "$C" "$T/top0.vhd"
[[ -S $C ]] || fail "no control socket once the NBD socket is there"
assert_eq "$(stat -c %a "$C")" 600 "control socket mode"
U=$(nbd_uri "$S" top0.vhd)
assert_eq "$(top_of)" "$T/top0.vhd" "top before"
qemu-img convert -n -W -m 16 -r 8M -f raw -O raw "$T/src.raw" "$U" 2>"$T/conv.err" &
WP=$!
at_exit "kill -9 $WP"
for i in 1 2 3; do
	sleep 1
	kill -0 "$WP" 2>/dev/null || fail "the writer finished before switch $i"
	mkchild "$T/top$((i - 1)).vhd" "$T/top$i.vhd"
	r=$(ctl_ok "{\"cmd\":\"switch\",\"file\":\"$T/top$i.vhd\"}")
	assert_eq "$(jq -r .file <<<"$r")" "$T/top$i.vhd" "reply of switch $i"
	assert_eq "$(top_of)" "$T/top$i.vhd" "info after switch $i"
done
wait "$WP" || fail "the writer failed: $(cat "$T/conv.err")"
ctl_ok '{"cmd":"flush"}' >/dev/null
nbdcopy "$U" "$T/live.raw" || fail "nbdcopy from the export"
cmp -s "$T/live.raw" "$T/src.raw" || fail "the export does not read the source after the switches"
note "SIGTERM after switches: exit 0, everything on disk"
serve_stop
[[ ! -e $C ]] || fail "control socket left behind"
grep -qi 'timestamp' "$T/serve.err" && fail "timestamp warning: $(cat "$T/serve.err")"
for i in 0 1 2 3; do layer_holds "$T/top$i.vhd"; done
chain_check "$T/top3.vhd" 5
assert_eq "$(jq -r '.parent.path' "$T/info.json" | xargs basename)" top2.vhd "parent of top3"
assert_eq "$(jq -r '.parent.uuid_match' "$T/info.json")" true "parent UUID of top3"
assert_eq "$(jq -r '.chain[3].file' "$T/info.json" | xargs basename)" top0.vhd "layer 4"
same_as_src "$T/top3.vhd" "$T/src.raw"

note "refusals leave the export on its old top, still serving"
"$VHD" snapshot "$T/base.vhd" "$T/c0.vhd"
"$VHD" snapshot "$T/base.vhd" "$T/other.vhd"       # a sibling, not a child
"$VHD" create "$T/dyn.vhd" 64M
serve_start "$S" --control "$C" "$T/c0.vhd"
U=$(nbd_uri "$S" c0.vhd)
qio -f raw -c 'write -P 0x5a 0 1M' "$U"
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/other.vhd\"}" 'UUID mismatch'
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/none.vhd\"}" 'none.vhd.*No such file'
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/dyn.vhd\"}" 'not a differencing'
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/c0.vhd\"}" 'in use'
mkchild "$T/c0.vhd" "$T/big.vhd"
"$VHD" resize "$T/big.vhd" 128M
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/big.vhd\"}" 'virtual size'
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/big.vhd\",\"export\":\"nope\"}" "no export named 'nope'"
assert_eq "$(top_of)" "$T/c0.vhd" "top after refusals"
qio -f raw -c 'write -P 0x6b 1M 1M' -c 'read -P 0x5a 0 1M' -c 'read -P 0x6b 1M 1M' "$U"
serve_stop
"$VHD" map --json "$T/c0.vhd" | jq -e '.[] | select(.start == 0 and .length == 2097152 and .depth == 1)' \
	>/dev/null || fail "c0.vhd lacks the writes made after the refusals"
[[ $("$VHD" map --json "$T/other.vhd" | jq 'map(select(.depth == 1)) | length') == 0 ]] ||
	fail "a refused file was written"

note "--read-only and --snapshot exports refuse switches"
mkchild "$T/c0.vhd" "$T/c1.vhd"
serve_start "$S" --control "$C" --read-only "$T/c0.vhd"
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/c1.vhd\"}" 'read-only'
qio -f raw -r -c 'read -P 0x5a 0 1M' "$U"
serve_stop
serve_start "$S" --control "$C" --snapshot "$T/c0.vhd"
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/c1.vhd\"}" 'snapshot'
qio -f raw -c 'write -P 0x77 0 4k' -c 'read -P 0x77 0 4k' -c 'read -P 0x6b 1M 1M' "$U"
serve_stop
head -c 4M /dev/zero >"$T/r.img"
serve_start "$S" --control "$C" "$T/r.img"
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/c1.vhd\"}" 'not a VHD'
assert_eq "$(ctl_ok '{"cmd":"info"}' | jq -c '.exports')" \
	"[{\"name\":\"r.img\",\"file\":\"$T/r.img\",\"writable\":true}]" "info of a raw export"
qio -f raw -c 'write -P 0x44 0 4k' -c 'read -P 0x44 0 4k' "$(nbd_uri "$S" r.img)"
serve_stop

note "two exports: \"export\" picks the one that switches"
mkdir "$T/multi"
"$VHD" snapshot "$T/base.vhd" "$T/multi/p.vhd"
"$VHD" snapshot "$T/base.vhd" "$T/multi/q.vhd"
mkchild "$T/multi/q.vhd" "$T/multi/q1.vhd"
serve_start "$S" --control "$C" "$T/multi/p.vhd" "$T/multi/q.vhd"
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/multi/q1.vhd\"}" 'UUID mismatch'   # p.vhd is first
ctl_ok "{\"cmd\":\"switch\",\"file\":\"$T/multi/q1.vhd\",\"export\":\"q.vhd\"}" >/dev/null
assert_eq "$(ctl_ok '{"cmd":"info"}' | jq -r '[.exports[] | .name + "=" + .file] | join(" ")')" \
	"p.vhd=$T/multi/p.vhd q.vhd=$T/multi/q1.vhd" "info of two exports"
qio -f raw -c 'write -P 0x51 0 64k' "$(nbd_uri "$S" p.vhd)"
qio -f raw -c 'write -P 0x52 0 64k' "$(nbd_uri "$S" q.vhd)"
ctl_ok '{"cmd":"flush"}' >/dev/null
serve_stop
"$VHD" read "$T/multi/p.vhd" 0 64k | cmp -s - <(head -c 64k /dev/zero | tr '\0' '\121') ||
	fail "p.vhd lacks its write"
"$VHD" read "$T/multi/q1.vhd" 0 64k | cmp -s - <(head -c 64k /dev/zero | tr '\0' '\122') ||
	fail "q1.vhd lacks its write"
[[ $("$VHD" map --json "$T/multi/q.vhd" | jq 'map(select(.depth == 1)) | length') == 0 ]] ||
	fail "q.vhd was written after its switch"

note "malformed requests get errors; the server lives"
serve_start "$S" --control "$C" "$T/c0.vhd"
ctl_err 'garbage' 'malformed'
ctl_err '{"cmd":' 'malformed'
ctl_err '[1,2]' 'not a JSON object'
ctl_err '{"cmd":5}' 'no "cmd"'
ctl_err '{"cmd":"switch"}' '"file"'
ctl_err '{"cmd":"switch","file":7}' '"file"'
ctl_err '{"cmd":"info"} x' 'after the JSON'
ctl_err '{"cmd":"reboot"}' "unknown cmd 'reboot'"
r=$(printf '{"cmd":"in\0fo"}\n' | socat -t 30 - "UNIX-CONNECT:$C")
[[ $(jq -r .ok <<<"$r") == false ]] || fail "a NUL byte was accepted: $r"
{ head -c 200000 /dev/zero | tr '\0' 'x'; printf '\n{"cmd":"info"}\n'; } |
	socat -t 30 - "UNIX-CONNECT:$C" >"$T/long"
assert_eq "$(jq -r .ok "$T/long" | tr '\n' ' ')" "false true " "overlong line, then a request"
grep -q 'longer than' "$T/long" || fail "overlong line: $(head -c 200 "$T/long")"
printf '{"cmd":"info"}\n\n{"cmd":"flush"}\n' | socat -t 30 - "UNIX-CONNECT:$C" >"$T/two"
assert_eq "$(wc -l <"$T/two")" 2 "replies to two requests on one connection"
assert_eq "$(jq -r .ok "$T/two" | tr '\n' ' ')" "true true " "both replies"
socat -u OPEN:/dev/null "UNIX-CONNECT:$C"      # connect and leave
head -c 300k /dev/urandom | socat -t 30 - "UNIX-CONNECT:$C" >"$T/rnd" || true
[[ $(jq -r .ok "$T/rnd" | sort -u) == false ]] || fail "random bytes: $(head -c 300 "$T/rnd")"
kill -0 "$SERVE_PID" || fail "the server died"
assert_eq "$(top_of)" "$T/c0.vhd" "info after malformed requests"
qio -f raw -c 'read -P 0x5a 0 1M' "$U"
serve_stop

note "a failure after the close: the old top is reopened, or the server exits 1"
# failopen.so: read-write opens of PATH fail with EIO after the first N
# (VV_FAIL_OPEN="PATH=N;PATH=N"), to break a switch after its checks.
gcc -shared -fPIC -o "$T/failopen.so" "$VV_ROOT/tests/integration/failopen.c" -ldl || fail "cannot build failopen.so"
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
"$VHD" snapshot "$T/base.vhd" "$T/e0.vhd"
mkchild "$T/e0.vhd" "$T/e1.vhd"
# e1 is opened read-write by the checks (1), the restamp (2), then for
# serving (3): that one fails.
LD_PRELOAD=$T/failopen.so VV_FAIL_OPEN="$T/e1.vhd=2" serve_start "$S" --control "$C" "$T/e0.vhd"
U=$(nbd_uri "$S" e0.vhd)
qio -f raw -c 'write -P 0x31 0 1M' "$U"
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/e1.vhd\"}" 'e1.vhd'
grep -q 'failed, still on' "$T/serve.err" || fail "the switch did not fail after the close"
assert_eq "$(top_of)" "$T/e0.vhd" "top after a failed switch"
qio -f raw -c 'write -P 0x32 1M 1M' -c 'read -P 0x31 0 1M' -c 'read -P 0x32 1M 1M' "$U"
serve_stop
"$VHD" map --json "$T/e0.vhd" | jq -e '.[] | select(.start == 0 and .length == 2097152 and .depth == 1)' \
	>/dev/null || fail "e0.vhd lacks the writes around the failed switch"
[[ $("$VHD" map --json "$T/e1.vhd" | jq 'map(select(.depth == 1)) | length') == 0 ]] ||
	fail "the child of a failed switch was written"
# ... and e0 cannot be reopened either (its second read-write open fails)
LD_PRELOAD=$T/failopen.so VV_FAIL_OPEN="$T/e1.vhd=2;$T/e0.vhd=1" \
	serve_start "$S" --control "$C" "$T/e0.vhd"
qio -f raw -c 'write -P 0x33 2M 1M' "$U"
ctl_err "{\"cmd\":\"switch\",\"file\":\"$T/e1.vhd\"}" 'exiting'
rc=0
wait "$SERVE_PID" || rc=$?
assert_eq "$rc" 1 "exit status after losing the export"
grep -q 'cannot be reopened' "$T/serve.err" || fail "no reason logged: $(cat "$T/serve.err")"
[[ ! -e $S && ! -e $C ]] || fail "sockets left behind after the failure exit"
expect_exit 0 "$VHD" check "$T/e0.vhd"
expect_exit 0 "$VHD" check "$T/e1.vhd"
qio -f vpc -r -c 'read -P 0x31 0 1M' -c 'read -P 0x32 1M 1M' -c 'read -P 0x33 2M 1M' "$T/e0.vhd"

# fio's write phase is paced (about 11 s), and each switch waits until the
# current top has grown, so that the switches fall into the write phase on
# a loaded machine too (not into fio's start or its verify pass).
note "fio random writes, 16 in flight and verified, while the top switches back to back"
if fio --enghelp 2>/dev/null | grep -qw nbd; then
	"$VHD" create "$T/fbase.vhd" 64M
	"$VHD" snapshot "$T/fbase.vhd" "$T/f0.vhd"
	serve_start "$S" --control "$C" "$T/f0.vhd"
	fio --name=gate --ioengine=nbd --uri="$(nbd_uri "$S" f0.vhd)" --rw=randwrite \
		--bs=4k --iodepth=16 --size=64M --rate_iops=1500 --verify=crc32c --verify_fatal=1 \
		--randrepeat=0 --verify_state_save=0 >"$T/fio.out" 2>&1 &
	FP=$!
	at_exit "kill -9 $FP"
	sleep 0.3
	n=0
	while ((n < 5)) && kill -0 "$FP" 2>/dev/null; do
		# switch once fio's writes reached this top (it grew a block)
		size0=$(stat -c %s "$T/f$n.vhd")
		for _ in $(seq 1 200); do
			(($(stat -c %s "$T/f$n.vhd") > size0)) && break
			sleep 0.05
		done
		mkchild "$T/f$n.vhd" "$T/f$((n + 1)).vhd"
		switch "$T/f$((n + 1)).vhd"
		n=$((n + 1))
	done
	((n >= 3)) || fail "only $n switches while fio ran"
	note "$n switches while fio ran"
	wait "$FP" || fail "fio failed: $(tail -20 "$T/fio.out")"
	grep -q 'err= 0' "$T/fio.out" || fail "fio reported errors: $(tail -20 "$T/fio.out")"
	# the verify pass read back all 64 MiB written
	grep -Eq 'READ: .*io=64(\.0)?MiB' "$T/fio.out" ||
		fail "fio verified nothing: $(grep -E 'READ|WRITE' "$T/fio.out")"
	nbdcopy "$(nbd_uri "$S" f0.vhd)" "$T/flive.raw" || fail "nbdcopy from the fio export"
	serve_stop
	held=0
	for ((i = 0; i <= n; i++)); do
		"$VHD" map --json "$T/f$i.vhd" | jq -e 'any(.[]; .depth == 1)' >/dev/null && held=$((held + 1))
	done
	((held >= 3)) || fail "only $held layers hold fio's writes"
	chain_check "$T/f$n.vhd" $((n + 2))
	same_as_src "$T/f$n.vhd" "$T/flive.raw"
else
	note "fio has no nbd engine here: the streaming writer above is the load check"
fi
