#!/bin/bash
# Damaged and hostile images: each gives a clear error and a non-zero exit
# (never a crash), `vhd check` names the problem, and `check --repair`
# fixes what can be fixed without guessing while keeping the data.
# timeout: 500
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd jq python3

M=$((1024 * 1024))
fresh() { # fresh NAME: a dynamic 16 MiB image with data in blocks 0, 1 and 5
	rm -f "$T/$1"
	"$VHD" create "$T/$1" 16M
	"$VHD" write "$T/$1" 0 --pattern 0x11 --length 3M
	"$VHD" write "$T/$1" $((10 * M + 100)) --pattern 0x22 --length 5000
	vraw "$T/$1" "$T/$1.want"
}
# every_reader_fails IMG REGEX: info, read, map and check all refuse
readers_fail() {
	local rc
	for cmd in "info" "read" "check"; do
		rc=0
		case $cmd in
		read) "$VHD" read "$1" 0 512 >/dev/null 2>"$T/stderr" || rc=$? ;;
		*) "$VHD" $cmd "$1" >"$T/stderr" 2>&1 || rc=$? ;;
		esac
		not_crashed $rc
		grep -Eq -- "$2" "$T/stderr" || { cat "$T/stderr"; fail "$cmd of $1: message lacks /$2/"; }
	done
}
check_names() { # check_names IMG EXIT NAME...: check's exit and problem names
	local img=$1 want=$2 n
	shift 2
	expect_exit "$want" "$VHD" check --json "$img"
	python3 -m json.tool "$T/stdout" >/dev/null || fail "check --json is not valid JSON"
	for n; do
		jq -e --arg n "$n" '.problems[] | select(.name == $n)' "$T/stdout" >/dev/null ||
			{ cat "$T/stdout"; fail "check of $img does not report $n"; }
	done
}

note "a clean image checks clean"
fresh ok.vhd
expect_exit 0 "$VHD" check "$T/ok.vhd"
grep -q clean "$T/stdout" || fail "no 'clean' verdict"

note "non-VHD file and zero-length file"
head -c 1M /dev/urandom >"$T/junk.bin"
: >"$T/empty.vhd"
for f in junk.bin empty.vhd; do
	readers_fail "$T/$f" "$f"
	expect_exit 2 "$VHD" check "$T/$f"
	assert_stderr "not a VHD"
done
expect_exit 2 "$VHD" check "$T/does-not-exist.vhd"
assert_stderr "does-not-exist.vhd"

note "bad trailing footer checksum, valid copy at 0"
fresh fsum.vhd
poke "$T/fsum.vhd" -480 ff          # a creator byte of the trailing footer
check_names "$T/fsum.vhd" 1 footer-checksum
expect_exit 0 "$VHD" check --repair "$T/fsum.vhd"
grep -q repaired "$T/stdout" || fail "repair does not say what it changed"
expect_exit 0 "$VHD" check "$T/fsum.vhd"
vraw "$T/fsum.vhd" "$T/got"
same "$T/got" "$T/fsum.vhd.want" "data after footer repair"

note "bad footer copy at offset 0"
fresh fcopy.vhd
poke "$T/fcopy.vhd" 30 ff
check_names "$T/fcopy.vhd" 1 footer-copy-damaged
expect_exit 0 "$VHD" check --repair "$T/fcopy.vhd"
expect_exit 0 "$VHD" check "$T/fcopy.vhd"
cmp -s <(head -c 512 "$T/fcopy.vhd") <(tail -c 512 "$T/fcopy.vhd") || fail "copy not rewritten"

note "fixed disk with a bad footer checksum (no copy): checksum repaired"
"$VHD" create --fixed "$T/fixed.vhd" 4M
"$VHD" write "$T/fixed.vhd" 4096 --pattern 0x5a --length 8192
poke "$T/fixed.vhd" -472 0001       # part of original size
check_names "$T/fixed.vhd" 1 footer-checksum
expect_exit 0 "$VHD" check --repair "$T/fixed.vhd"
expect_exit 0 "$VHD" check "$T/fixed.vhd"

note "bad dynamic header checksum"
fresh hsum.vhd
poke "$T/hsum.vhd" $((512 + 1000)) 01   # reserved area of the header
check_names "$T/hsum.vhd" 1 header-checksum
expect_exit 0 "$VHD" check --repair "$T/hsum.vhd"
expect_exit 0 "$VHD" check "$T/hsum.vhd"
vraw "$T/hsum.vhd" "$T/got"
same "$T/got" "$T/hsum.vhd.want" "data after header repair"

note "truncated: trailing footer cut off"
fresh trunc.vhd
truncate -s -512 "$T/trunc.vhd"
check_names "$T/trunc.vhd" 1 footer-missing
expect_exit 0 "$VHD" check --repair "$T/trunc.vhd"
expect_exit 0 "$VHD" check "$T/trunc.vhd"
vraw "$T/trunc.vhd" "$T/got"
same "$T/got" "$T/trunc.vhd.want" "data after re-adding the footer"

note "truncated in the middle of the last block"
fresh cut.vhd
truncate -s -$((M + 4096)) "$T/cut.vhd"
check_names "$T/cut.vhd" 1 footer-missing bat-past-eof
rc=0; "$VHD" read "$T/cut.vhd" 0 16M >/dev/null 2>"$T/stderr" || rc=$?
not_crashed $rc
expect_exit 0 "$VHD" check --repair "$T/cut.vhd"
expect_exit 0 "$VHD" check "$T/cut.vhd"
"$VHD" read "$T/cut.vhd" 0 3M | cmp -s - <(head -c 3M "$T/cut.vhd.want") ||
	fail "blocks before the cut changed"

note "BAT entry pointing past the end of the file"
fresh bat.vhd
poke "$T/bat.vhd" $(($(bat_off "$T/bat.vhd") + 4)) 00ffff00
check_names "$T/bat.vhd" 1 bat-past-eof
rc=0; "$VHD" read "$T/bat.vhd" $((2 * M)) 4096 >/dev/null 2>"$T/stderr" || rc=$?
not_crashed $rc
assert_stderr "past the end|BAT"
expect_exit 0 "$VHD" check --repair "$T/bat.vhd"
expect_exit 0 "$VHD" check "$T/bat.vhd"
"$VHD" read "$T/bat.vhd" 0 2M | cmp -s - <(head -c 2M "$T/bat.vhd.want") ||
	fail "block 0 changed by the BAT repair"

note "two BAT entries pointing at the same block"
fresh ovl.vhd
b=$(bat_off "$T/ovl.vhd")
poke "$T/ovl.vhd" $((b + 4)) "$(python3 -c "
import sys; f=open('$T/ovl.vhd','rb'); f.seek($b); print(f.read(4).hex())")"
check_names "$T/ovl.vhd" 1 block-overlap
expect_exit 1 "$VHD" check --repair "$T/ovl.vhd"   # which block is right is a guess

note "a block overlapping the BAT"
fresh ovm.vhd
b=$(bat_off "$T/ovm.vhd")
poke "$T/ovm.vhd" "$((b + 20))" "$(printf '%08x' $((b / 512)))"
check_names "$T/ovm.vhd" 1 block-overlaps-metadata

note "differencing: missing parent, parent with another UUID, parent loop"
mkdir -p "$T/chain"
"$VHD" create "$T/chain/base.vhd" 8M
"$VHD" write "$T/chain/base.vhd" 0 --pattern 0x77 --length 1M
"$VHD" snapshot "$T/chain/base.vhd" "$T/chain/child.vhd"
expect_exit 0 "$VHD" check "$T/chain/child.vhd"
mv "$T/chain/base.vhd" "$T/chain/base.moved"
readers_fail "$T/chain/child.vhd" "base.vhd"
check_names "$T/chain/child.vhd" 1 parent-missing
"$VHD" create "$T/chain/base.vhd" 8M                    # same name, new UUID
rc=0; "$VHD" read "$T/chain/child.vhd" 0 512 >/dev/null 2>"$T/stderr" || rc=$?
check_names "$T/chain/child.vhd" 1 parent-uuid-mismatch
rm "$T/chain/base.vhd"
mv "$T/chain/base.moved" "$T/chain/base.vhd"
expect_exit 0 "$VHD" check "$T/chain/child.vhd"
"$VHD" snapshot "$T/chain/child.vhd" "$T/chain/loop.vhd"
mv "$T/chain/loop.vhd" "$T/chain/child.vhd"        # child's parent is now itself
uuid=$(python3 -c "f=open('$T/chain/child.vhd','rb'); f.seek(-512+68,2); print(f.read(16).hex())")
poke "$T/chain/child.vhd" $((512 + 40)) "$uuid"     # ... and has the UUID it expects
"$VHD" check --repair "$T/chain/child.vhd" >/dev/null || true   # fixes the header checksum
readers_fail "$T/chain/child.vhd" "loop|itself|depth|chain"
check_names "$T/chain/child.vhd" 1 parent-chain

note "random damage never crashes the readers"
for i in $(seq 1 25); do
	cp "$T/ok.vhd" "$T/fz.vhd"
	size=$(stat -c %s "$T/fz.vhd")
	for j in 1 2 3 4; do
		case $((RANDOM % 3)) in
		0) off=$((RANDOM % 2048)) ;;
		1) off=$((size - 1 - RANDOM % 512)) ;;
		*) off=$(((RANDOM * 32768 + RANDOM) % size)) ;;
		esac
		poke "$T/fz.vhd" "$off" "$(printf '%02x' $((RANDOM % 256)))"
	done
	for cmd in "info --json" "check" "map" "read"; do
		rc=0
		if [[ $cmd == read ]]; then
			"$VHD" read "$T/fz.vhd" 0 1M >/dev/null 2>&1 || rc=$?
		else
			"$VHD" $cmd "$T/fz.vhd" >/dev/null 2>&1 || rc=$?
		fi
		((rc < 3)) || fail "vhd $cmd exits $rc on a damaged image (iteration $i)"
	done
done
echo "bad input handled"
