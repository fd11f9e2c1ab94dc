#!/bin/bash
# `vhdvisor image build RECIPE`: the tiny recipe enters the catalog with its
# recipe.env metadata and the same content id as its VHD imported by hand;
# an unknown recipe is refused with the list of known ones; a failing
# recipe (a scratch one through $VHDVISOR_RECIPES) reports its exit status
# and last stderr lines and leaves nothing in the catalog or STATE/tmp.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq

note "image build tiny"
vv image build tiny >"$T/build.out" 2>"$T/build.err" ||
	skip "the tiny template cannot be built here: $(tail -1 "$T/build.err")"
grep -q "as tiny:1" "$T/build.out" || fail "not named tiny:1: $(cat "$T/build.out")"
vv image show tiny --json >"$T/show.json"
assert_eq "$(jq -r .source "$T/show.json")" "recipe:tiny" source
assert_eq "$(jq -r .boot "$T/show.json")" image boot
assert_eq "$(jq -r .arch "$T/show.json")" x86_64 arch
assert_eq "$(jq -r .min_mem "$T/show.json")" $((128 << 20)) min_mem
assert_eq "$(jq -r .min_disk "$T/show.json")" $((64 << 20)) min_disk
jq -e '.os | startswith("busybox")' "$T/show.json" >/dev/null || fail "os not filled"
assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "tmp after the build"

note "the same content id as the recipe's VHD imported by hand"
tiny=$(VHD=$VHD bash "$VV_ROOT/images/recipes/tiny/build.sh" --print)
VHDVISOR_STATE=$T/hand vv image import "$tiny" --name byhand >/dev/null
assert_eq "$(VHDVISOR_STATE=$T/hand image_id byhand)" "$(jq -r .id "$T/show.json")" "content id"

note "--name, and a second build of the same content"
vv image build tiny --name t2:golden >"$T/b2.out"
grep -q "^exists .* as t2:golden" "$T/b2.out" || fail "second build: $(cat "$T/b2.out")"
assert_eq "$(vv image list --json | jq length)" 1 "images after two builds"

note "unknown recipe"
expect_exit 1 vv image build no-such-recipe
assert_stderr "no recipe 'no-such-recipe' \(known: .*tiny"

note "a failing recipe leaves nothing behind"
mkdir -p "$T/recipes/broken" "$T/recipes/empty"
cat >"$T/recipes/broken/build.sh" <<'SH'
#!/bin/bash
head -c 1M /dev/urandom >"$1"
echo "first line" >&2
echo "broken: cannot fetch the packages" >&2
exit 3
SH
printf '#!/bin/sh\nexit 0\n' >"$T/recipes/empty/build.sh"
chmod +x "$T/recipes/broken/build.sh" "$T/recipes/empty/build.sh"
export VHDVISOR_STATE=$T/fail VHDVISOR_RECIPES=$T/recipes
expect_exit 1 vv image build broken
assert_stderr "recipe broken failed \(exit status 3\).*broken: cannot fetch the packages"
expect_exit 1 vv image build empty
assert_stderr "wrote no image"
expect_exit 1 vv image build tiny
assert_stderr "no recipe 'tiny' \(known: (broken, empty|empty, broken)"
assert_eq "$(vv image list --json | jq length)" 0 "images after failed builds"
assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "tmp after failed builds"
assert_eq "$(nfiles "$VHDVISOR_STATE/images")" 0 "image files after failed builds"
