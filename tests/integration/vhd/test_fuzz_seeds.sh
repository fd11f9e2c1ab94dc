#!/bin/bash
# The libFuzzer target tests/fuzz/fuzz_vhd_open.c, built here with clang
# (ASan+UBSan, the library compiled in from vhd/*.c), runs over its
# generated seed corpus and then fuzzes briefly: no crash, leak or UB.
# timeout: 240
source "$VV_ROOT/tests/integration/lib.sh"
need_cmd clang
secs=${VHDVISOR_LONG:+300}
bin=$T/fuzz_vhd_open
clang -std=gnu11 -O1 -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I"$VV_ROOT" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$bin" "$VV_ROOT/tests/fuzz/fuzz_vhd_open.c" "$VV_ROOT"/vhd/*.c -lpthread \
	2>"$T/cc.log" || {
	grep -q 'libclang_rt.fuzzer\|cannot find' "$T/cc.log" && skip "libFuzzer runtime missing (libclang-rt-14-dev)"
	cat "$T/cc.log"
	fail "the fuzz target does not build"
}
bash "$VV_ROOT/tests/fuzz/make-corpus.sh" "$T/seeds" "$VHD"
(($(ls "$T/seeds" | wc -l) >= 8)) || fail "too few seeds"
mkdir -p "$T/work"
"$bin" -runs=0 -max_len=1048576 "$T/seeds" >"$T/seeds.log" 2>&1 ||
	{ tail -30 "$T/seeds.log"; fail "a seed input crashes the target"; }
"$bin" -max_total_time="${secs:-15}" -max_len=1048576 -timeout=20 -rss_limit_mb=2048 \
	-artifact_prefix="$T/" "$T/work" "$T/seeds" >"$T/fuzz.log" 2>&1 ||
	{ grep -E 'ERROR|SUMMARY|#[0-9]+ in' "$T/fuzz.log" | head -30; fail "fuzzing found a crash"; }
grep 'DONE\|Done' "$T/fuzz.log" | tail -1
