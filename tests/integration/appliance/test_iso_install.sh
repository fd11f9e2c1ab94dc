#!/bin/bash
# The unattended install from the ISO (issue 15): the ISO boots under QEMU
# (TCG here) with SeaBIOS, a blank 16 GiB disk and a small disk labelled
# VVANSWER that holds /answer.conf (GRUB then adds vv.answer= by itself);
# the install runs with nobody typing (disk=auto picks the blank disk),
# and the guest reboots (QEMU exits, -no-reboot). The installed disk then
# boots with SeaBIOS and with OVMF (both boot loaders are there) from LVM
# (the root LV) to vhdvisord started and the thin volume mounted on
# /var/lib/vhdvisor. Prints the install and boot times. Slow:
# VHDVISOR_LONG=1. VV_ISO=path uses an existing ISO; otherwise
# $VV_BUILD/vhdvisor.iso is built when missing.
# serial
# timeout: 5400
source "$VV_ROOT/tests/integration/lib.sh"
[[ ${VHDVISOR_LONG:-} == 1 ]] || skip "long test: set VHDVISOR_LONG=1"
need_cmd qemu-system-x86_64 mkfs.vfat mcopy
[[ -f /usr/share/seabios/bios-256k.bin && -f /usr/share/OVMF/OVMF_CODE_4M.fd ]] ||
	skip "SeaBIOS or OVMF firmware missing"

ISO=${VV_ISO:-$VV_BUILD/vhdvisor.iso}
if [[ ! -f $ISO ]]; then
	[[ $(id -u) == 0 ]] || skip "make iso needs root (debootstrap, chroot)"
	make -C "$VV_ROOT" --no-print-directory BUILD="$VV_BUILD" iso >"$T/iso.log" 2>&1 ||
		{ tail -30 "$T/iso.log" >&2; fail "make iso failed"; }
fi

note "the answer disk"
cat >"$T/answer.conf" <<'EOT'
disk=auto
hostname=vv-installed
network=dhcp
token=abcdefghijklmnop0123
wipe=yes
EOT
"$VV_BUILD/bin/vhdvisor-installer" check-answer "$T/answer.conf" >/dev/null
mkfs.vfat -n VVANSWER -C "$T/answer.img" 2048 >/dev/null
mcopy -i "$T/answer.img" "$T/answer.conf" ::answer.conf
truncate -s 16G "$T/target.raw"

# qemu NAME FIRMWARE ARGS...: runs QEMU with the serial console in
# $T/NAME.console until it exits (the guest powers off or reboots).
start() {
	local name=$1 fw=$2
	shift 2
	# shellcheck disable=SC2054 # commas are QEMU option syntax
	local args=(-machine q35 -m 2048 -smp 2 -nographic -no-reboot -monitor none
		-serial file:"$T/$name.console" -nic user,model=virtio-net-pci "$@")
	if [[ $fw == uefi ]]; then
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$T/$name.vars"
		# shellcheck disable=SC2054 # commas are QEMU option syntax
		args+=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive if=pflash,format=raw,file="$T/$name.vars")
	else
		args+=(-bios /usr/share/seabios/bios-256k.bin)
	fi
	qemu-system-x86_64 "${args[@]}" >"$T/$name.qemu" 2>&1 &
	QPID=$!
	at_exit "kill $QPID; wait $QPID"
}
# text NAME: the console without its colour and cursor escapes (systemd
# colours unit names), in $T/NAME.txt.
text() { sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$T/$1.console" >"$T/$1.txt" 2>/dev/null || true; }
# wait_for NAME SECONDS PATTERN: until PATTERN is on the console (0), or
# QEMU exits or time runs out (1).
wait_for() {
	local i
	for ((i = 0; i < $2; i++)); do
		text "$1"
		grep -aq -e "$3" "$T/$1.txt" && return 0
		kill -0 "$QPID" 2>/dev/null || { text "$1"; grep -aq -e "$3" "$T/$1.txt" && return 0; return 1; }
		sleep 1
	done
	return 1
}

note "unattended install (SeaBIOS)"
t0=$(date +%s)
# shellcheck disable=SC2054
start install bios -boot d -drive file="$ISO",media=cdrom,readonly=on,if=ide \
	-drive file="$T/answer.img",format=raw,if=virtio \
	-drive file="$T/target.raw",format=raw,if=virtio
wait_for install 3000 "install done, rebooting" ||
	{ tail -40 "$T/install.txt" >&2; fail "the unattended install did not finish"; }
grep -aq "unattended install, vv.answer=VVANSWER:/answer.conf" "$T/install.txt" ||
	fail "the install did not come from the VVANSWER disk"
for ((i = 0; i < 120; i++)); do kill -0 "$QPID" 2>/dev/null || break; sleep 1; done
kill -0 "$QPID" 2>/dev/null && fail "the guest did not reboot after the install"
echo "figure: unattended install (boot + install, TCG) $(($(date +%s) - t0)) s"

for fw in bios uefi; do
	note "boot the installed disk ($fw)"
	t0=$(date +%s)
	# shellcheck disable=SC2054
	start "boot-$fw" "$fw" -drive file="$T/target.raw",format=raw,if=virtio
	wait_for "boot-$fw" 1200 "Started vhdvisord" ||
		{ tail -40 "$T/boot-$fw.txt" >&2; fail "$fw: vhdvisord did not start on the installed host"; }
	echo "figure: $fw installed host boot to vhdvisord started $(($(date +%s) - t0)) s (TCG)"
	wait_for "boot-$fw" 300 "login:" || fail "$fw: no login prompt on the installed host"
	grep -aE "vhdvisord.service: (Main process exited|Failed)|Failed to start vhdvisord" \
		"$T/boot-$fw.txt" && fail "$fw: vhdvisord failed on the installed host"
	grep -aq "Mounted var-lib-vhdvisor.mount" "$T/boot-$fw.txt" ||
		fail "$fw: the thin volume is not mounted on /var/lib/vhdvisor"
	grep -aq "vhdvisor live system\|unattended install" "$T/boot-$fw.txt" && fail "$fw: the live menu runs on the installed host"
	kill "$QPID"; wait "$QPID" 2>/dev/null || true
done
echo "iso: unattended install, installed host boots under BIOS and UEFI"
