# tests/integration/images/lib_images.sh: helpers of the catalog's tests.
# Sourced after tests/integration/lib.sh. Every test gets its own state
# directory ($VHDVISOR_STATE) and run directory under $T.

export VHDVISOR_STATE=$T/state VHDVISOR_RUN=$T/run
mkdir -p "$VHDVISOR_RUN"

vv() { "$VHDVISOR" "$@"; }

# qraw VHD OUT: the virtual disk through qemu-img, trusting the footer's
# current size (qemu would use the CHS geometry for our creator code).
qraw() {
	qemu-img convert --image-opts "driver=vpc,force_size_calc=current_size,file.filename=$1" \
		-O raw "$2"
}

# vraw VHD OUT: the virtual disk (with its chain) through our vhd tool.
vraw() {
	local size
	size=$("$VHD" info --json "$1" | jq -r .virtual_size)
	"$VHD" read "$1" 0 "$size" >"$2"
}

# mkraw FILE SIZE: a sparse raw disk with random data at a few places,
# an allocated run of zeros, and a short tail.
mkraw() {
	rm -f "$1"
	truncate -s "$2" "$1"
	head -c 3M /dev/urandom | dd of="$1" bs=1M seek=1 conv=notrunc status=none
	head -c 70000 /dev/urandom | dd of="$1" bs=1K seek=9000 conv=notrunc status=none
	dd if=/dev/zero of="$1" bs=1M seek=6 count=2 conv=notrunc status=none
	echo "tail marker" | dd of="$1" bs=1 seek=$(($(stat -c %s "$1") - 100)) conv=notrunc status=none
}

# image_id REF: the full id of an image.
image_id() { vv image show "$1" --json | jq -r .id; }

# nfiles DIR: regular files in DIR.
nfiles() { find "$1" -type f | wc -l; }

# consistent: the catalog and the files agree. Every image's file exists
# and has its recorded SHA-256; every ready VM's disk exists, and the disk
# chains of ten of them (random) pass `vhd check`. With "clean" as $1 (after gc): STATE/tmp is empty and the
# files under images/ and vms/ are exactly those rows name.
consistent() {
	local db=$VHDVISOR_STATE/catalog.db f want
	sqlite3() { command sqlite3 -cmd '.timeout 10000' "$@"; }
	[[ -e $db ]] || return 0   # killed before the catalog existed
	sqlite3 "$db" 'PRAGMA integrity_check' | grep -qx ok || fail "catalog integrity"
	while IFS='|' read -r f want; do
		[[ -f $VHDVISOR_STATE/$f ]] || fail "image file $f missing"
		assert_eq "$(sha "$VHDVISOR_STATE/$f")" "$want" "sha of $f"
	done < <(sqlite3 "$db" 'SELECT file, file_sha256 FROM images')
	while read -r f; do
		[[ -f $VHDVISOR_STATE/$f ]] || fail "layer $f missing"
	done < <(sqlite3 "$db" 'SELECT l.file FROM layers l JOIN vms v ON v.top = l.id
				WHERE v.state = "ready"')
	while read -r f; do
		"$VHD" check "$VHDVISOR_STATE/$f" >/dev/null 2>&1 || fail "vhd check $f"
	done < <(sqlite3 "$db" 'SELECT l.file FROM layers l JOIN vms v ON v.top = l.id
				WHERE v.state = "ready" ORDER BY random() LIMIT 10')
	[[ ${1:-} == clean ]] || return 0
	assert_eq "$(nfiles "$VHDVISOR_STATE/tmp")" 0 "tmp empty after gc"
	diff <(cd "$VHDVISOR_STATE" && find images vms -type f | sort) \
		<(sqlite3 "$db" 'SELECT file FROM images UNION ALL SELECT file FROM layers' | sort) ||
		fail "files and rows differ after gc"
	assert_eq "$(sqlite3 "$db" "SELECT count(*) FROM vms WHERE state != 'ready'")" 0 \
		"unfinished VMs after gc"
}

# tiny_template: imports the tiny template (images/recipes/tiny) into the
# catalog as "tiny", or skips when it cannot be built here.
tiny_template() {
	local tiny
	tiny=$(VHD=$VHD bash "$VV_ROOT/images/recipes/tiny/build.sh" --print 2>"$T/build.log" |
		tail -1) || skip "the tiny template cannot be built here: $(tail -1 "$T/build.log")"
	[[ -f $tiny ]] || skip "no tiny template"
	vv image import "$tiny" --name tiny --boot image --os busybox >/dev/null
}

# wait_console VM REGEX [SECONDS]: until VM's console log has a line
# matching REGEX (default 240 s).
wait_console() {
	local end=$((SECONDS + ${3:-240}))
	until grep -aqE "$2" "$VHDVISOR_RUN/$1.console" 2>/dev/null; do
		((SECONDS < end)) ||
			{ tail -20 "$VHDVISOR_RUN/$1.console"; fail "$1: no '$2' on its console"; }
		sleep 0.5
	done
}

# pty_drive SECONDS TRANSCRIPT -- CMD...: runs CMD on a pseudo-terminal
# driven by the steps on stdin (tests/integration/images/pty_drive.py).
pty_drive() { python3 "$VV_ROOT/tests/integration/images/pty_drive.py" "$@"; }
