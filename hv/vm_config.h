/* hv/vm_config.h: the description of one VM, as plain validated data.
 *
 * CLIs, the catalog and the management API only fill a struct vm_config and
 * hand it to vm_create() (hv/vm.h); nothing else about a VM is decided
 * above hv/. vm_config_validate() is the one place that judges it.
 */
#ifndef VV_HV_VM_CONFIG_H
#define VV_HV_VM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MAX_CPUS    64
#define VM_MAX_DISKS   16
#define VM_MAX_NICS    8
#define VM_MIN_MEM     (64ull << 20)
#define VM_MAX_MEM     (1ull << 40)
#define VM_APPEND_MAX  2048
#define VM_NAME_MAX    64

enum vm_boot_mode {
	VM_BOOT_AUTO = 0,  /* direct with a kernel, else image, else firmware */
	VM_BOOT_DIRECT,    /* cfg.kernel (+ initrd, append) */
	VM_BOOT_IMAGE,     /* kernel+initrd read from the first disk's boot config */
	VM_BOOT_FIRMWARE,  /* the disk's own boot loader under SeaBIOS/OVMF */
};

enum vm_firmware {
	VM_FW_BIOS = 0,    /* SeaBIOS */
	VM_FW_UEFI,        /* OVMF */
};

enum vm_console_kind {
	VM_CONSOLE_STDIO = 0, /* the guest's serial port on our stdout */
	VM_CONSOLE_FILE,      /* appended to console_path */
	VM_CONSOLE_PTY,       /* a pseudo-terminal; its path is logged and in status */
	VM_CONSOLE_NONE,
};

enum vm_accel {
	VM_ACCEL_AUTO = 0, /* KVM when hardware virtualization is there, else TCG */
	VM_ACCEL_KVM,
	VM_ACCEL_TCG,
};

enum vm_nic_kind {
	VM_NIC_TAP = 0,    /* a host tap device named @name */
	VM_NIC_NET,        /* a vhdvisor network named @name (netback wires it) */
};

struct vm_disk {
	char path[PATH_MAX];
	bool read_only;    /* the guest sees a read-only device */
	bool snapshot;     /* guest writes are discarded when the VM stops */
};

struct vm_nic {
	enum vm_nic_kind kind;
	char name[32];     /* tap: interface name (< IFNAMSIZ); net: network name */
	uint8_t mac[6];    /* unicast, not all zeros; required */
	/* An already-open tap fd the engine passes to the guest's NIC (the
	 * engine dups it; the caller keeps ownership), or -1: then netback
	 * must have opened one before vm_run() (otherwise vm_create fails). */
	int tap_fd;
};

struct vm_config {
	char name[VM_NAME_MAX];  /* [A-Za-z0-9._-]; "" = "vm-<pid>" */
	unsigned cpus;           /* 1..VM_MAX_CPUS */
	uint64_t mem;            /* bytes, a multiple of 1 MiB, VM_MIN_MEM..VM_MAX_MEM */

	struct vm_disk disks[VM_MAX_DISKS];  /* the first one is the boot disk */
	unsigned nr_disks;
	struct vm_nic nics[VM_MAX_NICS];
	unsigned nr_nics;

	enum vm_boot_mode boot;
	enum vm_firmware firmware;           /* firmware boot only */
	char kernel[PATH_MAX];               /* direct boot: bzImage or PVH ELF */
	char initrd[PATH_MAX];               /* optional */
	char append[VM_APPEND_MAX];          /* kernel command line, optional */

	enum vm_console_kind console;
	char console_path[PATH_MAX];         /* VM_CONSOLE_FILE */

	enum vm_accel accel;
	char api_path[PATH_MAX];             /* control socket, "" = none */
	bool reboot;                         /* restart on guest reboot */
	char run_dir[PATH_MAX];              /* "" = $VHDVISOR_RUN or /run/vhdvisor */
};

/* Fills @cfg with the defaults: 1 vCPU, 256 MiB, auto boot, stdio console,
 * auto accel, no disks or NICs, every NIC tap_fd -1. */
void vm_config_init(struct vm_config *cfg);

/* Checks every field of @cfg and the files it names (disks, kernel, initrd
 * exist and are readable). Returns 0, or -EINVAL (-ENOENT for a missing
 * file) with a one-line reason written to @err (@errlen bytes). */
int vm_config_validate(const struct vm_config *cfg, char *err, size_t errlen);

/* Parses "FILE[,ro][,snapshot]" into @disk. 0 or -EINVAL (reason in @err). */
int vm_disk_parse(const char *spec, struct vm_disk *disk, char *err, size_t errlen);

/* Parses "stdio", "file:PATH", "pty" or "none" into @cfg's console fields. */
int vm_console_parse(const char *spec, struct vm_config *cfg, char *err, size_t errlen);

/* Parses "aa:bb:cc:dd:ee:ff". 0 or -EINVAL. */
int vm_mac_parse(const char *s, uint8_t mac[6]);

/* Names for messages and status: "auto", "direct", ...; "tcg", "kvm", ... */
const char *vm_boot_mode_name(enum vm_boot_mode m);
const char *vm_accel_name(enum vm_accel a);
/* Reverse of the above; -EINVAL for an unknown name. */
int vm_boot_mode_parse(const char *s, enum vm_boot_mode *out);
int vm_accel_parse(const char *s, enum vm_accel *out);

#endif
