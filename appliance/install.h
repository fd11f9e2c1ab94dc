/* appliance/install.h: what the turnkey installer (issue 15) decides
 * before it writes anything: the answer file, the hardware report and the
 * partition plan. Library code: nothing here prints, writes a disk or
 * exits; tools/installer/ is the program around it.
 */
#ifndef VV_APPLIANCE_INSTALL_H
#define VV_APPLIANCE_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* ---- the answer file (docs/user-guide.md, "Installing the appliance") ----
 *
 * KEY=VALUE lines; '#' starts a comment line; blank lines are skipped;
 * spaces around KEY and VALUE are trimmed. Each key at most once. */

#define INST_HOSTNAME_MAX 64
#define INST_DNS_MAX      3

enum inst_net { INST_NET_DHCP = 0, INST_NET_STATIC };

struct inst_answer {
	char disk[128];                 /* "/dev/..." or "auto" */
	char hostname[INST_HOSTNAME_MAX];
	enum inst_net net;
	char address[64];               /* static: "A.B.C.D/N" */
	char gateway[48];               /* static, optional */
	char dns[INST_DNS_MAX][48];     /* static, optional */
	unsigned ndns;
	char token[129];                /* the first admin API token, or */
	char password_hash[256];        /* a crypt(3) hash that makes one */
	bool wipe;                      /* wipe=yes: consent to erase @disk */
};

/* Parses @text (@len bytes). 0, or -EINVAL with "line N: what is wrong"
 * (or "missing KEY" for the whole file) in @why. Unknown keys, repeated
 * keys, bad values, static fields with network=dhcp, both or neither of
 * token/password_hash, and a missing disk, hostname or wipe=yes are all
 * refused. */
int inst_answer_parse(const char *text, size_t len, struct inst_answer *out,
		      char *why, size_t whylen);

/* Reads and parses the file at @path (at most 64 KiB). */
int inst_answer_load(const char *path, struct inst_answer *out, char *why, size_t whylen);

/* ---- the hardware report ---- */

/* The report of this machine: {cpu: {model, count, virt, kvm}, memory:
 * {total}, disks: [{name, path, size, model, removable, rotational,
 * ptable, contents: [..], holds_data}], nics: [{name, mac, state,
 * carrier, physical}]}. Disk contents are probed with libblkid
 * (partition tables, filesystems, LVM and RAID signatures, also inside
 * each partition). @sysfs/@dev/@proc are the roots to read (NULL: "/sys",
 * "/dev", "/proc"). Loop devices are listed only with @loops (the live
 * system's own image is one; tests use them as disks). 0 or -errno. */
int inst_hw_report(const char *sysfs, const char *dev, const char *proc, bool loops,
		   json_object **out);

/* Probes one block device or image file at @path: its partition table
 * type ("" when none) in @ptable and what it holds (each filesystem,
 * LVM/RAID member, partition table found) as strings in @contents (an
 * array). 0 or -errno. */
int inst_probe_disk(const char *path, char *ptable, size_t ptlen, json_object *contents);

/* ---- the partition plan ---- */

#define INST_MiB (1024ull * 1024)
#define INST_GiB (1024ull * INST_MiB)
#define INST_MIN_DISK (8 * INST_GiB)    /* smaller disks are refused */

struct inst_part {
	const char *name;       /* "bios_grub", "esp", "boot", "lvm" */
	const char *type;       /* GPT type name, for the log */
	uint64_t start, size;   /* bytes, 1 MiB aligned */
	const char *fs;         /* "" (none), "vfat", "ext4", "LVM2_member" */
	const char *mount;      /* "" or the mount point */
};

struct inst_lv {
	const char *name;       /* "root", "pool", "state" */
	uint64_t size;          /* bytes (virtual size for the thin LV) */
	const char *kind;       /* "linear", "thin-pool", "thin" */
	const char *mount;
};

struct inst_plan {
	uint64_t disk_size;
	struct inst_part parts[4];
	unsigned nparts;
	const char *vg;         /* "vhdvisor" */
	uint64_t extent;        /* LVM extent size */
	uint64_t vg_size;       /* usable extents of the PV, in bytes */
	struct inst_lv lvs[3];
	unsigned nlvs;
	uint64_t pool_meta;     /* thin-pool metadata (and as much again as spare) */
};

/* Plans a disk of @size bytes with 512- or 4096-byte @sector_size.
 * 0, or -ENOSPC with the reason in @why when the disk is smaller than
 * INST_MIN_DISK, -EINVAL for a bad sector size. */
int inst_plan_make(uint64_t size, unsigned sector_size, struct inst_plan *out,
		   char *why, size_t whylen);

/* The plan as JSON (a new object). */
json_object *inst_plan_json(const struct inst_plan *p);

/* ---- the install itself (install_run.c) ----
 *
 * Executes the plan on a disk with the system's own tools (sfdisk,
 * wipefs, mkfs.*, LVM's pvcreate/vgcreate/lvcreate, cp, grub-install),
 * each command and its output written to @logfd. The steps, in order:
 * "answer", "disk", "plan", "wipe", "partition", "filesystems", "lvm",
 * "mount", "copy", "configure", "bootloader", "unmount". Nothing is
 * written before "wipe"; the boot loader goes on only after everything
 * else succeeded. */
struct inst_run_opts {
	const char *source;     /* the root to copy (the live system's squashfs) */
	const char *target;     /* where the new root is mounted */
	int logfd;              /* every command and its output */
};

/* Picks the disk for disk=auto from a hardware report: the first disk
 * that is not removable, holds no data and has at least INST_MIN_DISK.
 * Writes "/dev/NAME" to @out. 0 or -ENODEV with the reason in @why. */
int inst_pick_disk(json_object *report, char *out, size_t outlen, char *why, size_t whylen);

/* Installs per @a. 0, or -errno with the failed step's name in @step and
 * the reason in @why. */
int inst_run(const struct inst_answer *a, const struct inst_run_opts *o, char *step,
	     size_t steplen, char *why, size_t whylen);

#endif
