#!/bin/bash
# timeout: 120
# `vhd serve --socket PATH` and `--control PATH` claim PATH without
# replacing anything that matters (common/usock.c usock_listen): a VHD file,
# a directory or a symlink at PATH stays as it was and the command fails
# clearly; a live server's socket is refused and that server keeps serving;
# a stale socket (its server killed with SIGKILL) is replaced. Sockets are
# 0600 whatever the umask.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/blkback/serve_lib.sh"
need_cmd qemu-io

IMG=$T/disk.vhd
"$VHD" create "$IMG" 8M >/dev/null
qemu-io -f vpc -c 'write -P 0x5a 0 1M' "$IMG" >/dev/null
"$VHD" create "$T/victim.vhd" 4M >/dev/null
VICTIM_SHA=$(sha "$T/victim.vhd")

victim_intact() { # victim_intact WHAT
	[[ -f $T/victim.vhd && ! -S $T/victim.vhd ]] || fail "$1: the VHD at PATH was replaced"
	assert_eq "$(sha "$T/victim.vhd")" "$VICTIM_SHA" "$1: the VHD at PATH changed"
	"$VHD" check "$T/victim.vhd" >/dev/null || fail "$1: vhd check of the VHD at PATH failed"
}

note "a VHD file at --socket PATH is not replaced"
expect_exit 1 "$VHD" serve --socket "$T/victim.vhd" "$IMG"
assert_stderr "victim.vhd.*not a socket.*not replaced"
victim_intact "--socket"

note "a VHD file at --control PATH is not replaced"
expect_exit 1 "$VHD" serve --socket "$T/s0.sock" --control "$T/victim.vhd" "$IMG"
assert_stderr "victim.vhd.*not a socket.*not replaced"
victim_intact "--control"
[[ ! -e $T/s0.sock ]] || fail "the NBD socket was left behind after a refused --control"

note "a symlink and a directory at PATH are not replaced"
ln -s "$T/victim.vhd" "$T/link.sock"
expect_exit 1 "$VHD" serve --socket "$T/link.sock" "$IMG"
assert_stderr "not a socket"
[[ -L $T/link.sock ]] || fail "the symlink at PATH was replaced"
victim_intact "symlink"
mkdir "$T/dir.sock"
expect_exit 1 "$VHD" serve --socket "$T/dir.sock" "$IMG"
assert_stderr "not a socket"
[[ -d $T/dir.sock ]] || fail "the directory at PATH was replaced"
ls "$T" | grep -q '\.tmp$' && fail "a temporary socket was left behind: $(ls "$T")"

note "sockets are 0600 under umask 000"
S=$T/nbd.sock
C=$T/ctl.sock
OLD_UMASK=$(umask)
umask 000
serve_start "$S" --control "$C" "$IMG"
umask "$OLD_UMASK"
PID1=$SERVE_PID
assert_eq "$(stat -c %a "$S")" 600 "mode of the NBD socket"
assert_eq "$(stat -c %a "$C")" 600 "mode of the control socket"
INO_S=$(stat -c %i "$S")
INO_C=$(stat -c %i "$C")

note "a live server's sockets are refused"
"$VHD" create "$T/other.vhd" 4M >/dev/null
expect_exit 1 "$VHD" serve --socket "$S" "$T/other.vhd"
assert_stderr "already listening"
expect_exit 1 "$VHD" serve --socket "$T/other.sock" --control "$C" "$T/other.vhd"
assert_stderr "already listening"
assert_eq "$(stat -c %i "$S")" "$INO_S" "inode of the live NBD socket"
assert_eq "$(stat -c %i "$C")" "$INO_C" "inode of the live control socket"
[[ ! -e $T/other.sock ]] || fail "the NBD socket was left behind after a refused --control"
qio -r -f raw -c 'read -P 0x5a 0 1M' "$(nbd_uri "$S" disk.vhd)"
victim_intact "live server"

note "stale sockets (server killed) are replaced"
kill -9 "$PID1"
wait "$PID1" 2>/dev/null || true
[[ -S $S && -S $C ]] || fail "SIGKILL did not leave stale sockets"
serve_start "$S" --control "$C" "$IMG"
qio -r -f raw -c 'read -P 0x5a 0 1M' "$(nbd_uri "$S" disk.vhd)"
serve_stop
[[ ! -e $S && ! -e $C ]] || fail "sockets left after SIGTERM"
