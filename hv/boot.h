/* hv/boot.h: turning a VM's config into what the engine boots (internal to
 * hv/): accelerator choice, boot mode resolution, kernel checks, and
 * kernels read out of the guest's own disk (boot_image.c). */
#ifndef VV_HV_BOOT_H
#define VV_HV_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#include "hv/engine.h"
#include "hv/vm_config.h"

/* Resolves @want to KVM (true) or TCG. -ENODEV with a reason in @err when
 * KVM was forced and is unusable. */
int hv_accel_resolve(enum vm_accel want, bool *use_kvm, char *err, size_t errlen);

/* Checks that @path is a Linux kernel QEMU can boot directly: a bzImage
 * (boot sector signature and "HdrS") or an ELF vmlinux. 0, or -EINVAL with
 * the reason in @err. */
int boot_kernel_check(const char *path, char *err, size_t errlen);

/* Works out @out from @cfg: direct with a kernel; image when the first
 * disk holds a boot loader configuration (kernel and initrd extracted into
 * @run_dir); firmware when the disk has a boot sector (auto) or when asked.
 * 0 or -errno with a one-line reason in @err. */
int boot_plan(const struct vm_config *cfg, const char *run_dir, struct vm_boot *out,
	      char *err, size_t errlen);

/* Image boot, like Xen's pygrub: reads the first disk's partition table,
 * its ext2/3/4 filesystem and grub.cfg/extlinux.conf, and copies the
 * default entry's kernel and initrd into @run_dir. -ENOENT when the disk
 * has no boot loader configuration; other -errno for other failures. The
 * reason is in @err either way. */
int boot_image_extract(const struct vm_disk *disk, const char *run_dir,
		       struct vm_boot *out, char *err, size_t errlen);

/* Writes the uncompressed ELF vmlinux carried by bzImage @bzimage to
 * @elf_path when its payload is XZ and the ELF has the PVH entry note
 * (QEMU then boots it without the slow in-guest decompression). Returns 0,
 * -ENOTSUP when the kernel does not qualify, or -errno. */
int boot_kernel_unwrap(const char *bzimage, const char *elf_path);

/* True when the disk's first sector ends with the 0x55AA boot signature. */
int boot_disk_has_boot_sector(const struct vm_disk *disk, bool *yes, char *err,
			      size_t errlen);

#endif
