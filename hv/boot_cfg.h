/* hv/boot_cfg.h: boot loader configurations read as text (internal to
 * hv/): GRUB2's grub.cfg and syslinux's extlinux.conf, reduced to the
 * entry a boot loader would boot by default. Pure functions; no I/O. */
#ifndef VV_HV_BOOT_CFG_H
#define VV_HV_BOOT_CFG_H

#include <limits.h>

#include "hv/vm_config.h"

struct boot_entry {
	char title[256];
	char kernel[PATH_MAX];        /* as written, device prefix "(hdX,Y)" removed */
	char initrd[PATH_MAX];        /* "" = none */
	char append[VM_APPEND_MAX];   /* kernel command line */
};

/* The default menuentry of grub.cfg @text (NUL-terminated): "set
 * default=" by index or title (else the first entry); nested submenus
 * count as one entry and are not entered; a default that names no entry
 * falls back to the first, as in GRUB. Returns 0, -ENOENT when there is no
 * entry with a kernel, -EINVAL when the default entry has no kernel. */
int boot_cfg_grub(const char *text, struct boot_entry *out);

/* The default LABEL of extlinux.conf/syslinux.cfg @text: DEFAULT, or a
 * label with MENU DEFAULT, else the first. "initrd=" in APPEND counts as
 * INITRD and is removed from the command line. Returns 0, -ENOENT when no
 * label has a kernel, -EINVAL when DEFAULT names no label with one. */
int boot_cfg_extlinux(const char *text, struct boot_entry *out);

#endif
