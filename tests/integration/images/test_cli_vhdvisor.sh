#!/bin/bash
# vhdvisor's command lines: every action of every family prints its own
# help; usage mistakes exit 2 and failures 1 alike in vm, lab, image, net
# and vhd; the global options work before and after the subcommand;
# --mem is checked when it is set.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq

note "each action's --help is its own"
for fam in vm lab image net; do
	expect_exit 0 vv "$fam" --help
	acts=$(sed -nE "s/^(usage:| ) *vhdvisor $fam ([a-z-]+).*/\2/p" "$T/stdout" | sort -u)
	[[ $(wc -w <<<"$acts") -ge 5 ]] || fail "$fam --help lists too few actions: $acts"
	for act in $acts; do
		expect_exit 0 vv "$fam" "$act" --help
		head -1 "$T/stdout" | grep -q "^usage: vhdvisor $fam $act\b" ||
			fail "$fam $act --help: $(head -1 "$T/stdout")"
		n=$(grep -c "vhdvisor $fam " "$T/stdout")
		[[ $n -eq 1 ]] || fail "$fam $act --help prints $n synopses, not its own one"
		grep -q -- "--state DIR" "$T/stdout" || fail "$fam $act --help omits --state"
	done
done
for c in $("$VHD" --help | sed -nE 's/^  ([a-z]+) .*/\1/p'); do
	expect_exit 0 "$VHD" "$c" --help
	head -1 "$T/stdout" | grep -q "^usage: vhd $c\b" || fail "vhd $c --help: $(head -1 "$T/stdout")"
done
expect_exit 0 vv vm start --help
grep -q -- "--accel" "$T/stdout" || fail "vm start --help lacks its options"
expect_exit 0 vv run --help
grep -q -- "--disk" "$T/stdout" || fail "run --help"

note "exit codes: usage 2, failure 1, in every family"
usage2=(
	"vm" "vm bogus" "vm stop" "vm start a b" "vm list --bogus" "vm list extra"
	"lab" "lab bogus" "lab start" "lab stop a b" "lab list --bogus"
	"image" "image bogus" "image show" "image rm a b" "image list --bogus"
	"net" "net bogus" "net show" "net rm a b" "net list --bogus"
	"vm set x --mem 99999G" "vm set x --mem 63M" "vm create x --from y --mem 2T"
	"vm set x --mem 1048577" "lab create l --from y --count 2 --mem 99999G"
	"--bogus vm list" "--state"
)
for cmd in "${usage2[@]}"; do
	# a state dir that cannot exist: usage is refused before it is opened
	expect_exit 2 vv $cmd --state /proc/nonexistent/state
done
mkdir -p "$T/empty"
fail1=(
	"vm stop nosuch" "vm start nosuch" "vm show nosuch" "vm status nosuch"
	"vm console nosuch" "vm snapshot nosuch" "vm rm nosuch"
	"lab start nosuch" "lab stop nosuch" "lab rm nosuch"
	"image show nosuch" "image rm nosuch" "net show nosuch"
)
for cmd in "${fail1[@]}"; do
	expect_exit 1 vv $cmd --state "$T/empty"
	assert_stderr "nosuch"
done
expect_exit 1 vv vm stop nosuch --state "$T/empty"
assert_stderr "no VM 'nosuch'"
for cmd in "" "bogus" "info" "map" "convert x" "flatten --bogus x" "compact --bogus x" \
	"umount --bogus x" "read --bogus x 0 1" "--bogus info"; do
	expect_exit 2 "$VHD" $cmd
done
for cmd in info map commit flatten compact; do
	expect_exit 1 "$VHD" "$cmd" "$T/missing.vhd"
	assert_stderr "missing.vhd"
done

note "global options before and after the subcommand"
unset VHDVISOR_STATE
mkraw "$T/t.raw" 16M
vv --state "$T/st" image import "$T/t.raw" --format raw --name t >/dev/null
vv image list --state "$T/st" --json | jq -e 'length == 1' >/dev/null || fail "--state after"
vv --state="$T/st" vm create a --from t >/dev/null
vv vm create b --from t --state "$T/st" >/dev/null
assert_eq "$(vv --state "$T/st" vm list --json | jq -r '.[].name' | sort | tr '\n' ' ')" \
	"a b " "--state before"
assert_eq "$(vv vm list --json --state "$T/st" | jq length)" 2 "--state after"
expect_exit 0 vv -v --state "$T/st" vm list
assert_stderr "debug: catalog in $T/st"
expect_exit 0 vv vm list --state "$T/st" --verbose
assert_stderr "debug: catalog in $T/st"
expect_exit 0 env VHDVISOR_NET_POOL=bogus "$VHDVISOR" --state "$T/st" net list
assert_stderr "ignoring VHDVISOR_NET_POOL"
for q in "-q --state $T/st net list" "--state $T/st net list -q" "--quiet --state $T/st net list"; do
	expect_exit 0 env VHDVISOR_NET_POOL=bogus "$VHDVISOR" $q
	[[ ! -s $T/stderr ]] || fail "$q: not quiet: $(cat "$T/stderr")"
done
"$VHD" create "$T/d.vhd" 8M >/dev/null
"$VHD" write "$T/d.vhd" 0 --pattern 1 --length 8M
expect_exit 0 "$VHD" -v convert "$T/d.vhd" "$T/e.vhd"
assert_stderr "info: 50%"
expect_exit 0 "$VHD" convert "$T/d.vhd" "$T/f.vhd" --verbose
assert_stderr "info: 50%"
expect_exit 0 "$VHD" -q info "$T/d.vhd"
expect_exit 0 "$VHD" info -q "$T/d.vhd"

note "vm set --mem is checked when set"
expect_exit 2 vv --state "$T/st" vm set a --mem 99999G
assert_stderr "bad --mem '99999G'"
assert_eq "$(vv --state "$T/st" vm show a --json | jq .mem)" \
	"$(vv --state "$T/st" vm show b --json | jq .mem)" "a refused --mem changed nothing"
vv --state "$T/st" vm set a --mem 512
assert_eq "$(vv --state "$T/st" vm show a --json | jq .mem)" $((512 << 20)) "--mem 512 is MiB"
vv --state "$T/st" vm set a --mem 1T
expect_exit 2 vv --state "$T/st" vm set a --mem 1025G
echo "vhdvisor command lines behave"
