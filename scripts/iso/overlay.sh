#!/bin/bash
# scripts/iso/overlay.sh ROOT: the live system's own files on top of the
# Debian root (called by build.sh): the console menu on tty1 and ttyS0 in
# place of the login prompt, the unattended install unit, DHCP on the NICs.
set -euo pipefail
ROOT=${1:?usage: overlay.sh ROOT}
sd=$ROOT/etc/systemd/system

for unit in getty@tty1 serial-getty@ttyS0; do
	mkdir -p "$sd/$unit.service.d"
	cat >"$sd/$unit.service.d/vhdvisor-menu.conf" <<EOT
# The vhdvisor console menu instead of a login prompt (live system only).
[Service]
ExecStart=
ExecStart=-/sbin/agetty -n -l /usr/lib/vhdvisor/menu -o '' --noclear --keep-baud 115200,38400,9600 %I \$TERM
Restart=always
EOT
done
mkdir -p "$sd/getty.target.wants"
ln -sf /lib/systemd/system/getty@.service "$sd/getty.target.wants/getty@tty1.service"
ln -sf /lib/systemd/system/serial-getty@.service "$sd/getty.target.wants/serial-getty@ttyS0.service"

cat >"$sd/vhdvisor-unattended.service" <<'EOT'
[Unit]
Description=vhdvisor unattended install (vv.answer= on the kernel command line)
ConditionKernelCommandLine=vv.answer
After=systemd-udev-settle.service local-fs.target network.target
Wants=systemd-udev-settle.service

[Service]
Type=oneshot
ExecStart=/usr/lib/vhdvisor/menu --unattended
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOT
mkdir -p "$sd/multi-user.target.wants"
ln -sf ../vhdvisor-unattended.service "$sd/multi-user.target.wants/vhdvisor-unattended.service"

mkdir -p "$ROOT/etc/systemd/network"
cat >"$ROOT/etc/systemd/network/80-live-dhcp.network" <<'EOT'
[Match]
Name=en* eth*
[Network]
DHCP=yes
EOT
ln -sf /lib/systemd/system/systemd-networkd.service "$sd/multi-user.target.wants/systemd-networkd.service"
# The live system has no password: the menu is the way in.
chroot "$ROOT" passwd -l root >/dev/null
