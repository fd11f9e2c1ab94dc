#!/bin/bash
# Crash safety under kill -9: writers, `vhd commit` and `vhd flatten` are
# killed at random moments. Afterwards every image checks clean, every
# completed `vhd write` reads back, an interrupted commit or flatten leaves
# a chain that reads the same, and running it again finishes the job.
# VHDVISOR_LONG=1 runs more rounds.
# timeout: 600
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/vhd/lib_vhd.sh"
need_cmd jq

M=$((1 << 20))
rounds=${VHDVISOR_LONG:+60}
rounds=${rounds:-12}
pause() { sleep "0.$(printf '%03d' $((RANDOM % ${1:-300})))"; }
check_clean() {
	expect_exit 0 "$VHD" check "$1"
	grep -q '^error' "$T/stdout" && { cat "$T/stdout"; fail "$1: errors after a crash"; }
	true
}

note "writers killed at random moments ($rounds rounds)"
img=$T/w.vhd
"$VHD" create "$img" 256M
slot=$((2 * M + 4096))          # crosses block boundaries, never overlaps another
done_list=()
for ((i = 0; i < rounds * 3; i++)); do
	off=$((i * slot + (i % 7) * 512 + 3))
	byte=$((1 + i % 250))
	"$VHD" write "$img" "$off" --pattern "$byte" --length $((2 * M)) &
	pid=$!
	pause 40
	kill -9 $pid 2>/dev/null || true
	rc=0
	wait $pid || rc=$?
	((rc == 0)) && done_list+=("$off:$byte")
	check_clean "$img"
done
note "${#done_list[@]} of $((rounds * 3)) writes completed before their kill"
for w in "${done_list[@]}"; do
	off=${w%%:*} byte=${w##*:}
	"$VHD" read "$img" "$off" $((2 * M)) | cmp -s - <(head -c $((2 * M)) /dev/zero |
		tr '\0' "\\$(printf '%03o' "$byte")") || fail "completed write at $off did not survive"
done

note "commit killed at random moments ($rounds rounds)"
mkdir -p "$T/pristine"
"$VHD" create "$T/pristine/base.vhd" 96M
"$VHD" write "$T/pristine/base.vhd" 0 --pattern 0x11 --length 40M
"$VHD" snapshot "$T/pristine/base.vhd" "$T/pristine/child.vhd"
rnd "$T/r" $((48 * M))
"$VHD" write "$T/pristine/child.vhd" $((10 * M + 512)) --from "$T/r"
"$VHD" write "$T/pristine/child.vhd" $((90 * M)) --pattern 0x22 --length 3M
vraw "$T/pristine/child.vhd" "$T/want"
for ((i = 0; i < rounds; i++)); do
	rm -rf "$T/c"
	cp -a "$T/pristine" "$T/c"
	"$VHD" commit "$T/c/child.vhd" &
	pid=$!
	pause 400
	kill -9 $pid 2>/dev/null || true
	wait $pid || true
	check_clean "$T/c/base.vhd"
	check_clean "$T/c/child.vhd"
	vraw "$T/c/child.vhd" "$T/got"
	same "$T/got" "$T/want" "chain after a killed commit (round $i)"
	"$VHD" commit "$T/c/child.vhd"
	vraw "$T/c/child.vhd" "$T/got"
	same "$T/got" "$T/want" "chain after the re-run commit (round $i)"
	vraw "$T/c/base.vhd" "$T/got"
	same "$T/got" "$T/want" "parent after the re-run commit (round $i)"
done

note "flatten killed at random moments ($rounds rounds)"
for ((i = 0; i < rounds; i++)); do
	rm -rf "$T/c"
	cp -a "$T/pristine" "$T/c"
	"$VHD" flatten "$T/c/child.vhd" &
	pid=$!
	pause 400
	kill -9 $pid 2>/dev/null || true
	wait $pid || true
	check_clean "$T/c/child.vhd"
	vraw "$T/c/child.vhd" "$T/got"
	same "$T/got" "$T/want" "image after a killed flatten (round $i)"
	"$VHD" flatten "$T/c/child.vhd" 2>/dev/null ||
		assert_eq "$("$VHD" info --json "$T/c/child.vhd" | jq -r .type)" dynamic "finished flatten"
	rm "$T/c/base.vhd"
	vraw "$T/c/child.vhd" "$T/got"
	same "$T/got" "$T/want" "flattened image without its parent (round $i)"
done
echo "crash checks passed"
