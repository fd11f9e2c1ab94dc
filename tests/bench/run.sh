#!/bin/bash
# The driver of `make bench`: runs every tests/bench/<area>_<what>.sh in
# turn (each compares us with the peer tool in the same run and prints its
# own figures and ratios), then one line per script with its verdict.
#
#   tests/bench/run.sh [FILTER]      BUILD=dir selects the binaries
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
export VV_ROOT=$ROOT VV_BUILD=$BUILD VHD=$BUILD/bin/vhd VHDVISOR=$BUILD/bin/vhdvisor
filter=${1:-}
results=()
status=0

for b in "$ROOT"/tests/bench/*_*.sh; do
	[[ -e $b ]] || continue
	name=$(basename "$b" .sh)
	[[ -z $filter || $name == *"$filter"* ]] || continue
	echo "=== $name"
	start=$(date +%s)
	(cd "$ROOT" && bash "$b")
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) results+=("ok   $name (${secs}s)") ;;
	77) results+=("skip $name") ;;
	*) results+=("FAIL $name (exit $rc)"); status=1 ;;
	esac
done
echo "=== summary"
printf '%s\n' "${results[@]}"
exit $status
