#!/bin/bash
# The tiny template as a lab machine (no vv.run): it stays up, takes a
# DHCP lease on its lab network whose address `vm list`/`vm show` give,
# and root logs in on the interactive console with the password that
# `vm set --password -` stored (hashed, 0600) and the NoCloud seed carried
# (with the SSH key of `vm set --ssh-key` as root's authorized key).
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
need_cmd jq qemu-system-x86_64 python3 genisoimage
export PATH=$VV_BUILD/bin:$PATH
tiny_template

net=u$$
vv net create "$net" --dhcp >/dev/null 2>"$T/net.err" ||
	skip "no lab network here: $(tail -1 "$T/net.err")"
at_exit "'$VHDVISOR' net rm --force $net"
vv lab create box --from tiny --count 1 --net "$net" >/dev/null
at_exit "'$VHDVISOR' vm stop box-1"

note "vm set --password -: a SHA-512 hash, 0600, never the plaintext"
echo 'correct horse 7' | vv vm set box-1 --password -
f=$VHDVISOR_STATE/secrets/box-1
assert_eq "$(stat -c %a "$f")" 600 "mode of $f"
assert_eq "$(stat -c %a "$(dirname "$f")")" 700 "mode of its folder"
grep -q '^password_hash=\$6\$' "$f" || fail "no SHA-512 hash in $f"
grep -q 'horse' "$f" && fail "the plaintext password is stored"
expect_exit 1 vv vm set box-1 --ssh-key /etc/hostname
assert_stderr "OpenSSH public key"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIVvTestKey vv@test' >"$T/key.pub"
vv vm set box-1 --ssh-key "$T/key.pub"

note "started without vv.run: it stays up"
vv vm start box-1 >/dev/null
wait_console box-1 '^VV-DISTRO host=box-1 root=password'
wait_console box-1 'login: '
for _ in $(seq 1 12); do
	sleep 1
	vv vm status box-1 --json | jq -e .running >/dev/null ||
		{ tail "$VHDVISOR_RUN/box-1.console"; fail "the guest powered off"; }
done
assert_eq "$(stat -c %a "$VHDVISOR_RUN/box-1.console.sock")" 600 "console socket mode"
assert_eq "$(stat -c %a "$VHDVISOR_RUN/box-1.seed.iso")" 600 "seed mode"

note "DHCP on eth0; the lease's address in vm list and vm show"
wait_console box-1 'VV-IP=[0-9.]+' 120
ip=$(grep -ao 'VV-IP=[0-9.]*' "$VHDVISOR_RUN/box-1.console" | tail -1 | cut -d= -f2)
assert_eq "$(vv vm show box-1 --json | jq -r .ip)" "$ip" "vm show ip"
assert_eq "$(vv vm list | awk '$1 == "box-1" {print $NF}')" "$ip" "vm list IP column"
vv net show "$net" --json | jq -e --arg ip "$ip" '.leases[] | select(.ip == $ip)' >/dev/null ||
	fail "dnsmasq has no lease of $ip"

note "root logs in on the console with that password; Ctrl-] detaches"
printf '%s\n' 'expect Connected to box-1' 'send \r' 'expect login: ' 'send root\r' \
	'expect Password: ' 'send wrong\r' 'expect Login incorrect' 'expect login: ' \
	'send root\r' 'expect Password: ' 'send correct horse 7\r' 'expect # ' \
	'send echo VV-LOGIN-$((6*7)) $(hostname)\r' 'expect VV-LOGIN-42 box-1' \
	'send ip -4 -o addr show eth0\r' "expect inet ${ip//./\\.}/24" \
	'send cat /root/.ssh/authorized_keys\r' 'expect AAAAIVvTestKey vv@test' 'send \x1d' 'eof' |
	pty_drive 120 "$T/login.tr" -- "$VHDVISOR" vm console box-1 ||
	{ cat -A "$T/login.tr" | tail -20; fail "console login"; }
vv vm status box-1 --json | jq -e .running >/dev/null || fail "detaching stopped the VM"
vv vm shutdown box-1 >/dev/null
assert_eq "$(vv vm list --json | jq -r '.[] | select(.name == "box-1") | .ip')" null \
	"no IP once stopped"
vv lab rm box
[[ -e $f ]] && fail "vm rm left the credentials"
exit 0
