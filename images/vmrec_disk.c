/* images/vmrec_disk.c: a VM's extra data disks (add, resize, remove, the
 * empty copies clones get). */
#include "images/vmrec_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "images/img_store.h"
#include "vhd/vhd.h"
#include "vhd/vhd_ops.h"

int vmrec_disk_file(struct cat *c, const char *name, unsigned idx, char *path, size_t len)
{
	struct cat_disk d;
	int r;

	if (idx == 0)
		return vmrec_disk_path(c, name, path, len);
	r = cat_disk_get(c, name, idx, &d);
	if (r)
		return img_fail(r, "VM '%s' has no disk %u", name, idx);
	return cat_path(c, d.file, path, len);
}

static int max_idx(void *opaque, const struct cat_disk *d)
{
	unsigned *n = opaque;

	n[0] = d->idx > n[0] ? d->idx : n[0];
	n[1]++;
	return 0;
}

/* Registers the file @rel as the next disk of VM @name in one short
 * transaction; its index into *@idx. */
static int disk_register(struct cat *c, const char *name, const char *rel, unsigned *idx)
{
	struct cat_disk d = { .created = time(NULL) };
	unsigned n[2] = { 0, 0 };	/* highest index, count */
	int r;

	r = cat_begin(c);
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	r = cat_disk_foreach(c, name, max_idx, n);
	if (!r && n[1] >= VMREC_MAX_DISKS)
		r = img_fail(-ENOSPC, "VM '%s' has %u extra disks already (the most)", name,
			     n[1]);
	else if (r)
		r = img_fail(r, "catalog: %s", cat_errmsg(c));
	if (!r) {
		snprintf(d.vm, sizeof(d.vm), "%s", name);
		snprintf(d.file, sizeof(d.file), "%s", rel);
		d.idx = n[0] + 1;
		r = cat_disk_add(c, &d);
		if (r)
			img_fail(r, "catalog: %s", cat_errmsg(c));
	}
	if (!r)
		r = cat_commit(c);
	if (r) {
		cat_rollback(c);
		return r;
	}
	*idx = d.idx;
	return 0;
}

/* Copies the content of the standalone VHD at @file into a new dynamic
 * VHD at @path, after `vhd check` found no damage. A differencing VHD is
 * refused: its parent could be any file on the host. */
static int disk_import(const char *file, const char *path)
{
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NO_PARENT };
	struct vhd_info info;
	char what[4200];
	struct img_src s;
	struct vhd *v;
	int r;

	snprintf(what, sizeof(what), "not added: %s", file);
	r = img_vhd_verify(file, what, VHD_CHECK_NO_PARENT);
	if (r)
		return r;
	r = vhd_open(file, &oo, &v);
	if (r)
		return img_fail(r, "%s: %s", what, vhd_last_error());
	r = vhd_get_info(v, &info);
	vhd_close(v);
	if (!r && info.type == VHD_TYPE_DIFF)
		r = img_fail(-EINVAL, "%s is a differencing VHD; a data disk must be standalone"
			     " (make one with 'vhd convert')", what);
	if (r)
		return r;
	r = img_src_vhd_open(file, &s);
	if (r)
		return r;
	r = img_export_src(&s, path, IMG_EXPORT_VHD, NULL, NULL, NULL);
	img_src_vhd_close(&s);
	return r;
}

int vmrec_disk_add(struct cat *c, const char *name, uint64_t size, const char *file,
		   unsigned *idx)
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = size };
	char rel[192], path[VMREC_PATH_MAX];
	struct cat_vm vm;
	int r;

	r = vmrec_get_idle(c, name, &vm);
	if (!r)
		r = vmrec_file_name(c, name, rel, path, sizeof(path));
	if (r)
		return r;
	if (file)
		r = disk_import(file, path);
	else if ((r = vhd_create(path, &co)))
		img_fail(r, "cannot create a %llu-byte disk: %s", (unsigned long long)size,
			 vhd_last_error());
	if (!r)
		r = disk_register(c, name, rel, idx);
	if (r)
		unlink(path);
	return r;
}

int vmrec_disk_resize(struct cat *c, const char *name, unsigned idx, uint64_t size)
{
	char path[VMREC_PATH_MAX];
	struct cat_vm vm;
	int r;

	r = vmrec_get_idle(c, name, &vm);
	if (!r)
		r = vmrec_disk_file(c, name, idx, path, sizeof(path));
	if (r)
		return r;
	r = vhd_resize(path, size, 0);
	if (r == -ENOTEMPTY)
		return img_fail(r, "disk %u of VM '%s' holds data past %llu bytes", idx, name,
				(unsigned long long)size);
	return r ? img_fail(r, "cannot resize disk %u of VM '%s': %s", idx, name,
			    vhd_last_error()) : 0;
}

int vmrec_disk_rm(struct cat *c, const char *name, unsigned idx)
{
	char rel[1][192];
	struct cat_disk d;
	struct cat_vm vm;
	int r;

	r = vmrec_get_idle(c, name, &vm);
	if (r)
		return r;
	if (idx == 0)
		return img_fail(-EPERM, "disk 0 is the boot disk of VM '%s'; it cannot be removed",
				name);
	r = cat_disk_get(c, name, idx, &d);
	if (!r)
		r = cat_disk_del(c, name, idx);
	if (r)
		return img_fail(r, r == -ENOENT ? "VM '%s' has no disk %u" : "catalog: VM '%s' disk %u",
				name, idx);
	snprintf(rel[0], sizeof(rel[0]), "%s", d.file);
	vmrec_unlink_files(c, rel, 1);
	return 0;
}

struct disk_sizes {
	struct cat *c;
	uint64_t size[VMREC_MAX_DISKS];
	unsigned n;
};

static int disk_size(void *opaque, const struct cat_disk *d)
{
	struct disk_sizes *ds = opaque;
	struct vhd_open_opts oo = { 0 };
	char path[VMREC_PATH_MAX];
	struct vhd *v;
	int r;

	if (ds->n == VMREC_MAX_DISKS)
		return -E2BIG;
	r = cat_path(ds->c, d->file, path, sizeof(path));
	if (!r)
		r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "%s: %s", d->file, vhd_last_error());
	ds->size[ds->n++] = vhd_size(v);
	vhd_close(v);
	return 0;
}

int vmrec_disks_clone(struct cat *c, const char *src, const char *const *names, unsigned n)
{
	struct disk_sizes ds = { .c = c };
	unsigned idx;
	int r;

	r = cat_disk_foreach(c, src, disk_size, &ds);
	for (unsigned i = 0; !r && i < n; i++)
		for (unsigned k = 0; !r && k < ds.n; k++)
			r = vmrec_disk_add(c, names[i], ds.size[k], NULL, &idx);
	return r;
}
