#!/bin/bash
# `vhdvisor-installer install` refuses before it writes anything (issue 15):
# - an answer file with a bad field stops at step "answer" with its line
#   number, and the named disk is left byte for byte as it was;
# - a disk smaller than the minimum stops at step "plan" with the sizes,
#   the log names the step, and the disk (a GPT with an ext4 on it) is left
#   byte for byte as it was.
# The install itself needs device-mapper (LVM): test_iso_boot.sh runs it
# inside a QEMU guest.
source "$VV_ROOT/tests/integration/lib.sh"
need_cmd losetup sfdisk mkfs.ext4 sha256sum
INST=$VV_BUILD/bin/vhdvisor-installer
[[ $(id -u) == 0 ]] || skip "loop devices need root"

truncate -s 1G "$T/small.img"
printf 'label: gpt\n,64M,L\n' | sfdisk -q "$T/small.img"
small=$(losetup -f --show -P "$T/small.img") || skip "no loop devices here"
at_exit losetup -d "$small"
mkfs.ext4 -q "${small}p1" 2>/dev/null || mkfs.ext4 -q -E offset=1048576 "$T/small.img" 16M
blockdev --flushbufs "$small"
before=$(sha256sum <"$small")

answer() { # answer FILE DISK [EXTRA_LINE]
	printf 'disk=%s\nhostname=lab\nnetwork=dhcp\ntoken=abcdefghijklmnop0123\nwipe=yes\n%s\n' \
		"$2" "${3:-}" >"$1"
}

note "a bad field: stopped before anything is written"
answer "$T/bad.answer" "$small" "colour=blue"
expect_exit 2 "$INST" install --answer "$T/bad.answer" --log "$T/install.log" --target "$T/target"
grep -q "stopped at step answer" "$T/stderr" || fail "bad answer: $(cat "$T/stderr")"
grep -q "line 6" "$T/stderr" || fail "no line number: $(cat "$T/stderr")"
grep -q "nothing was written" "$T/stderr" || fail "not said: $(cat "$T/stderr")"
[[ ! -e $T/install.log && ! -e $T/target ]] || fail "the bad answer file left a log or a target"
assert_eq "$(sha256sum <"$small")" "$before" "the disk after a bad answer file"

note "a disk under the minimum: stopped at the plan"
answer "$T/small.answer" "$small"
expect_exit 1 "$INST" install --answer "$T/small.answer" --log "$T/install.log" --target "$T/target"
grep -q "stopped at step plan: cannot install on $small: the disk has 1024 MiB; vhdvisor needs at least 8 GiB" \
	"$T/stderr" || fail "small disk: $(cat "$T/stderr")"
grep -q "log: $T/install.log" "$T/stderr" || fail "no log path: $(cat "$T/stderr")"
grep -q "== step plan" "$T/install.log" || fail "the log does not name the step"
grep -q "^+ " "$T/install.log" && fail "a command ran: $(grep '^+ ' "$T/install.log")"
assert_eq "$(stat -c %a "$T/install.log")" 600 "log mode"
assert_eq "$(sha256sum <"$small")" "$before" "the small disk after the refusal"

note "a disk that is not a block device"
answer "$T/file.answer" /dev/null
expect_exit 1 "$INST" install --answer "$T/file.answer" --log "$T/install.log" --target "$T/target"
grep -q "stopped at step disk: /dev/null is not a block device" "$T/stderr" || fail "file: $(cat "$T/stderr")"
echo "install refusals ok"
