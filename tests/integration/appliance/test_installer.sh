#!/bin/bash
# vhdvisor-installer's read-only part (issue 15, the fast tests):
# - the hardware report of this machine agrees with /proc and /sys (CPUs,
#   memory, hardware virtualization, /dev/kvm, every NIC and its MAC);
# - disks (loop devices here) show what is on them, probed by libblkid: a
#   GPT with an ext4 and a FAT partition, a whole-disk LVM physical volume,
#   a blank disk; the ones with data are warned about;
# - the partition plan (a dry run) of a 16 GiB disk fits and is aligned; a
#   disk under 8 GiB is refused with the reason; nothing is written;
# - answer files: a good one passes, a bad one names its line.
source "$VV_ROOT/tests/integration/lib.sh"
need_cmd jq sfdisk mkfs.ext4 mkfs.vfat pvcreate losetup
INST=$VV_BUILD/bin/vhdvisor-installer

note "the report of this machine"
expect_exit 0 "$INST" report --json
cp "$T/stdout" "$T/report.json"
assert_eq "$(jq .cpu.count "$T/report.json")" "$(grep -c ^processor /proc/cpuinfo)" "CPU count"
assert_eq "$(jq .memory.total "$T/report.json")" \
	"$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))" "memory"
want_virt=$(grep -owE 'vmx|svm' /proc/cpuinfo | head -1 || true)
assert_eq "$(jq -r .cpu.virt "$T/report.json")" "$want_virt" "hardware virtualization"
want_kvm=false
[[ -e /dev/kvm ]] && want_kvm=true
assert_eq "$(jq .cpu.kvm "$T/report.json")" "$want_kvm" "/dev/kvm"
want_nics=$(ls /sys/class/net | grep -vx lo | sort | tr '\n' ' ')
assert_eq "$(jq -r '.nics[].name' "$T/report.json" | sort | tr '\n' ' ')" "$want_nics" "NICs"
for n in $(jq -r '.nics[].name' "$T/report.json"); do
	assert_eq "$(jq -r --arg n "$n" '.nics[] | select(.name == $n) | .mac' "$T/report.json")" \
		"$(cat /sys/class/net/$n/address)" "MAC of $n"
done
# Without --loop, no loop device is listed (the live system's own image is one).
jq -e '[.disks[].name | select(startswith("loop"))] | length == 0' "$T/report.json" >/dev/null ||
	fail "loop devices listed without --loop"
expect_exit 0 "$INST" report
grep -q '^CPU: ' "$T/stdout" && grep -q '^Memory: ' "$T/stdout" || fail "text report: $(cat "$T/stdout")"

note "disks and what is on them"

mkloop() { # mkloop VAR FILE SIZE: VAR = a loop device over a new sparse file
	truncate -s "$3" "$2"
	local l
	l=$(losetup -f --show -P "$2")
	at_exit losetup -d "$l"
	printf -v "$1" %s "$l"
}
mkloop blank "$T/blank.img" 16G
mkloop gpt "$T/gpt.img" 256M
printf 'label: gpt\n,64M,L\n,64M,U\n' | sfdisk -q "$gpt"
partx -u "$gpt" 2>/dev/null || true
for i in $(seq 50); do [[ -b ${gpt}p2 ]] && break; sleep 0.1; done
[[ -b ${gpt}p2 ]] || fail "no partitions on $gpt"
mkfs.ext4 -q "${gpt}p1"
mkfs.vfat "${gpt}p2" >/dev/null
mkloop pv "$T/pv.img" 64M
pvcreate -q -ff -y "$pv" >/dev/null 2>&1 || fail "pvcreate $pv"
mkloop small "$T/small.img" 6G
# Nothing is ever written to the blank disk: its file stays without blocks.
assert_eq "$(stat -c %b "$T/blank.img")" 0 "blocks of the new blank disk"

expect_exit 0 "$INST" report --json --loop
cp "$T/stdout" "$T/loops.json"
disk() { jq -c --arg p "$1" '.disks[] | select(.path == $p)' "$T/loops.json"; }
[[ -n $(disk "$blank") ]] || fail "$blank not in the report"
assert_eq "$(disk "$blank" | jq .holds_data)" false "blank disk holds_data"
assert_eq "$(disk "$blank" | jq .size)" $((16 << 30)) "blank disk size"
assert_eq "$(disk "$gpt" | jq -r .ptable)" gpt "partition table of $gpt"
assert_eq "$(disk "$gpt" | jq .holds_data)" true "gpt disk holds_data"
g=$(basename "$gpt")
assert_eq "$(disk "$gpt" | jq -r '.contents | sort | join(" ")')" \
	"gpt ${g}p1:ext4 ${g}p2:vfat" "contents of $gpt"
assert_eq "$(disk "$pv" | jq -r '.contents | join(" ")')" LVM2_member "contents of $pv"
expect_exit 0 "$INST" report --loop
grep -A1 "^  $gpt " "$T/stdout" | grep -q "WARNING: holds data: gpt" ||
	fail "no data warning for $gpt: $(cat "$T/stdout")"
grep -A1 "^  $blank " "$T/stdout" | grep -q "empty" || fail "blank disk not shown empty"

note "the partition plan (dry run)"
expect_exit 0 "$INST" plan "$blank" --json
cp "$T/stdout" "$T/plan.json"
assert_eq "$(jq -r '[.partitions[].name] | join(" ")' "$T/plan.json")" "bios_grub esp boot lvm" "partitions"
jq -e '.partitions | all(.start % 1048576 == 0 and .size % 1048576 == 0)' "$T/plan.json" >/dev/null ||
	fail "unaligned partitions"
last_end=$(jq '.partitions[-1] | .start + .size' "$T/plan.json")
((last_end <= (16 << 30) - 33 * 512)) || fail "plan runs past the backup GPT: $last_end"
assert_eq "$(jq -r '[.volume_group.volumes[] | .name + ":" + .mount] | join(" ")' "$T/plan.json")" \
	"root:/ pool: state:/var/lib/vhdvisor" "volumes"
expect_exit 0 "$INST" plan "$blank"
grep -q "LVM volume group 'vhdvisor'" "$T/stdout" || fail "text plan: $(cat "$T/stdout")"
expect_exit 1 "$INST" plan "$small"
assert_stderr "needs at least 8 GiB"
expect_exit 1 "$INST" plan --size 7G
assert_stderr "7168 MiB; vhdvisor needs at least 8 GiB"
expect_exit 0 "$INST" plan --size 2T --json
expect_exit 2 "$INST" plan
expect_exit 2 "$INST" plan "$blank" --size 16G
expect_exit 1 "$INST" plan "$T/nonexistent"
assert_eq "$(stat -c %b "$T/blank.img")" 0 "blocks of the planned disk (nothing written)"

note "answer files"
cat >"$T/good.answer" <<'EOF'
# unattended install
disk=/dev/vda
hostname=lab-host
network=static
address=10.9.0.5/24
gateway=10.9.0.1
dns=10.9.0.1
token=abcdefghijklmnop0123
wipe=yes
EOF
expect_exit 0 "$INST" check-answer "$T/good.answer"
grep -q "valid" "$T/stdout" || fail "check-answer said: $(cat "$T/stdout")"
sed 's/^gateway=.*/gatway=10.9.0.1/' "$T/good.answer" >"$T/bad.answer"
expect_exit 2 "$INST" check-answer "$T/bad.answer"
assert_stderr "line 6: unknown key 'gatway'"
sed 's/^wipe=yes/wipe=no/' "$T/good.answer" >"$T/nowipe.answer"
expect_exit 2 "$INST" check-answer "$T/nowipe.answer"
assert_stderr "wipe=no"
expect_exit 1 "$INST" check-answer "$T/missing.answer"
expect_exit 2 "$INST" frobnicate
expect_exit 0 "$INST" --help
