#!/bin/bash
# The test runner of `make test`: Criterion unit binaries, then the
# integration scripts. Prints one summary line "N passed, N failed, N skipped"
# and exits non-zero when anything failed.
#
#   tests/run.sh [--unit|--integration] [FILTER]
#
# Integration tests are tests/integration/<folder>/test_*.sh. Exit status
# 0 = passed, 77 = skipped (the last "SKIP: reason" line says why), anything
# else = failed. A line "# timeout: SECONDS" in a script raises its time
# limit (default 300 s); "# serial" makes it run alone, after the others.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
JOBS=${VV_TEST_JOBS:-2}
mode=all
filter=
for a in "$@"; do
	case $a in
	--unit) mode=unit ;;
	--integration) mode=integration ;;
	*) filter=$a ;;
	esac
done

export VV_ROOT=$ROOT VV_BUILD=$BUILD
export VHD=$BUILD/bin/vhd VHDVISOR=$BUILD/bin/vhdvisor
export VHDVISOR_CACHE=${VHDVISOR_CACHE:-/var/cache/vhdvisor}
LOGDIR=$BUILD/test-logs
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

passed=0 failed=0 skipped=0
failures=()

run_unit() {
	local bin out syn t p f c
	for bin in "$BUILD"/tests/unit/*/test_*; do
		[[ -x $bin ]] || continue
		[[ -z $filter || $bin == *"$filter"* ]] || continue
		out=$LOGDIR/unit-$(basename "$bin").log
		"$bin" --jobs 2 >"$out" 2>&1
		local rc=$?
		syn=$(grep -a 'Synthesis: Tested' "$out" | tail -1)
		t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$syn")
		p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
		f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
		c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn")
		if [[ -z $syn ]]; then
			echo "FAIL unit $(basename "$bin"): no Criterion summary (exit $rc)"
			tail -20 "$out"
			failed=$((failed + 1))
			failures+=("unit/$(basename "$bin")")
			continue
		fi
		passed=$((passed + p))
		failed=$((failed + f + c))
		local skip_n=$((t - p - f - c))
		((skip_n > 0)) && skipped=$((skipped + skip_n))
		if ((f + c > 0 || rc != 0)); then
			((f + c == 0)) && failed=$((failed + 1))
			echo "FAIL unit $(basename "$bin"): $syn (exit $rc)"
			grep -a -E '\[FAIL\]|\[----\]|CRASH|ERROR' "$out" | head -40
			failures+=("unit/$(basename "$bin")")
		else
			echo "ok   unit $(basename "$bin"): $p tests"
		fi
	done
}

# Runs one integration script; writes its verdict to $LOGDIR/NAME.res
run_one() {
	local t=$1 name to start rc reason
	name=${t#"${VV_INTEGRATION_DIR:-$ROOT/tests/integration}"/}
	name=${name%.sh}
	name=${name//\//_}
	to=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
	to=${to:-300}
	start=$(date +%s.%N)
	(cd "$ROOT" && timeout -k 10 "$to" bash "$t") >"$LOGDIR/$name.log" 2>&1 </dev/null
	rc=$?
	local secs
	secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	if ((rc == 0)); then
		echo "ok   $name (${secs}s)"
		echo pass >"$LOGDIR/$name.res"
	elif ((rc == 77)); then
		reason=$(grep -a '^SKIP:' "$LOGDIR/$name.log" | tail -1)
		echo "skip $name: ${reason#SKIP: }"
		echo skip >"$LOGDIR/$name.res"
	else
		((rc == 124 || rc == 137)) && reason=" (timed out after ${to}s)" || reason=""
		{
			echo "FAIL $name: exit $rc$reason (${secs}s); last lines of $LOGDIR/$name.log:"
			tail -25 "$LOGDIR/$name.log" | sed 's/^/    /'
		}
		echo fail >"$LOGDIR/$name.res"
	fi
}
export -f run_one
export LOGDIR ROOT VV_INTEGRATION_DIR

run_integration() {
	local all=() par=() ser=() t
	while IFS= read -r t; do
		[[ -z $filter || $t == *"$filter"* ]] || continue
		all+=("$t")
	done < <(find "${VV_INTEGRATION_DIR:-$ROOT/tests/integration}" -name 'test_*.sh' | sort)
	for t in "${all[@]}"; do
		if grep -q '^# serial' "$t"; then ser+=("$t"); else par+=("$t"); fi
	done
	if ((${#par[@]})); then
		printf '%s\0' "${par[@]}" | xargs -0 -n1 -P "$JOBS" bash -c 'run_one "$0"'
	fi
	for t in "${ser[@]}"; do run_one "$t"; done
	local r n
	for r in "$LOGDIR"/*.res; do
		[[ -e $r ]] || continue
		n=$(basename "$r" .res)
		case $(cat "$r") in
		pass) passed=$((passed + 1)) ;;
		skip) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)); failures+=("$n") ;;
		esac
	done
}

[[ $mode == integration ]] || run_unit
[[ $mode == unit ]] || run_integration

if ((${#failures[@]})); then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
