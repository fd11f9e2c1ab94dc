#!/bin/bash
# Labs: N linked clones in one step, reset to the template in one step,
# removed together; start/stop of a small lab when guests can boot here.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq

mkraw "$T/tmpl.raw" 32M
vv image import "$T/tmpl.raw" --name tmpl >/dev/null
vv lab create web --from tmpl --count 5 --cpus 2 >/dev/null
vv vm list --json >"$T/vms.json"
assert_eq "$(jq -r '[.[] | select(.lab == "web") | .name] | join(" ")' "$T/vms.json")" \
	"web-1 web-2 web-3 web-4 web-5" "lab VMs"
assert_eq "$(jq '[.[] | .mac] | unique | length' "$T/vms.json")" 5 "own MACs"
vv lab list --json >"$T/labs.json"
assert_eq "$(jq -r '.[0].name, .[0].count, .[0].running' "$T/labs.json" | tr '\n' ' ')" \
	"web 5 0 " "lab list"

expect_exit 1 vv lab create web --from tmpl --count 2
assert_stderr "exists"
vv vm create other-1 --from tmpl >/dev/null
expect_exit 1 vv lab create other --from tmpl --count 3
assert_stderr "other-1"
assert_eq "$(vv lab list --json | jq length)" 1 "failed lab left nothing"
assert_eq "$(vv vm list --json | jq length)" 6 "failed lab made no VMs"

note "reset: every VM back to the template"
for i in 1 2 3; do
	printf 'dirty-%d' "$i" >"$T/m"
	"$VHD" write "$(vv vm show "web-$i" --json | jq -r .disk)" 4000000 --from "$T/m" >/dev/null
done
vv lab reset web
for i in 1 2 3 4 5; do
	vraw "$(vv vm show "web-$i" --json | jq -r .disk)" "$T/v"
	assert_eq "$(sha "$T/v")" "$(sha "$T/tmpl.raw")" "web-$i after reset"
done

expect_exit 1 vv lab create nonet --from tmpl --count 2 --net nosuchnet
assert_stderr "no network 'nosuchnet'"

note "start and stop a lab of two"
G=$(bash "$VV_ROOT/scripts/guest/build.sh" --print 2>/dev/null) || G=
if [[ -n $G && -e $G/vmlinux ]] && command -v qemu-system-x86_64 >/dev/null; then
	export PATH=$VV_BUILD/bin:$PATH
	net=l$$
	netopt=()
	if vv net create "$net" >/dev/null 2>&1; then
		at_exit "'$VHDVISOR' net rm $net"
		netopt=(--net "$net")
	else
		note "no lab network here (vhdvisor net create failed): VMs without NICs"
	fi
	vv lab create duo --from tmpl --count 2 "${netopt[@]}" >/dev/null
	at_exit "'$VHDVISOR' lab stop duo"
	vv lab start duo --kernel "$G/vmlinux" --initrd "$G/initrd.img" --append vv.run=hold >/dev/null
	assert_eq "$(vv lab list --json | jq '.[] | select(.name == "duo") | .running')" 2 "running"
	# as 'vm start' of a running VM: refused
	expect_exit 1 vv lab start duo --kernel "$G/vmlinux" --initrd "$G/initrd.img"
	assert_stderr "already running"
	if ((${#netopt[@]})); then
		br=$(vv net show "$net" --json | jq -r .bridge)
		assert_eq "$(ip -o link show master "$br" | grep -c vvtap)" 2 "two taps on $br"
		for v in duo-1 duo-2; do
			mac=$(vv vm show $v --json | jq -r .mac)
			grep -q "mac=$mac" <(pgrep -af qemu-system) || fail "$v's NIC lacks its MAC $mac"
		done
	fi
	expect_exit 1 vv lab rm duo
	assert_stderr "still run"
	vv lab stop duo
	assert_eq "$(vv lab list --json | jq '.[] | select(.name == "duo") | .running')" 0 "stopped"
	expect_exit 1 vv lab stop duo
	assert_stderr "not running"
	if ((${#netopt[@]})); then
		assert_eq "$(ip -o link show master "$br" | grep -c vvtap || true)" 0 "taps gone"
	fi
	vv lab rm duo
else
	note "SKIPPED start/stop: no guest material here"
fi

vv lab rm web
assert_eq "$(vv vm list --json | jq -r '.[].name')" other-1 "lab VMs removed"
assert_eq "$(vv lab list --json | jq length)" 0 "lab removed"
consistent
