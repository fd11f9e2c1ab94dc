/* images/vmrec.h: VMs defined by their disks: linked clones of catalog
 * images, full clones, snapshots, revert, reset, flatten.
 *
 * A VM's disk is a chain of differencing VHDs under STATE/vms/<name>/ on
 * top of its image's file (images/cat_vm.h). Every operation here builds
 * new files first, under fresh names no row refers to, then switches the
 * catalog in one short transaction, then removes files no row refers to
 * any more. A crash at any moment leaves the catalog describing either the
 * old or the new state, never a mix; the files left over are what
 * `image gc` removes, and re-running the command finishes the job.
 *
 * Disk operations on a VM (revert, reset, snapshot-rm, flatten, clone of
 * a VM with data) refuse (-EBUSY) while the VM runs; snapshot does not.
 * 0 or -errno; the reason in img_last_error() (images/img_store.h).
 */
#ifndef VV_IMAGES_VMREC_H
#define VV_IMAGES_VMREC_H

#include <stdbool.h>
#include <stdint.h>

#include "images/cat_vm.h"
#include "images/img_hash.h"

#define VMREC_DEFAULT_CPUS 1
#define VMREC_DEFAULT_MEM  (256ull << 20)

struct vmrec_opts {
	unsigned cpus;          /* 0 = the source's, else VMREC_DEFAULT_CPUS */
	uint64_t mem;           /* bytes; 0 = the source's, else VMREC_DEFAULT_MEM */
	const char *lab;        /* lab the new VMs belong to, or NULL */
	const char *net;        /* lab network for their NIC, or NULL */
};

/* Creates VMs @names[0..n-1], each a linked clone of image @image_id: one
 * empty differencing layer on the image's file, and its own identity (MAC
 * derived from the name, random SMBIOS UUID and machine-id). All names are
 * claimed in one transaction first (-EEXIST, nothing created, when one is
 * taken), the layers made, then all VMs marked ready in a second one.
 * VMs of a cloud-init image get cloud_init on. */
int vmrec_create(struct cat *c, const char *image_id, const char *const *names, unsigned n,
		 const struct vmrec_opts *o);

/* Clones VM @src into @names[0..n-1]. Linked (default): when @src has
 * written nothing since its image, the clones share that image; otherwise
 * @src's current disk is captured once as a new catalog image (derived
 * from @src's) and the clones are linked to it. @full: each clone gets its
 * own standalone copy of @src's disk. Either way each clone gets empty
 * extra disks of the sizes of @src's (data disks are never shared), and
 * @src's cloud_init setting (on when @src's image is a cloud-init one). */
int vmrec_clone(struct cat *c, const char *src, const char *const *names, unsigned n,
		bool full, const struct vmrec_opts *o, img_progress_fn progress, void *opaque);

/* Removes VM @name with all its layers, snapshots and extra disks. -EBUSY
 * while it runs. */
int vmrec_remove(struct cat *c, const char *name);

/* Makes VM @name independent of its image: its current disk becomes one
 * standalone layer; its snapshots, which need the image, are dropped. */
int vmrec_flatten(struct cat *c, const char *name, img_progress_fn progress, void *opaque);

/* Gives @vm (its name set) a new identity: a random SMBIOS UUID and
 * machine-id, and the MAC netback derives from its name. 0 or -EIO. */
int vmrec_identity_new(struct cat_vm *vm);

/* Path of the VM's writable top layer into @path (@len bytes). */
int vmrec_disk_path(struct cat *c, const char *name, char *path, size_t len);

/* ---- extra data disks (vmrec_disk.c) ----
 * Disk 0 is the VM's boot disk (its layer chain); disks 1, 2, ... are
 * standalone dynamic VHDs in its folder, outside snapshots, built under a
 * fresh name before one short transaction registers them. All but
 * vmrec_disk_path refuse (-EBUSY) while the VM runs. */

#define VMREC_MAX_DISKS 14     /* extra disks; hv's limit less boot and seed */

/* Adds a disk to VM @name: an empty dynamic VHD of @size bytes, or, when
 * @file is not NULL, a dynamic copy of the content of the standalone VHD
 * at @file (checked with `vhd check`; a differencing VHD is refused, its
 * parent could be any host file; @size is then ignored). Its index goes
 * to *@idx. */
int vmrec_disk_add(struct cat *c, const char *name, uint64_t size, const char *file,
		   unsigned *idx);
/* Grows (or shrinks, when the cut range holds no data: else -ENOTEMPTY)
 * disk @idx to @size bytes; disk 0 through the VM's top layer. */
int vmrec_disk_resize(struct cat *c, const char *name, unsigned idx, uint64_t size);
/* Removes extra disk @idx and its file; disk 0: -EPERM. */
int vmrec_disk_rm(struct cat *c, const char *name, unsigned idx);
/* Path of disk @idx of VM @name (0: its top layer) into @path (@len
 * bytes); -ENOENT when it has no such disk. */
int vmrec_disk_file(struct cat *c, const char *name, unsigned idx, char *path, size_t len);

/* Freezes the VM's current disk as snapshot @tag (a fresh empty layer takes
 * the writes from now on). @tag NULL: "snap-<n>"; the tag used is written
 * to @tag_out (CAT_NAME_MAX + 1 bytes, may be NULL). -EEXIST. On a running
 * VM the catalog records the new layer first, then the VM's runtime pauses
 * the guest, switches its disk export to the layer and resumes; a refused
 * switch undoes the catalog change. */
int vmrec_snapshot(struct cat *c, const char *name, const char *tag, char *tag_out);

/* Throws the current disk state away and continues from snapshot @tag. */
int vmrec_revert(struct cat *c, const char *name, const char *tag);

/* Throws the current disk state away and continues from the image. */
int vmrec_reset(struct cat *c, const char *name);

/* Deletes snapshot @tag. Its layer, once nothing else needs it, is merged
 * into its only child (the child and the layers above it are rebuilt on
 * the layer's parent) or removed when it has no child, so the chain does
 * not grow without bound. Every remaining snapshot and the VM read exactly
 * what they read before. The merge is journaled (vmrec_journal.h): after a
 * crash the same call resumes it, finishes it, or discards it when the VM
 * changed since. @progress's first call gives the bytes already copied
 * (above 0 only when resuming); on success img_last_error() holds a note
 * about a finished or discarded earlier merge, or "". */
int vmrec_snapshot_rm(struct cat *c, const char *name, const char *tag,
		      img_progress_fn progress, void *opaque);

#endif
