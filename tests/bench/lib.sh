# tests/bench/lib.sh: sourced by bench scripts. Gives $T (a private scratch
# folder under $VV_BENCH_TMP or /var/tmp, removed at exit), timing and
# reporting helpers.
set -euo pipefail
: "${VV_ROOT:?run through tests/bench/run.sh (make bench)}"
T=$(mktemp -d "${VV_BENCH_TMP:-/var/tmp}/vvbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
skip() { echo "SKIP: $*"; exit 77; }
need_cmd() { local c; for c; do command -v "$c" >/dev/null || skip "$c not installed"; done; }

# secs CMD...: runs CMD (output discarded), prints its wall time in seconds.
secs() {
	local s e
	s=$(date +%s.%N)
	"$@" >/dev/null
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l | xargs printf '%.3f'
}

# compare WHAT OURS THEIRS PEER: one line with both times and the ratio
# (> 1 means we are faster).
compare() {
	printf '%-40s ours %8.3fs  %-14s %8.3fs  ratio %.2fx\n' "$1" "$2" "$4" "$3" \
		"$(echo "$3 / $2" | bc -l)"
}
