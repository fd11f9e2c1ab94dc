# tests/integration/lib.sh: sourced by every integration test.
#
# Gives: $VHD, $VHDVISOR (the binaries under test), $T (a private temporary
# folder removed at exit), skip/fail/assert helpers, and at_exit to register
# cleanup commands (run in reverse order, even on failure).
set -euo pipefail

: "${VV_ROOT:?run through tests/run.sh (make test)}"
: "${VV_BUILD:?}"
VHD=${VHD:-$VV_BUILD/bin/vhd}
VHDVISOR=${VHDVISOR:-$VV_BUILD/bin/vhdvisor}
# Compiler flags a test must add when it links C against $VV_BUILD/lib
# (set by `make asan` to the sanitizer flags; empty otherwise).
VV_SAN=${VV_SAN:-}

T=$(mktemp -d "${TMPDIR:-/tmp}/vvtest.XXXXXX")
_vv_exit_cmds=()
at_exit() { _vv_exit_cmds+=("$*"); }
_vv_cleanup() {
	local rc=$? i
	for ((i = ${#_vv_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_vv_exit_cmds[i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$T"
	exit $rc
}
trap _vv_cleanup EXIT

# skip REASON: the test cannot run here; counted as skipped, never passed.
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*"; }

assert_eq() { # assert_eq GOT WANT WHAT
	[[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"
}
# expect_exit CODE CMD...: runs CMD, asserts its exit status; its stderr is
# kept in $T/stderr for assert_stderr.
expect_exit() {
	local want=$1 rc=0
	shift
	"$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
	if [[ $rc != "$want" ]]; then
		cat "$T/stderr" >&2
		fail "'$*' exited $rc, want $want"
	fi
}
assert_stderr() { # assert_stderr REGEX: the last expect_exit's stderr matches
	grep -Eq -- "$1" "$T/stderr" || { cat "$T/stderr" >&2; fail "stderr lacks /$1/"; }
}
# lvread OUT FILE...: writes the disk of the VHD chain FILE... (child
# first) as libvhdi reads it (tests/tools/lvread.c, built by tests-build).
lvread() { "$VV_BUILD/tests/tools/lvread" "$@"; }
# lvread_chain OUT VHD: the same for VHD and the parents `vhd info` lists.
lvread_chain() {
	local chain
	mapfile -t chain < <("$VHD" info --json "$2" | jq -r '.chain[].file')
	((${#chain[@]})) || return 1
	lvread "$1" "${chain[@]}"
}
need_cmd() { local c; for c; do command -v "$c" >/dev/null || skip "$c not installed"; done; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
