/* images/vmrec.c: creating, cloning, flattening and removing VMs. */
#include "images/vmrec_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "images/img_store.h"
#include "images/vmrun.h"
#include "netback/mac.h"
#include "vhd/vhd.h"

#define VMREC_CLONE_THREADS 8

int vmrec_get_idle(struct cat *c, const char *name, struct cat_vm *vm)
{
	int r = cat_vm_get(c, name, vm);

	if (r)
		return img_fail(r, r == -ENOENT ? "no VM '%s'" : "catalog: %s",
				r == -ENOENT ? name : cat_errmsg(c));
	if (strcmp(vm->state, CAT_VM_READY))
		return img_fail(-EBUSY, "VM '%s' is still being created (or its creation"
				" was interrupted: run 'image gc')", name);
	if (vmrec_running(name))
		return img_fail(-EBUSY, "VM '%s' is running; stop it first", name);
	return 0;
}

int vmrec_file_name(struct cat *c, const char *vm, char rel[192], char *path, size_t len)
{
	char dir[128];
	uint8_t rnd[8];
	int r;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return img_fail(-EIO, "no random numbers");
	snprintf(dir, sizeof(dir), "vms/%s", vm);
	r = cat_path(c, dir, path, len);
	if (r)
		return r;
	if (mkdir(path, 0700) && errno != EEXIST)
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	snprintf(rel, 192, "vms/%s/%02x%02x%02x%02x%02x%02x%02x%02x.vhd", vm, rnd[0], rnd[1],
		 rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	return cat_path(c, rel, path, len);
}

int vmrec_layer_file(struct cat *c, const char *vm, const char *parent, uint64_t size,
		     char rel[192])
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = size };
	char path[VMREC_PATH_MAX];
	int r;

	r = vmrec_file_name(c, vm, rel, path, sizeof(path));
	if (r)
		return r;
	if (parent && parent[0]) {
		co.type = VHD_TYPE_DIFF;
		co.parent = parent;
	}
	r = vhd_create(path, &co);
	return r ? img_fail(r, "cannot create %s: %s", path, vhd_last_error()) : 0;
}

void vmrec_unlink_files(struct cat *c, char (*rels)[192], unsigned n)
{
	char path[VMREC_PATH_MAX];

	for (unsigned i = 0; i < n; i++) {
		if (!rels[i][0] || cat_path(c, rels[i], path, sizeof(path)))
			continue;
		unlink(path);
		*strrchr(path, '/') = '\0';
		rmdir(path);	/* only when empty */
	}
}

/* ---- identity ---- */

/* The MAC of the VM's NIC: netback's stable derivation from the name. */
static void mac_of_name(const char *name, char out[18])
{
	uint8_t mac[MAC_LEN];
	char buf[MAC_STR_LEN];

	mac_generate(name, 0, mac);
	snprintf(out, 18, "%s", mac_format(mac, buf));
}

static int identity_new(struct cat_vm *vm)
{
	uint8_t u[16], m[16];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u) ||
	    getrandom(m, sizeof(m), 0) != (ssize_t)sizeof(m))
		return img_fail(-EIO, "no random numbers");
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);	/* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	m[6] = (uint8_t)((m[6] & 0x0f) | 0x40);
	m[8] = (uint8_t)((m[8] & 0x3f) | 0x80);
	vhd_uuid_format(u, vm->uuid);
	for (int i = 0; i < 16; i++)
		sprintf(vm->machine_id + 2 * i, "%02x", m[i]);
	mac_of_name(vm->name, vm->mac);
	return 0;
}

/* ---- create ---- */

static int name_check(const char *name)
{
	char n[CAT_NAME_MAX + 1], v[CAT_NAME_MAX + 1];

	if (cat_ref_split(name, n, v) || v[0])
		return img_fail(-EINVAL, "bad VM name '%s' (1-%d of [A-Za-z0-9._-])", name,
				CAT_NAME_MAX);
	return 0;
}

/* Rows of VMs whose creation failed: deleted in one transaction. */
static void drop_rows(struct cat *c, const char *const *names, unsigned n)
{
	if (cat_begin(c))
		return;
	for (unsigned i = 0; i < n; i++)
		cat_vm_del(c, names[i]);
	if (cat_commit(c))
		cat_rollback(c);
}

/* Linked layers for many VMs, made by a few threads at once: each
 * vhd_create waits on its own fsyncs, so latencies overlap. */
struct layer_job {
	struct cat *c;
	const char *base;
	const char *const *names;
	char (*rels)[192];
	unsigned n, next;
	int err;
	char errmsg[512];      /* the failing thread's img_last_error() */
	pthread_mutex_t lock;
};

static void *layer_worker(void *opaque)
{
	struct layer_job *j = opaque;

	for (;;) {
		unsigned i;
		int r;

		pthread_mutex_lock(&j->lock);
		i = j->err ? j->n : j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->n)
			return NULL;
		r = vmrec_layer_file(j->c, j->names[i], j->base, 0, j->rels[i]);
		if (r) {
			pthread_mutex_lock(&j->lock);
			if (!j->err) {
				j->err = r;
				snprintf(j->errmsg, sizeof(j->errmsg), "%s", img_last_error());
			}
			pthread_mutex_unlock(&j->lock);
		}
	}
}

static int linked_layers(struct cat *c, const char *base, const char *const *names,
			 unsigned n, char (*rels)[192])
{
	struct layer_job j = { .c = c, .base = base, .names = names, .rels = rels, .n = n };
	pthread_t th[VMREC_CLONE_THREADS];
	unsigned nth = n < VMREC_CLONE_THREADS ? n : VMREC_CLONE_THREADS, started = 0;

	pthread_mutex_init(&j.lock, NULL);
	for (; started + 1 < nth; started++)
		if (pthread_create(&th[started], NULL, layer_worker, &j))
			break;
	layer_worker(&j);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&j.lock);
	return j.err ? img_fail(j.err, "%s", j.errmsg) : 0;
}

/* Standalone copies of the disk at @src, one per VM. */
static int full_layers(struct cat *c, const char *src, const char *const *names, unsigned n,
		       char (*rels)[192], img_progress_fn progress, void *opaque)
{
	char path[VMREC_PATH_MAX];
	struct img_src is;
	uint64_t size;
	int r;

	r = img_src_vhd_open(src, &is);
	if (r)
		return r;
	size = is.size;
	img_src_vhd_close(&is);
	for (unsigned i = 0; i < n; i++) {
		r = vmrec_layer_file(c, names[i], NULL, size, rels[i]);
		if (!r)
			r = cat_path(c, rels[i], path, sizeof(path));
		if (!r)
			r = vmrec_copy_run(src, path, &(struct vmrec_copy_job){
						   .max_depth = VHD_DEFAULT_MAX_DEPTH });
		if (r)
			return r;
		if (progress)
			progress(opaque, i + 1, n);
	}
	return 0;
}

/* The common part of create and clone: claims @names, makes one layer
 * each (on @base, or a standalone copy of @copy_from when set), marks them
 * ready. @tmpl carries image, cpus, mem, lab, net. */
static int create_many(struct cat *c, const struct cat_vm *tmpl, const char *base,
		       const char *copy_from, const char *const *names, unsigned n,
		       img_progress_fn progress, void *opaque)
{
	char (*rels)[192] = calloc(n ? n : 1, 192);
	struct cat_layer l = { 0 };
	struct cat_vm vm;
	bool files_ok = false;
	int64_t id;
	int r = 0;

	if (!rels)
		return -ENOMEM;
	for (unsigned i = 0; !r && i < n; i++)
		r = name_check(names[i]);
	if (r)
		goto out;
	/* 1: claim every name */
	r = cat_begin(c);
	for (unsigned i = 0; !r && i < n; i++) {
		vm = *tmpl;
		snprintf(vm.name, sizeof(vm.name), "%s", names[i]);
		strcpy(vm.state, CAT_VM_CREATING);
		vm.created = time(NULL);
		vm.top = 0;
		r = identity_new(&vm);
		if (!r) {
			r = cat_vm_add(c, &vm);
			if (r == -EEXIST)
				img_fail(r, "a VM named '%s' exists", names[i]);
			else if (r)
				img_fail(r, "catalog: %s", cat_errmsg(c));
		}
	}
	if (r) {
		cat_rollback(c);
		goto out;
	}
	r = cat_commit(c);
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		goto out;
	}
	/* 2: files, no transaction open */
	if (copy_from)
		r = full_layers(c, copy_from, names, n, rels, progress, opaque);
	else
		r = linked_layers(c, base, names, n, rels);
	files_ok = !r;
	/* 3: layers in, VMs ready */
	if (!r)
		r = cat_begin(c);
	for (unsigned i = 0; !r && i < n; i++) {
		snprintf(l.vm, sizeof(l.vm), "%s", names[i]);
		snprintf(l.file, sizeof(l.file), "%s", rels[i]);
		l.standalone = copy_from != NULL;
		l.created = time(NULL);
		r = cat_layer_add(c, &l, &id);
		if (!r)
			r = cat_vm_get(c, names[i], &vm);
		if (!r) {
			strcpy(vm.state, CAT_VM_READY);
			vm.top = id;
			r = cat_vm_update(c, &vm);
		}
	}
	if (!r)
		r = cat_commit(c);
	else if (files_ok)
		img_fail(r, "catalog: %s", cat_errmsg(c));
	if (r) {
		cat_rollback(c);
		vmrec_unlink_files(c, rels, n);
		drop_rows(c, names, n);
	}
out:
	free(rels);
	return r;
}

int vmrec_create(struct cat *c, const char *image_id, const char *const *names, unsigned n,
		 const struct vmrec_opts *o)
{
	struct cat_vm tmpl = { 0 };
	struct cat_image img;
	char base[VMREC_PATH_MAX];
	int r;

	r = cat_image_get(c, image_id, &img);
	if (r)
		return img_fail(r, "no image %s", image_id);
	r = cat_path(c, img.file, base, sizeof(base));
	if (r)
		return r;
	snprintf(tmpl.image, sizeof(tmpl.image), "%s", img.id);
	tmpl.cpus = o && o->cpus ? o->cpus : VMREC_DEFAULT_CPUS;
	tmpl.mem = o && o->mem ? o->mem : (img.min_mem > VMREC_DEFAULT_MEM ? img.min_mem :
					   VMREC_DEFAULT_MEM);
	snprintf(tmpl.lab, sizeof(tmpl.lab), "%s", o && o->lab ? o->lab : "");
	snprintf(tmpl.net, sizeof(tmpl.net), "%s", o && o->net ? o->net : "");
	tmpl.cloud_init = img.cloud_init;
	return create_many(c, &tmpl, base, NULL, names, n, NULL, NULL);
}

/* True when VM @vm's disk is still exactly its image: one layer, on the
 * image, with nothing written. */
static int pristine(struct cat *c, const struct cat_vm *vm, bool *yes)
{
	struct vhd_info info;
	char path[VMREC_PATH_MAX];
	struct cat_layer l;
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NO_PARENT };
	struct vhd *v;
	int r;

	*yes = false;
	r = cat_layer_get(c, vm->top, &l);
	if (r || l.parent || l.standalone || !vm->image[0])
		return r;
	r = cat_path(c, l.file, path, sizeof(path));
	if (!r)
		r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "%s: %s", path, vhd_last_error());
	r = vhd_get_info(v, &info);
	vhd_close(v);
	*yes = !r && info.allocated_blocks == 0;
	return r;
}

int vmrec_clone(struct cat *c, const char *src, const char *const *names, unsigned n,
		bool full, const struct vmrec_opts *o, img_progress_fn progress, void *opaque)
{
	struct img_import_opts io = { .progress = progress, .progress_opaque = opaque };
	struct img_import_result res;
	char top[VMREC_PATH_MAX], source[96];
	struct cat_vm vm, tmpl;
	struct img_src s;
	struct cat_image img;
	bool clean;
	int r;

	r = vmrec_get_idle(c, src, &vm);
	if (r)
		return r;
	tmpl = vm;
	tmpl.cpus = o && o->cpus ? o->cpus : vm.cpus;
	tmpl.mem = o && o->mem ? o->mem : vm.mem;
	snprintf(tmpl.lab, sizeof(tmpl.lab), "%s", o && o->lab ? o->lab : "");
	snprintf(tmpl.net, sizeof(tmpl.net), "%s", o && o->net ? o->net : vm.net);
	r = vmrec_disk_path(c, src, top, sizeof(top));
	if (r)
		return r;
	/* clones keep the source's cloud-init setting, and get it when their
	 * image is a cloud-init image */
	if (vm.image[0] && !cat_image_get(c, vm.image, &img) && img.cloud_init)
		tmpl.cloud_init = 1;
	if (full) {
		r = create_many(c, &tmpl, NULL, top, names, n, progress, opaque);
		return r ? r : vmrec_disks_clone(c, src, names, n);
	}
	r = pristine(c, &vm, &clean);
	if (r)
		return r;
	if (!clean) {
		/* capture the source's disk once, as an image derived from its own */
		snprintf(source, sizeof(source), "vm:%s", src);
		io.source = source;
		io.parent = vm.image[0] ? vm.image : NULL;
		r = img_src_vhd_open(top, &s);
		if (r)
			return r;
		r = img_import_src(c, &s, &io, &res);
		img_src_vhd_close(&s);
		if (r)
			return r;
		snprintf(tmpl.image, sizeof(tmpl.image), "%s", res.img.id);
	}
	r = cat_image_get(c, tmpl.image, &img);
	if (!r)
		r = cat_path(c, img.file, top, sizeof(top));
	if (r)
		return img_fail(r, "image of VM %s: %s", src, strerror(-r));
	r = create_many(c, &tmpl, top, NULL, names, n, NULL, NULL);
	return r ? r : vmrec_disks_clone(c, src, names, n);
}

struct file_list {
	char (*rels)[192];
	unsigned n, cap;
};

static int collect_file(void *opaque, const struct cat_layer *l)
{
	struct file_list *fl = opaque;

	if (fl->n == fl->cap) {
		unsigned cap = fl->cap ? 2 * fl->cap : 8;
		void *p = realloc(fl->rels, (size_t)cap * 192);

		if (!p)
			return -ENOMEM;
		fl->rels = p;
		fl->cap = cap;
	}
	snprintf(fl->rels[fl->n++], 192, "%s", l->file);
	return 0;
}

static int collect_disk(void *opaque, const struct cat_disk *d)
{
	struct cat_layer l = { 0 };

	snprintf(l.file, sizeof(l.file), "%s", d->file);
	return collect_file(opaque, &l);
}

int vmrec_remove(struct cat *c, const char *name)
{
	struct file_list fl = { 0 };
	struct cat_vm vm;
	int r;

	r = cat_vm_get(c, name, &vm);
	if (r)
		return img_fail(r, "no VM '%s'", name);
	if (vmrec_running(name))
		return img_fail(-EBUSY, "VM '%s' is running; stop it first", name);
	r = cat_layer_foreach(c, name, collect_file, &fl);
	if (!r)
		r = cat_disk_foreach(c, name, collect_disk, &fl);
	if (!r)
		r = cat_vm_del(c, name);
	if (r) {
		free(fl.rels);
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	}
	vmrec_unlink_files(c, fl.rels, fl.n);
	free(fl.rels);
	vmrec_cred_remove(c, name);
	return 0;
}

int vmrec_disk_path(struct cat *c, const char *name, char *path, size_t len)
{
	struct cat_layer l;
	struct cat_vm vm;
	int r;

	r = cat_vm_get(c, name, &vm);
	if (r)
		return img_fail(r, "no VM '%s'", name);
	r = cat_layer_get(c, vm.top, &l);
	if (r)
		return img_fail(r, "VM '%s' has no disk (interrupted creation? run 'image gc')",
				name);
	return cat_path(c, l.file, path, len);
}

int vmrec_flatten(struct cat *c, const char *name, img_progress_fn progress, void *opaque)
{
	struct file_list fl = { 0 };
	char top[VMREC_PATH_MAX], rel[192], path[VMREC_PATH_MAX];
	struct cat_layer l = { 0 };
	struct img_src s;
	struct cat_vm vm;
	int64_t id;
	int r;

	r = vmrec_get_idle(c, name, &vm);
	if (!r)
		r = vmrec_disk_path(c, name, top, sizeof(top));
	if (!r)
		r = img_src_vhd_open(top, &s);
	if (r)
		return r;
	r = vmrec_layer_file(c, name, NULL, s.size, rel);
	img_src_vhd_close(&s);
	if (!r)
		r = cat_path(c, rel, path, sizeof(path));
	if (!r)
		r = vmrec_copy_run(top, path, &(struct vmrec_copy_job){
					   .max_depth = VHD_DEFAULT_MAX_DEPTH });
	if (progress)
		progress(opaque, 1, 1);
	/* switch: the new layer alone; old layers and snapshots go */
	if (!r)
		r = cat_layer_foreach(c, name, collect_file, &fl);
	if (!r)
		r = cat_begin(c);
	if (!r) {
		snprintf(l.vm, sizeof(l.vm), "%s", name);
		snprintf(l.file, sizeof(l.file), "%s", rel);
		l.standalone = 1;
		l.created = time(NULL);
		r = cat_vm_del(c, name);
		if (!r)
			r = cat_vm_add(c, &vm);
		if (!r)
			r = cat_layer_add(c, &l, &id);
		if (!r) {
			vm.top = id;
			vm.image[0] = '\0';
			r = cat_vm_update(c, &vm);
		}
		if (!r)
			r = cat_commit(c);
		if (r) {
			img_fail(r, "catalog: %s", cat_errmsg(c));
			cat_rollback(c);
		}
	}
	if (r) {
		char one[1][192];

		snprintf(one[0], sizeof(one[0]), "%s", rel);
		vmrec_unlink_files(c, one, 1);
	} else {
		vmrec_unlink_files(c, fl.rels, fl.n);
	}
	free(fl.rels);
	return r;
}
