#!/bin/bash
# `make install` puts the programs, their man pages and their bash
# completion under PREFIX; the man pages render without a groff warning
# and name every command and option the programs have; the completion
# completes commands, actions, options and the names in the catalog.
source "$VV_ROOT/tests/integration/lib.sh"
need_cmd make groff

P=$T/prefix
note "make install PREFIX=$P"
# -o all: install what this build made, whatever flags it was built with
make -s -C "$VV_ROOT" -o all install BUILD="$VV_BUILD" PREFIX="$P" >"$T/make.out" 2>&1 ||
	{ cat "$T/make.out"; fail "make install"; }
for f in bin/vhd bin/vhdvisor bin/vhdvisord share/man/man1/vhd.1 share/man/man1/vhdvisor.1 \
	share/man/man1/vhdvisord.1 share/bash-completion/completions/vhd \
	share/bash-completion/completions/vhdvisor share/bash-completion/completions/vhdvisord \
	bin/vhdvisor-installer share/man/man1/vhdvisor-installer.1 \
	share/bash-completion/completions/vhdvisor-installer; do
	[[ -s $P/$f ]] || fail "make install did not install $f"
done
make -s -C "$VV_ROOT" -o all install BUILD="$VV_BUILD" PREFIX=/usr DESTDIR="$T/dest" >/dev/null 2>&1 ||
	fail "make install DESTDIR"
[[ -s $T/dest/usr/share/man/man1/vhd.1 ]] || fail "DESTDIR not honoured"

note "the man pages render cleanly and cover the commands"
for p in vhd vhdvisor vhdvisord vhdvisor-installer; do
	groff -man -Tutf8 -ww "$P/share/man/man1/$p.1" >"$T/$p.txt" 2>"$T/$p.warn" ||
		fail "groff $p.1"
	[[ ! -s $T/$p.warn ]] || { cat "$T/$p.warn"; fail "$p.1: groff warnings"; }
	if command -v man >/dev/null; then
		MANWIDTH=100 man -l "$P/share/man/man1/$p.1" >"$T/$p.man" 2>/dev/null ||
			fail "man -l $p.1"
	fi
done
# for the coverage checks: long lines, no hyphenation, no overstrikes
for p in vhd vhdvisor vhdvisord vhdvisor-installer; do
	groff -man -Tutf8 -rLL=500n -rHY=0 "$P/share/man/man1/$p.1" 2>/dev/null |
		sed 's/.\x08//g; s/  */ /g' >"$T/$p.plain"
done
for c in create snapshot info check read write map convert commit flatten resize compact \
	serve mount umount; do
	grep -q "^ *$c\b" "$T/vhd.plain" || fail "vhd.1 lacks the command $c"
	# every long option of the command's --help appears in the page
	for o in $("$P/bin/vhd" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "$o" "$T/vhd.plain" || fail "vhd.1 lacks $c $o"
	done
done
for fam in image vm lab net token host; do
	for act in $("$P/bin/vhdvisor" "$fam" --help |
		sed -nE "s/^(usage:| ) *vhdvisor $fam ([a-z-]+).*/\2/p" | sort -u); do
		grep -q "$fam $act\b" "$T/vhdvisor.plain" || fail "vhdvisor.1 lacks $fam $act"
		for o in $("$P/bin/vhdvisor" "$fam" "$act" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "$o" "$T/vhdvisor.plain" || fail "vhdvisor.1 lacks $fam $act $o"
		done
	done
done
for o in $("$P/bin/vhdvisor" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$o" "$T/vhdvisor.plain" || fail "vhdvisor.1 lacks the global option $o"
done
for o in $("$P/bin/vhdvisor" run --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$o" "$T/vhdvisor.plain" || fail "vhdvisor.1 lacks run $o"
done
grep -q "NAME.log" "$T/vhdvisor.plain" || fail "vhdvisor.1 does not say where the logs are"
for o in $("$P/bin/vhdvisor-installer" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$o" "$T/vhdvisor-installer.plain" || fail "vhdvisor-installer.1 lacks $o"
done
for c in report plan check-answer; do
	grep -q "vhdvisor-installer $c" "$T/vhdvisor-installer.plain" || fail "vhdvisor-installer.1 lacks $c"
done
for o in $("$P/bin/vhdvisord" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$o" "$T/vhdvisord.plain" || fail "vhdvisord.1 lacks $o"
done

note "bash completion"
export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run
truncate -s 8M "$T/t.raw"
"$P/bin/vhdvisor" image import "$T/t.raw" --format raw --name tmpl >/dev/null
"$P/bin/vhdvisor" vm create web --from tmpl >/dev/null
"$P/bin/vhdvisor" --state "$T/other" image import "$T/t.raw" --format raw --name tmpl >/dev/null
"$P/bin/vhdvisor" --state "$T/other" vm create db --from tmpl >/dev/null
# comp PROG WORD...: the completions of the last WORD, sorted, on one line
comp() {
	PATH=$P/bin:$PATH bash -c '
		source "$1"; shift
		prog=$1; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
		"_$prog"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		comp "$P/share/bash-completion/completions/$1" "$@"
}
assert_eq "$(comp vhd vhd co)" "commit compact convert " "vhd commands"
assert_eq "$(comp vhd vhd -q conv)" "convert " "vhd command after a global option"
assert_eq "$(comp vhd vhd convert --pro)" "--progress " "vhd convert options"
assert_eq "$(comp vhd vhd convert -O v)" "vhd vhd-fixed " "vhd convert -O"
assert_eq "$(comp vhd vhd check --r)" "--repair " "vhd check options"
assert_eq "$(comp vhdvisor vhdvisor l)" "lab " "vhdvisor commands"
assert_eq "$(comp vhdvisor vhdvisor --st)" "--state " "global options"
assert_eq "$(comp vhdvisor vhdvisor vm st)" "start status stop " "vm actions"
assert_eq "$(comp vhdvisor vhdvisor --state "$T/state" vm sn)" "snapshot snapshot-rm snapshots " \
	"actions after --state"
assert_eq "$(comp vhdvisor vhdvisor vm start --acc)" "--accel " "vm start options"
assert_eq "$(comp vhdvisor vhdvisor vm start web --accel "")" "auto kvm tcg " "--accel values"
assert_eq "$(comp vhdvisor vhdvisor vm start "")" "web " "VM names"
assert_eq "$(comp vhdvisor vhdvisor --state "$T/other" vm stop "")" "db " "VM names of --state"
assert_eq "$(comp vhdvisor vhdvisor vm create x --from "")" "tmpl " "image names"
assert_eq "$(comp vhdvisor vhdvisor image export tmpl --f)" "--format " "image export options"
assert_eq "$(comp vhdvisor vhdvisor lab create l --c)" "--count --cpus " "lab create options"
assert_eq "$(comp vhdvisor vhdvisor token create ci --role "")" "admin operator viewer " "token roles"
assert_eq "$(comp vhdvisord vhdvisord --l)" "--listen " "vhdvisord options"
echo "install, man pages and completion behave"
