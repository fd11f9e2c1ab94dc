/* images/vmrec_int.h: what the VM files of images/ share (folder-private). */
#ifndef VV_IMAGES_VMREC_INT_H
#define VV_IMAGES_VMREC_INT_H

#include "images/vmrec.h"

#define VMREC_PATH_MAX 4300

/* Loads VM @name and refuses (-EBUSY) when it runs or is being created.
 * Reasons go to img_last_error(). */
int vmrec_get_idle(struct cat *c, const char *name, struct cat_vm *vm);

/* Picks a fresh file name in VM @vm's folder (created when missing):
 * relative into @rel (192 bytes), absolute into @path (@len bytes). */
int vmrec_file_name(struct cat *c, const char *vm, char rel[192], char *path, size_t len);

/* Gives each VM @names[0..n-1] empty extra disks of the sizes of VM
 * @src's (vmrec_disk.c). */
int vmrec_disks_clone(struct cat *c, const char *src, const char *const *names, unsigned n);

/* Creates a new layer file for VM @vm under a fresh name, relative path
 * into @rel (192 bytes): a differencing VHD on @parent (absolute), or a
 * dynamic VHD of @size bytes when @parent is NULL or "". */
int vmrec_layer_file(struct cat *c, const char *vm, const char *parent, uint64_t size,
		     char rel[192]);


/* ---- resumable copy (vmrec_copy.c) ---- */

struct vmrec_copy_job {
	int max_depth;          /* copy runs held by layers 1..max_depth of the source */
	uint64_t start;         /* virtual offset to start (resume) at; below it is done */
	uint64_t every;         /* checkpoint after this many bytes copied; 0: at the end only */
	/* Called after the destination was flushed: everything below @off is
	 * durable there. Last call with @off = the virtual size. Non-zero stops. */
	int (*checkpoint)(void *opaque, uint64_t off);
	void (*advance)(void *opaque, uint64_t bytes);  /* bytes copied since last call; may be NULL */
	void *opaque;
};

struct vmrec_copy_count {
	uint64_t size;          /* virtual size of the chain */
	uint64_t total;         /* bytes held by layers 1..max_depth */
	uint64_t below;         /* of those, below the offset asked */
};

/* Measures the chain at @src_path (layers 1..@max_depth, below @upto). */
int vmrec_copy_measure(const char *src_path, int max_depth, uint64_t upto,
		       struct vmrec_copy_count *out);

/* Copies into the VHD at @dst_path (opened read-write, same virtual size)
 * every run of @src_path's chain at or above @job->start held by layers
 * 1..max_depth (zeros included when @dst is differencing, so that they
 * keep hiding the parent's data), in offset order, with checkpoints. */
int vmrec_copy_run(const char *src_path, const char *dst_path, const struct vmrec_copy_job *job);

/* ---- interrupted merges (vmrec_merge.c) ---- */

/* For image gc: the files of VM folder @vm (relative paths, 192 bytes
 * each) that a still resumable snapshot-rm needs (its journal and new
 * files), malloc'ed into *@keep (*@n of them; free it). 0 or -errno. */
int vmrec_merge_keep(struct cat *c, const char *vm, char (**keep)[192], unsigned *n);

/* Removes the files at relative paths @rels[0..n-1] (missing ones are
 * fine) and their VM folder when it became empty. */
void vmrec_unlink_files(struct cat *c, char (*rels)[192], unsigned n);

#endif
