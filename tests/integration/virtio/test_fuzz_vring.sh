#!/bin/bash
# The libFuzzer target tests/fuzz/fuzz_vring.c (virtio/'s split virtqueue
# parsing), built here with clang (ASan+UBSan, virtio/*.c compiled in),
# runs over its generated seeds and then fuzzes briefly: no crash, no
# buffer outside guest memory, no UB. `make fuzz` runs it longer.
# timeout: 120
source "$VV_ROOT/tests/integration/lib.sh"
need_cmd clang python3
secs=${VHDVISOR_LONG:+300}
bin=$T/fuzz_vring
clang -std=gnu11 -O1 -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I"$VV_ROOT" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$bin" "$VV_ROOT/tests/fuzz/fuzz_vring.c" "$VV_ROOT"/virtio/*.c \
	2>"$T/cc.log" || {
	grep -q 'libclang_rt.fuzzer\|cannot find' "$T/cc.log" && skip "libFuzzer runtime missing (libclang-rt-14-dev)"
	cat "$T/cc.log"
	fail "the fuzz target does not build"
}
bash "$VV_ROOT/tests/fuzz/make-corpus-fuzz_vring.sh" "$T/seeds"
(($(ls "$T/seeds" | wc -l) >= 5)) || fail "too few seeds"
mkdir -p "$T/work"
"$bin" -runs=0 "$T/seeds" >"$T/seeds.log" 2>&1 ||
	{ tail -30 "$T/seeds.log"; fail "a seed input crashes the target"; }
"$bin" -max_total_time="${secs:-15}" -max_len=70000 -timeout=20 -rss_limit_mb=2048 \
	-artifact_prefix="$T/" "$T/work" "$T/seeds" >"$T/fuzz.log" 2>&1 ||
	{ grep -E 'ERROR|SUMMARY|#[0-9]+ in' "$T/fuzz.log" | head -30; fail "fuzzing found a crash"; }
grep 'DONE\|Done' "$T/fuzz.log" | tail -1
