/* hv/boot.c: what a VM boots: the boot mode resolved from its config, and
 * the checks on a kernel given to us before anything starts. */
#include "hv/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_TAG "boot"
#include "common/log.h"

int boot_kernel_check(const char *path, char *err, size_t errlen)
{
	uint8_t hdr[0x210];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "kernel '%s': %s", path, strerror(errno));
		return -errno;
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	if (n >= 4 && !memcmp(hdr, "\177ELF", 4))
		return 0;
	/* Linux x86 boot protocol: 0xAA55 at 0x1fe, "HdrS" at 0x202. */
	if (n == (ssize_t)sizeof(hdr) && hdr[0x1fe] == 0x55 && hdr[0x1ff] == 0xaa &&
	    !memcmp(hdr + 0x202, "HdrS", 4))
		return 0;
	snprintf(err, errlen, "kernel '%s' is not a Linux kernel (neither a bzImage nor an "
		 "ELF vmlinux)", path);
	return -EINVAL;
}

static int plan_direct(const struct vm_config *cfg, struct vm_boot *out, char *err,
		       size_t errlen)
{
	int r = boot_kernel_check(cfg->kernel, err, errlen);

	if (r)
		return r;
	out->mode = VM_BOOT_DIRECT;
	snprintf(out->kernel, sizeof(out->kernel), "%s", cfg->kernel);
	snprintf(out->initrd, sizeof(out->initrd), "%s", cfg->initrd);
	snprintf(out->append, sizeof(out->append), "%s", cfg->append);
	return 0;
}

static int plan_firmware(const struct vm_config *cfg, struct vm_boot *out, char *err,
			 size_t errlen)
{
	bool yes = false;
	int r;

	if (cfg->firmware == VM_FW_BIOS) {
		r = boot_disk_has_boot_sector(&cfg->disks[0], &yes, err, errlen);
		if (r)
			return r;
		if (!yes) {
			snprintf(err, errlen, "disk '%s' has no boot sector: nothing for the "
				 "firmware to boot", cfg->disks[0].path);
			return -ENOEXEC;
		}
	}
	out->mode = VM_BOOT_FIRMWARE;
	return 0;
}

int boot_plan(const struct vm_config *cfg, const char *run_dir, struct vm_boot *out,
	      char *err, size_t errlen)
{
	int r;

	memset(out, 0, sizeof(*out));
	switch (cfg->boot) {
	case VM_BOOT_DIRECT:
		return plan_direct(cfg, out, err, errlen);
	case VM_BOOT_IMAGE:
		r = boot_image_extract(&cfg->disks[0], run_dir, out, err, errlen);
		break;
	case VM_BOOT_FIRMWARE:
		return plan_firmware(cfg, out, err, errlen);
	case VM_BOOT_AUTO:
	default:
		if (cfg->kernel[0])
			return plan_direct(cfg, out, err, errlen);
		r = boot_image_extract(&cfg->disks[0], run_dir, out, err, errlen);
		if (r == -ENOENT)
			return plan_firmware(cfg, out, err, errlen);
		break;
	}
	if (r)
		return r;
	/* Boot the kernel's ELF through its PVH entry when it has one. */
	if (out->mode == VM_BOOT_IMAGE) {
		char elf[PATH_MAX];

		if ((size_t)snprintf(elf, sizeof(elf), "%s/kernel.elf", run_dir) < sizeof(elf) &&
		    !boot_kernel_unwrap(out->kernel, elf)) {
			log_info("booting the kernel's uncompressed ELF (PVH entry)");
			unlink(out->kernel);
			memcpy(out->kernel, elf, sizeof(out->kernel));
		}
	}
	/* The user's --append is added after the boot entry's command line. */
	if (cfg->append[0]) {
		size_t n = strlen(out->append), add = strlen(cfg->append);

		if (n + 1 + add >= sizeof(out->append)) {
			snprintf(err, errlen, "kernel command line too long");
			return -EINVAL;
		}
		if (n)
			out->append[n++] = ' ';
		memcpy(out->append + n, cfg->append, add + 1);
	}
	return boot_kernel_check(out->kernel, err, errlen);
}
