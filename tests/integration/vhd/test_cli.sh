#!/bin/bash
# The image commands' command lines: --help, usage errors (exit 2), errors
# that name the file (exit 1), write from stdin and patterns, read to a pipe.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd jq

for c in create snapshot info check read write map commit flatten resize compact convert; do
	expect_exit 0 "$VHD" "$c" --help
	grep -q "usage: vhd $c" "$T/stdout" || fail "$c --help prints no usage"
	expect_exit 2 "$VHD" "$c"
	grep -q "usage: vhd $c" "$T/stderr" || fail "$c without arguments prints no usage"
done
expect_exit 2 "$VHD" create "$T/x.vhd" 12Q
assert_stderr "bad size '12Q'"
expect_exit 2 "$VHD" create --block-size 3M "$T/x.vhd" 1G
assert_stderr "power of two"
expect_exit 2 "$VHD" convert -O qcow2 "$T/a" "$T/b"
[[ ! -e $T/x.vhd ]] || fail "a refused create left a file"

"$VHD" create "$T/a.vhd" 4M
expect_exit 1 "$VHD" create "$T/a.vhd" 4M
assert_stderr "a.vhd"
expect_exit 1 "$VHD" read "$T/a.vhd" 4M 1
assert_stderr "past the end"
expect_exit 1 "$VHD" write "$T/a.vhd" 4095K --pattern 1 --length 2K
assert_stderr "past the end"
expect_exit 2 "$VHD" write "$T/a.vhd" 0 --pattern 300 --length 1
expect_exit 2 "$VHD" write "$T/a.vhd" 0 --pattern 1
expect_exit 1 "$VHD" info "$T/missing.vhd"
assert_stderr "missing.vhd"

printf 'hello, vhd' | "$VHD" write "$T/a.vhd" 1000 --from -
assert_eq "$("$VHD" read "$T/a.vhd" 1000 10)" "hello, vhd" "write from stdin"
"$VHD" write "$T/a.vhd" 2K --pattern 0x41 --length 3
assert_eq "$("$VHD" read "$T/a.vhd" 2K 3)" "AAA" "pattern write"
assert_eq "$("$VHD" read "$T/a.vhd" 0 4M | wc -c)" 4194304 "read to a pipe"
"$VHD" info --json "$T/a.vhd" | python3 -m json.tool >/dev/null || fail "info --json"
"$VHD" check --json "$T/a.vhd" | jq -e '.clean == true' >/dev/null || fail "check --json clean"
"$VHD" map --json "$T/a.vhd" | jq -e 'length >= 1' >/dev/null || fail "map --json"
echo "command lines behave"
