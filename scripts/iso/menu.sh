#!/bin/bash
# /usr/lib/vhdvisor/menu: the console menu of the vhdvisor live ISO, run by
# agetty on tty1 and ttyS0 in place of login (scripts/iso/overlay.sh).
#
#   menu                 Install, Rescue shell, Hardware report, Reboot, Power off
#   menu --unattended    the install driven by vv.answer= (kernel command line),
#                        run once by vhdvisor-unattended.service
#
# vv.answer=PATH names the answer file: PATH on the ISO, or VVANSWER:PATH on
# a disk labelled VVANSWER (also tried for a bare PATH missing on the ISO).
# Sourced with VV_MENU_LIB=1 it only defines its functions (for tests).
# Environment (tests): VV_CMDLINE (/proc/cmdline), VV_MEDIUM (/run/live/medium).

VV_CMDLINE=${VV_CMDLINE:-/proc/cmdline}
VV_MEDIUM=${VV_MEDIUM:-/run/live/medium}
VV_INSTALLER=${VV_INSTALLER:-/usr/local/bin/vhdvisor-installer}
VV_LOG=${VV_LOG:-/var/log/vhdvisor-install.log}

# vv_cmdline_get KEY: prints the value of KEY=VALUE on the kernel command
# line (quotes removed; the last one wins, as for the kernel). Status 1 when
# KEY is absent, 2 when the command line cannot be read or parsed.
vv_cmdline_get() {
	local key=$1 w val='' found=1 words
	words=$(xargs -n1 printf '%s\n' <"$VV_CMDLINE" 2>/dev/null) || return 2
	while IFS= read -r w; do
		case $w in
		"$key="*) val=${w#"$key="}; found=0 ;;
		"$key") val=; found=0 ;;
		esac
	done <<<"$words"
	((found == 0)) || return 1
	printf '%s\n' "$val"
}

# vv_answer_find SPEC: prints the local path of the answer file SPEC names
# (see above), mounting the VVANSWER disk read-only when needed. Status 1
# with the reason on stderr when it is not found.
vv_answer_find() {
	local spec=$1 path dev mnt=${VV_ANSWER_MNT:-/run/vhdvisor/answer}
	case $spec in
	"") echo "vv.answer= is empty" >&2; return 1 ;;
	VVANSWER:*) path=${spec#VVANSWER:} ;;
	/*) path=$spec
		[[ -f $VV_MEDIUM$path ]] && { printf '%s\n' "$VV_MEDIUM$path"; return 0; } ;;
	*) echo "vv.answer=$spec: not an absolute path (or VVANSWER:/path)" >&2; return 1 ;;
	esac
	[[ $path == /* ]] || { echo "vv.answer=$spec: not an absolute path" >&2; return 1; }
	if ! mountpoint -q "$mnt" 2>/dev/null; then
		dev=$(blkid -L VVANSWER 2>/dev/null) ||
			{ echo "vv.answer=$spec: not on the ISO and no disk labelled VVANSWER" >&2; return 1; }
		mkdir -p "$mnt"
		mount -o ro "$dev" "$mnt" || { echo "vv.answer=$spec: cannot mount $dev" >&2; return 1; }
	fi
	[[ -f $mnt$path ]] || { echo "vv.answer=$spec: no such file on the VVANSWER disk" >&2; return 1; }
	printf '%s\n' "$mnt$path"
}

vv_install() { # ANSWER_FILE
	local ans=$1 rc=0
	echo "vhdvisor: checking the answer file $ans"
	"$VV_INSTALLER" check-answer "$ans" || return 2
	echo "vhdvisor: installing (log: $VV_LOG)"
	"$VV_INSTALLER" install --answer "$ans" --log "$VV_LOG" || rc=$?
	((rc == 0)) || echo "vhdvisor: the install stopped (status $rc); log: $VV_LOG"
	return $rc
}

vv_unattended() {
	local spec ans rc
	spec=$(vv_cmdline_get vv.answer) || { echo "vhdvisor: no vv.answer= on the kernel command line"; return 2; }
	echo "vhdvisor: unattended install, vv.answer=$spec"
	ans=$(vv_answer_find "$spec") || { echo "vhdvisor: unattended install stopped: answer file not found"; return 2; }
	vv_install "$ans"; rc=$?
	((rc == 0)) && { echo "vhdvisor: install done, rebooting"; systemctl reboot; }
	return $rc
}

vv_ask() { # PROMPT DEFAULT -> the answer on stdout
	local a
	read -r -p "$1 [$2]: " a || return 1
	printf '%s\n' "${a:-$2}"
}

vv_interactive_install() {
	local disk host net addr gw dns tok ok f=/run/vhdvisor/answer.conf
	"$VV_INSTALLER" report || true
	echo
	disk=$(vv_ask "Target disk (wiped entirely)" auto) || return
	host=$(vv_ask "Hostname" vhdvisor) || return
	net=$(vv_ask "Network: dhcp, or a static A.B.C.D/N" dhcp) || return
	if [[ $net != dhcp ]]; then
		addr=$net
		gw=$(vv_ask "  gateway" "") || return
		dns=$(vv_ask "  DNS server" "") || return
	fi
	tok=$(vv_ask "Admin API token (empty: make one)" "") || return
	[[ -n $tok ]] || tok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo
	echo "ALL DATA ON $disk WILL BE ERASED: its partition table, every partition,"
	echo "filesystem, LVM volume and RAID member on it."
	ok=$(vv_ask "Type 'wipe' to erase $disk and install" no) || return
	[[ $ok == wipe ]] || { echo "Not confirmed; nothing written."; return; }
	mkdir -p /run/vhdvisor && (umask 077
	{
		echo "disk=$disk"; echo "hostname=$host"
		if [[ $net == dhcp ]]; then echo "network=dhcp"; else
			echo "network=static"; echo "address=$addr"
			[[ -n $gw ]] && echo "gateway=$gw"
			[[ -n $dns ]] && echo "dns=$dns"
		fi
		echo "token=$tok"; echo "wipe=yes"
	} >"$f")
	echo "Admin API token: $tok"
	vv_install "$f"
}

vv_menu() {
	local c
	while :; do
		printf '\n  vhdvisor %s live system (%s)\n\n' \
			"$(cut -c1-12 /usr/share/vhdvisor/commit 2>/dev/null)" "$(tty 2>/dev/null)"
		if vv_cmdline_get vv.answer >/dev/null; then
			echo "  An unattended install is running (vv.answer=); its log: $VV_LOG"
		fi
		printf '  1) Install\n  2) Rescue shell\n  3) Hardware report\n  4) Reboot\n  5) Power off\n\n'
		read -r -p "Choice: " c || { sleep 1; exit 0; }
		case $c in
		1) vv_interactive_install ;;
		2) echo "Rescue shell: 'exit' returns to the menu."; PS1='vhdvisor-rescue# ' bash --norc -i ;;
		3) "$VV_INSTALLER" report ;;
		4) systemctl reboot ;;
		5) systemctl poweroff ;;
		*) echo "Choose 1 to 5." ;;
		esac
	done
}

if [[ ${VV_MENU_LIB:-} != 1 ]]; then
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=${TERM:-vt220}
	if [[ ${1:-} == --unattended ]]; then
		vv_unattended
		exit
	fi
	vv_menu
fi
