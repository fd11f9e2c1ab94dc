#!/bin/bash
# The turnkey ISO (issue 15): `make iso` builds build/vhdvisor.iso (under
# 400 MB, with its package manifest), and it boots under QEMU (TCG here)
# from CD with SeaBIOS (BIOS) and with OVMF (UEFI) to the console menu on
# the serial port; choosing "Hardware report" there runs
# vhdvisor-installer report inside the live system. Prints the figures
# (ISO size, build time, boot time to the menu). Slow: VHDVISOR_LONG=1.
# VV_ISO=path boots an existing ISO instead of building one.
# serial
# timeout: 3600
source "$VV_ROOT/tests/integration/lib.sh"
[[ ${VHDVISOR_LONG:-} == 1 ]] || skip "long test: set VHDVISOR_LONG=1"
need_cmd qemu-system-x86_64 xorriso mksquashfs debootstrap grub-mkrescue
[[ $(id -u) == 0 ]] || skip "make iso needs root (debootstrap, chroot)"
[[ -f /usr/share/seabios/bios-256k.bin && -f /usr/share/OVMF/OVMF_CODE_4M.fd ]] ||
	skip "SeaBIOS or OVMF firmware missing"

ISO=${VV_ISO:-}
if [[ -z $ISO ]]; then
	note "make iso"
	t0=$(date +%s)
	make -C "$VV_ROOT" --no-print-directory BUILD="$VV_BUILD" iso >"$T/iso.log" 2>&1 ||
		{ tail -30 "$T/iso.log" >&2; fail "make iso failed"; }
	echo "figure: ISO build time $(($(date +%s) - t0)) s"
	ISO=$VV_BUILD/vhdvisor.iso
fi
[[ -f $ISO ]] || fail "no ISO at $ISO"
size=$(stat -c %s "$ISO")
echo "figure: ISO size $((size >> 20)) MiB"
((size < 400 * 1000 * 1000)) || fail "ISO is $size bytes, over the 400 MB budget"

note "what is in it"
xorriso -indev "$ISO" -ls /live -- 2>/dev/null | tr -d "'" | sort >"$T/ls"
for f in filesystem.squashfs initrd.img vmlinuz; do
	grep -qx "$f" "$T/ls" || fail "/live/$f missing from the ISO"
done
xorriso -osirrox on -indev "$ISO" -extract /manifest.txt "$T/manifest.txt" >/dev/null 2>&1 ||
	fail "no /manifest.txt in the ISO"
for p in linux-image-amd64 live-boot qemu-system-x86 qemu-utils dnsmasq-base nftables lvm2 \
	thin-provisioning-tools ovmf seabios grub-pc-bin grub-efi-amd64-bin; do
	grep -q "^$p " "$T/manifest.txt" || fail "package $p not in the manifest"
done
# Hybrid: an MBR boot signature (USB) and El Torito boot records (CD) for
# BIOS and UEFI.
assert_eq "$(od -An -tx1 -j510 -N2 "$ISO" | tr -d ' ')" 55aa "MBR signature (USB boot)"
xorriso -indev "$ISO" -report_el_torito plain 2>/dev/null >"$T/eltorito"
grep -q "BIOS" "$T/eltorito" || fail "no BIOS El Torito entry"
grep -q "UEFI" "$T/eltorito" || fail "no UEFI El Torito entry"

# boot FIRMWARE: boots the ISO, waits for the menu on the serial port,
# asks for the hardware report, checks it came.
boot() {
	local fw=$1 d=$T/$1 qpid t0 up='' i
	mkdir -p "$d"
	mkfifo "$d/ser.in" "$d/ser.out"
	# shellcheck disable=SC2054 # commas are QEMU option syntax
	local args=(-machine q35 -m 2048 -smp 2 -nographic -no-reboot
		-serial pipe:"$d/ser" -monitor none
		-drive file="$ISO",media=cdrom,readonly=on,if=ide
		-drive file="$d/blank.raw",format=raw,if=virtio
		-nic user,model=virtio-net-pci)
	truncate -s 16G "$d/blank.raw"
	if [[ $fw == uefi ]]; then
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$d/vars.fd"
		# shellcheck disable=SC2054
		args+=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive if=pflash,format=raw,file="$d/vars.fd")
	else
		args+=(-bios /usr/share/seabios/bios-256k.bin)
	fi
	t0=$(date +%s)
	qemu-system-x86_64 "${args[@]}" >"$d/qemu.out" 2>&1 &
	qpid=$!
	at_exit "kill $qpid; wait $qpid"
	cat "$d/ser.out" >"$d/console" &
	at_exit "kill $!"
	exec 7>"$d/ser.in"
	for ((i = 0; i < 900; i++)); do
		grep -aq "Choice:" "$d/console" && { up=1; break; }
		kill -0 "$qpid" 2>/dev/null || break
		sleep 1
	done
	[[ -n $up ]] || { tail -40 "$d/console" "$d/qemu.out" >&2; fail "$fw: no menu on the serial console"; }
	echo "figure: $fw boot to the menu $(($(date +%s) - t0)) s (TCG)"
	for w in "1) Install" "2) Rescue shell" "3) Hardware report"; do
		grep -aqF "$w" "$d/console" || fail "$fw: menu entry '$w' missing"
	done
	printf '3\r' >&7
	up=''
	for ((i = 0; i < 120; i++)); do
		grep -aq "^Disks:" "$d/console" && grep -aq "Memory:" "$d/console" && { up=1; break; }
		sleep 1
	done
	[[ -n $up ]] || { tail -20 "$d/console" >&2; fail "$fw: no hardware report"; }
	grep -a -A3 "^Disks:" "$d/console" | grep -aq "16.0 GiB\|16 GiB\|17.2 GB" ||
		{ grep -a -A4 "^Disks:" "$d/console" >&2; fail "$fw: the blank 16 GiB disk is not in the report"; }
	exec 7>&-
	kill "$qpid"; wait "$qpid" 2>/dev/null || true
}

note "boot BIOS (SeaBIOS) to the menu"
boot bios
note "boot UEFI (OVMF) to the menu"
boot uefi
echo "iso: boots to the menu under BIOS and UEFI"
