#!/bin/bash
# The ISO's console menu (scripts/iso/menu.sh), the cheap part: how it reads
# the kernel command line (vv_cmdline_get: KEY=VALUE, quotes, the last one
# wins, a bare KEY, absent keys, an unreadable or unparsable command line)
# and where it finds the answer file (vv_answer_find: a path on the ISO,
# VVANSWER:PATH, relative paths refused, a missing file named).
source "$VV_ROOT/tests/integration/lib.sh"
need_cmd xargs
VV_MENU_LIB=1 VV_CMDLINE=$T/cmdline VV_MEDIUM=$T/medium VV_ANSWER_MNT=$T/answer
# shellcheck source=scripts/iso/menu.sh
source "$VV_ROOT/scripts/iso/menu.sh"
set +e

got() { # got KEY: "STATUS:VALUE"
	local v rc
	v=$(vv_cmdline_get "$1" 2>/dev/null); rc=$?
	printf '%s:%s' "$rc" "$v"
}

note "kernel command line"
printf 'BOOT_IMAGE=/live/vmlinuz boot=live components quiet console=ttyS0,115200n8 vv.answer=/auto/answer.conf\n' >"$T/cmdline"
assert_eq "$(got vv.answer)" "0:/auto/answer.conf" "vv.answer"
assert_eq "$(got console)" "0:ttyS0,115200n8" "console"
assert_eq "$(got quiet)" "0:" "bare key"
assert_eq "$(got vv.answe)" "1:" "prefix of a key is not the key"
assert_eq "$(got answer)" "1:" "suffix of a key is not the key"
assert_eq "$(got nosuch)" "1:" "absent key"
printf 'vv.answer=/a vv.answer="/b c/answer.conf" x=1\n' >"$T/cmdline"
assert_eq "$(got vv.answer)" "0:/b c/answer.conf" "quoted value, the last one wins"
printf 'quiet\n' >"$T/cmdline"
assert_eq "$(got vv.answer)" "1:" "no vv.answer"
printf 'vv.answer="/unterminated\n' >"$T/cmdline"
assert_eq "$(got vv.answer)" "2:" "unparsable command line"
rm -f "$T/cmdline"
assert_eq "$(got vv.answer)" "2:" "unreadable command line"

note "where the answer file is"
mkdir -p "$T/medium/auto"
echo disk=auto >"$T/medium/auto/answer.conf"
assert_eq "$(vv_answer_find /auto/answer.conf)" "$T/medium/auto/answer.conf" "on the ISO"
mkdir -p "$T/answer" && echo disk=auto >"$T/answer/a.conf"
# VVANSWER: the disk is mounted on VV_ANSWER_MNT; a mount point is faked
# with a bind mount of the folder onto itself when we may mount.
if mount --bind "$T/answer" "$T/answer" 2>/dev/null; then
	at_exit "umount '$T/answer'"
	assert_eq "$(vv_answer_find VVANSWER:/a.conf)" "$T/answer/a.conf" "on the VVANSWER disk"
	assert_eq "$(vv_answer_find /a.conf)" "$T/answer/a.conf" "not on the ISO: the VVANSWER disk"
	vv_answer_find VVANSWER:/none.conf 2>"$T/err" && fail "a missing file was found"
	grep -q "no such file on the VVANSWER disk" "$T/err" || fail "missing file: $(cat "$T/err")"
fi
vv_answer_find auto/answer.conf 2>"$T/err" && fail "a relative path was accepted"
grep -q "not an absolute path" "$T/err" || fail "relative path: $(cat "$T/err")"
vv_answer_find "" 2>"$T/err" && fail "an empty vv.answer was accepted"
grep -q "empty" "$T/err" || fail "empty: $(cat "$T/err")"
echo "menu: command line and answer lookup ok"
