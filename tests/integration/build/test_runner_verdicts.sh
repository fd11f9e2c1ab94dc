#!/bin/bash
# The test runner counts passes, failures and skips correctly, shows the
# skip reason, enforces time limits, and exits non-zero on any failure.
source "$VV_ROOT/tests/integration/lib.sh"

mkdir -p "$T/it/x"
printf '#!/bin/bash\nexit 0\n' >"$T/it/x/test_a_pass.sh"
printf '#!/bin/bash\necho "SKIP: no frobnicator here"\nexit 77\n' >"$T/it/x/test_b_skip.sh"
printf '#!/bin/bash\necho boom >&2\nexit 3\n' >"$T/it/x/test_c_fail.sh"
printf '#!/bin/bash\n# timeout: 1\nsleep 30\n' >"$T/it/x/test_d_slow.sh"
printf '#!/bin/bash\n# serial\nexit 0\n' >"$T/it/x/test_e_serial.sh"

rc=0
VV_INTEGRATION_DIR=$T/it BUILD=$T/build bash "$VV_ROOT/tests/run.sh" --integration >"$T/out" 2>&1 || rc=$?
cat "$T/out"
assert_eq "$rc" 1 "runner exit status with failures"
assert_eq "$(tail -1 "$T/out")" "2 passed, 2 failed, 1 skipped" "summary line"
grep -q '^skip x_test_b_skip: no frobnicator here' "$T/out" || fail "skip reason not shown"
grep -q 'FAIL x_test_c_fail: exit 3' "$T/out" || fail "failure not named"
grep -q 'boom' "$T/out" || fail "failure log tail not shown"
grep -q 'FAIL x_test_d_slow: .*timed out after 1s' "$T/out" || fail "time limit not enforced"

note "all passing -> exit 0"
rm "$T/it/x/test_c_fail.sh" "$T/it/x/test_d_slow.sh"
VV_INTEGRATION_DIR=$T/it BUILD=$T/build bash "$VV_ROOT/tests/run.sh" --integration >"$T/out" 2>&1 || fail "runner failed with no failures"
assert_eq "$(tail -1 "$T/out")" "2 passed, 0 failed, 1 skipped" "summary line"
