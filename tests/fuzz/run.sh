#!/bin/bash
# tests/fuzz/run.sh BINDIR SECONDS: runs every libFuzzer binary BINDIR/fuzz_*
# for SECONDS each over its seed corpus. Seeds are generated into
# BINDIR/../fuzz-corpus/<name>/ (tests/fuzz/make-corpus-<name>.sh when there
# is one, else tests/fuzz/make-corpus.sh, with BINDIR/vhd);
# new inputs go to a scratch copy, crashes to BINDIR/../fuzz-artifacts/.
# Exits non-zero when any target crashes.
set -uo pipefail
bindir=${1:?usage: run.sh BINDIR SECONDS}
secs=${2:?usage: run.sh BINDIR SECONDS}
root=$(cd "$(dirname "$0")/../.." && pwd)
bindir=$(cd "$bindir" && pwd)
corpus_root=$bindir/../fuzz-corpus
artifacts=$bindir/../fuzz-artifacts
mkdir -p "$corpus_root" "$artifacts"
status=0
found=0
for bin in "$bindir"/fuzz_*; do
	[[ -x $bin ]] || continue
	found=1
	name=$(basename "$bin")
	seeds=$corpus_root/$name
	gen=$root/tests/fuzz/make-corpus-$name.sh
	[[ -f $gen ]] || gen=$root/tests/fuzz/make-corpus.sh
	rm -rf "$seeds"
	bash "$gen" "$seeds" "$bindir/vhd" >/dev/null || { echo "$name: seed generation failed"; status=1; continue; }
	work=$(mktemp -d)
	echo "=== $name: ${secs}s over $(ls "$seeds" | wc -l) seeds"
	if ! "$bin" -max_total_time="$secs" -max_len=1048576 -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/$name-" -print_final_stats=1 "$work" "$seeds" \
		>"$artifacts/$name.log" 2>&1; then
		echo "FAIL $name: see $artifacts/$name.log"
		grep -E 'ERROR|SUMMARY|Test unit written' "$artifacts/$name.log" | head -5
		status=1
	else
		grep -E 'stat::number_of_executed_units|cov:' "$artifacts/$name.log" | tail -2
		echo "ok   $name"
	fi
	rm -rf "$work"
done
((found)) || { echo "no fuzz_* binaries in $bindir (make fuzz-build)"; exit 1; }
exit $status
