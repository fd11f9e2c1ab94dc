#!/bin/bash
# Checks that #include "..." lines follow the dependency direction of
# docs/architecture.md, and that every public header compiles on its own.
#   scripts/check-includes.sh [ROOT]      (default: the tree this script is in)
# Exits 1 and names each offending line when a rule is broken.
set -uo pipefail

ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
CC=${CC:-gcc}

# folder -> folders it may include (besides itself). "*" = any.
declare -A ALLOW=(
	[common]=""
	[vhd]=""
	[virtio]="common"
	[netback]="virtio common"
	[blkback]="vhd virtio common"
	[hv]="blkback netback virtio common"
	[images]="hv netback blkback vhd virtio common"
	[appliance]="images hv netback blkback vhd common"
	[tools]="*"
	[tests]="*"
)
# Folders whose headers nothing outside them may include.
PRIVATE_TO_SELF="tools"

bad=0
report() { echo "check-includes: $*"; bad=1; }

cd "$ROOT" || exit 2
while IFS= read -r f; do
	dir=${f%%/*}
	[[ -v ALLOW[$dir] ]] || continue
	while IFS=: read -r ln inc; do
		target=${inc#*\"}
		target=${target%%\"*}
		if [[ $target == ../* || $target == */../* ]]; then
			report "$f:$ln: relative include \"$target\" (write it from the root)"
			continue
		fi
		[[ $target == */* ]] || continue   # same-folder include
		tdir=${target%%/*}
		[[ -v ALLOW[$tdir] ]] || continue  # not one of ours
		[[ $tdir == "$dir" ]] && continue
		if [[ " $PRIVATE_TO_SELF " == *" $tdir "* && $dir != tests ]]; then
			report "$f:$ln: includes \"$target\": nothing outside $tdir/ may include it"
			continue
		fi
		allowed=${ALLOW[$dir]}
		[[ $allowed == "*" ]] && continue
		if [[ " $allowed " != *" $tdir "* ]]; then
			report "$f:$ln: $dir/ may not include \"$target\" ($dir/ may include: ${allowed:-nothing of ours})"
		fi
	done < <(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed -E 's/^([0-9]+):.*(".*").*/\1:\2/')
done < <(find . -path ./build -prune -o -path ./.git -prune -o \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)

# Every public header (not *_int.h, not under tests/) compiles on its own.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while IFS= read -r h; do
	h=${h#./}
	printf '#include "%s"\n' "$h" >"$tmp/t.c"
	if ! $CC -std=gnu11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror -Wstrict-prototypes \
		-fsyntax-only "$tmp/t.c" 2>"$tmp/err"; then
		report "$h does not compile on its own:"
		sed 's/^/    /' "$tmp/err" | head -10
	fi
done < <(find . -path ./build -prune -o -path ./.git -prune -o -path ./tests -prune -o \
	-name '*.h' ! -name '*_int.h' -print | sort)

((bad == 0)) && echo "check-includes: ok"
exit $bad
