#!/bin/bash
# The include-direction check passes on the tree, and fails, naming the
# line, on each kind of wrong include planted in a scratch copy.
source "$VV_ROOT/tests/integration/lib.sh"

CHECK=$VV_ROOT/scripts/check-includes.sh

note "the real tree passes"
bash "$CHECK" "$VV_ROOT" >"$T/out" 2>&1 || { cat "$T/out"; fail "tree does not pass"; }

# A scratch tree with one good file per folder.
mk_tree() {
	rm -rf "$T/tree"
	mkdir -p "$T/tree"/{common,vhd,blkback,hv,tools/vhd}
	printf '#ifndef A_H\n#define A_H\nint common_a(void);\n#endif\n' >"$T/tree/common/a.h"
	printf '#ifndef V_H\n#define V_H\nint vhd_v(void);\n#endif\n' >"$T/tree/vhd/v.h"
	printf '#include "vhd/v.h"\n#include "common/a.h"\n' >"$T/tree/blkback/b.c"
	printf '#include "blkback/b.h"\n' >"$T/tree/hv/h.c"
	printf '#ifndef B_H\n#define B_H\n#include "vhd/v.h"\n#endif\n' >"$T/tree/blkback/b.h"
	printf '#include "hv/x.h"\n#include "vhd/v.h"\n' >"$T/tree/tools/vhd/main.c"
}

note "a clean scratch tree passes"
mk_tree
bash "$CHECK" "$T/tree" >"$T/out" 2>&1 || { cat "$T/out"; fail "clean scratch tree rejected"; }

expect_reject() { # FILE LINE WHY-REGEX
	mk_tree
	printf '%s\n' "$2" >>"$T/tree/$1"
	if bash "$CHECK" "$T/tree" >"$T/out" 2>&1; then
		fail "'$2' in $1 was accepted"
	fi
	grep -Eq -- "$3" "$T/out" || { cat "$T/out"; fail "message for '$2' in $1 lacks /$3/"; }
}

note "vhd/ may include nothing of ours"
expect_reject vhd/v.c '#include "common/a.h"' 'vhd/v.c:1: vhd/ may not include "common/a.h"'
note "common/ may not include upward"
expect_reject common/a.c '#include "blkback/b.h"' 'common/ may not include'
note "blkback/ may not include hv/"
expect_reject blkback/b.c '#include "hv/h.h"' 'blkback/b.c:3: blkback/ may not include "hv/h.h"'
note "nothing includes tools/"
expect_reject hv/h.c '#include "tools/vhd/cmds.h"' 'nothing outside tools/ may include'
note "only tools/ includes appliance/"
expect_reject hv/h.c '#include "appliance/api.h"' 'hv/h.c:2: hv/ may not include "appliance/api.h"'
note "relative includes are refused"
expect_reject blkback/b.c '#include "../vhd/v.h"' 'relative include'
note "a header that does not compile alone is refused"
mk_tree
printf '#ifndef C_H\n#define C_H\nstatic inline size_t f(void) { return 0; }\n#endif\n' >"$T/tree/common/c.h"
if bash "$CHECK" "$T/tree" >"$T/out" 2>&1; then fail "non-self-contained header accepted"; fi
grep -q 'common/c.h does not compile on its own' "$T/out" || { cat "$T/out"; fail "wrong message"; }
echo "all include-direction cases behave"
