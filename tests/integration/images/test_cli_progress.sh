#!/bin/bash
# Progress as qemu-img shows it: `vhd convert -p` and the bundle commands
# (image export --bundle, vm export, vm import, image import of a bundle)
# draw a percentage rewritten in place on a terminal (script(1) gives one);
# nothing when stderr is not a terminal unless -p asks; -q silences it.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq script

# tty CMD...: runs CMD on a pseudo-terminal; its output (stdout and stderr) in $T/tty
tty() {
	local q
	printf -v q '%q ' "$@"
	script -qec "$q" /dev/null >"$T/tty" </dev/null || fail "on a terminal: $*"
}

"$VHD" create "$T/d.vhd" 64M >/dev/null
"$VHD" write "$T/d.vhd" 0 --pattern 7 --length 40M

note "vhd convert -p"
tty "$VHD" convert -p "$T/d.vhd" "$T/c1.vhd"
grep -q $'(100.00/100%)' "$T/tty" || fail "convert -p: no 100% line: $(od -c "$T/tty" | head)"
grep -q $'(0.00/100%)\r' "$T/tty" || fail "convert -p: the line is not rewritten in place"
[[ $(grep -o '/100%)' "$T/tty" | wc -l) -ge 3 ]] || fail "convert -p: too few updates"
tty "$VHD" convert "$T/d.vhd" "$T/c2.vhd"
! grep -q '100%' "$T/tty" || fail "convert without -p drew progress"
"$VHD" convert -p "$T/d.vhd" "$T/c3.vhd" 2>"$T/err"
grep -q '(100.00/100%)' "$T/err" || fail "convert -p to a file: asked, so shown"
tty "$VHD" -q convert -p "$T/d.vhd" "$T/c4.vhd"
! grep -q '100%' "$T/tty" || fail "-q still drew progress"
cmp "$T/c1.vhd" "$T/c2.vhd" >/dev/null || "$VHD" check "$T/c1.vhd" >/dev/null || fail "c1 broken"

note "bundles: export and import"
vv image import "$T/d.vhd" --name t >/dev/null
tty "$VHDVISOR" image export t --bundle "$T/i.tar"
grep -q 'exporting 100%' "$T/tty" || fail "image export --bundle: no progress on a terminal"
grep -q $'\r' "$T/tty" || fail "image export --bundle: not in place"
vv image export t --bundle "$T/i2.tar" 2>"$T/err"
[[ ! -s $T/err ]] || fail "progress while stderr is a file: $(cat "$T/err")"
vv image export t --bundle "$T/i3.tar" -p 2>"$T/err"
grep -q 'exporting 100%' "$T/err" || fail "image export -p: asked, so shown"

vv vm create v --from t >/dev/null
tty "$VHDVISOR" vm export v --bundle "$T/v.tar"
grep -q 'exporting 100%' "$T/tty" || fail "vm export: no progress on a terminal"
vv vm export v --bundle "$T/v2.tar" 2>"$T/err"
[[ ! -s $T/err ]] || fail "vm export: progress to a file"

tty "$VHDVISOR" --state "$T/s2" vm import "$T/v.tar"
grep -q 'importing 100%' "$T/tty" || fail "vm import: no progress on a terminal"
"$VHDVISOR" --state "$T/s3" vm import "$T/v.tar" 2>"$T/err" >/dev/null
[[ ! -s $T/err ]] || fail "vm import: progress to a file"
"$VHDVISOR" --state "$T/s4" vm import "$T/v.tar" -p 2>"$T/err" >/dev/null
grep -q 'importing 100%' "$T/err" || fail "vm import -p: asked, so shown"
tty "$VHDVISOR" -q --state "$T/s5" vm import -p "$T/v.tar"
! grep -q 'importing' "$T/tty" || fail "vm import -q drew progress"
tty "$VHDVISOR" --state "$T/s6" image import "$T/i.tar"
grep -q 'importing 100%' "$T/tty" || fail "image import of a bundle: no progress"
assert_eq "$("$VHDVISOR" --state "$T/s6" image list --json | jq length)" 1 "bundle imported"
echo "progress behaves"
