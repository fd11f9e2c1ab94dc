/* images/bundle_vm.c: the VM part of bundles: checking the layer tree and
 * data disks a manifest describes and recording them under a (new) name. */
#include "images/bundle_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec.h"
#include "vhd/vhd.h"
#include "vhd/vhd_ops.h"

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "";
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ?
	       v : NULL;
}

/* Index of layer @id in @layers, or -1. */
static int layer_index(json_object *layers, int64_t id)
{
	for (size_t i = 0; i < json_object_array_length(layers); i++)
		if (jint(json_object_array_get_idx(layers, i), "id") == id)
			return (int)i;
	return -1;
}

/* Entry @i of the VM's files that move: its layers, then its data disks. */
static json_object *moving(json_object *vmj, size_t i)
{
	json_object *layers = jarr(vmj, "layers"), *disks = jarr(vmj, "disks");
	size_t nl = json_object_array_length(layers);

	return i < nl ? json_object_array_get_idx(layers, i) :
	       json_object_array_get_idx(disks, i - nl);
}

static size_t moving_count(json_object *vmj)
{
	json_object *disks = jarr(vmj, "disks");

	return json_object_array_length(jarr(vmj, "layers")) +
	       (disks ? json_object_array_length(disks) : 0);
}

static const char *base_name(const char *file)
{
	const char *s = strrchr(file, '/');

	return s ? s + 1 : file;
}

/* Every moving file is under vms/, and no two share a base name (they
 * all move into one folder). */
static int files_verify(json_object *vmj)
{
	size_t n = moving_count(vmj);

	for (size_t i = 0; i < n; i++) {
		const char *f = jstr(moving(vmj, i), "file");

		if (strncmp(f, "vms/", 4) || strstr(f, ".."))
			return img_fail(-EINVAL, "bundle: bad VM file '%s'", f);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(base_name(f), base_name(jstr(moving(vmj, k), "file"))))
				return img_fail(-EINVAL, "bundle: VM file '%s' listed twice",
						base_name(f));
	}
	return 0;
}

static void first_problem(void *opaque, const struct vhd_check_problem *p)
{
	char *msg = opaque;

	if (!p->warning && !p->repaired && !msg[0])
		snprintf(msg, 300, "%.255s (%.40s)", p->detail, p->name);
}

/* Data disk @d, extracted under @dir: a standalone VHD (fixed or
 * dynamic) without damage, of the virtual size the manifest says. */
static int disk_verify(const char *dir, json_object *d)
{
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NO_PARENT };
	struct vhd_check_result res;
	struct vhd_info info;
	char path[4600], msg[300] = "";
	struct vhd *v;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, jstr(d, "file"));
	if (access(path, R_OK))
		return img_fail(-EINVAL, "bundle: data disk %s is missing", jstr(d, "file"));
	r = vhd_check(path, VHD_CHECK_NO_PARENT, first_problem, msg, &res);
	if (!r && res.errors)
		return img_fail(-EINVAL, "bundle: data disk %s is damaged: %s", jstr(d, "file"),
				msg);
	if (!r)
		r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "bundle: data disk %s: %s", jstr(d, "file"), vhd_last_error());
	r = vhd_get_info(v, &info);
	vhd_close(v);
	if (!r && info.type == VHD_TYPE_DIFF)
		r = img_fail(-EINVAL, "bundle: data disk %s is a differencing VHD",
			     jstr(d, "file"));
	else if (!r && (int64_t)info.size != jint(d, "size"))
		r = img_fail(-EINVAL, "bundle: data disk %s has %llu bytes, the manifest says %lld",
			     jstr(d, "file"), (unsigned long long)info.size,
			     (long long)jint(d, "size"));
	return r;
}

/* The optional "disks": at most VMREC_MAX_DISKS, indexes from 1 (not
 * dense: removed disks leave gaps), each once, each file a sound data
 * disk. */
static int disks_verify(const char *dir, json_object *vmj)
{
	json_object *disks, *v;
	size_t n;
	int r;

	if (!json_object_object_get_ex(vmj, "disks", &v))
		return 0;
	disks = jarr(vmj, "disks");
	n = disks ? json_object_array_length(disks) : 0;
	if (!disks || n > VMREC_MAX_DISKS)
		return img_fail(-EINVAL, "bundle: bad list of data disks");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(disks, i);
		int64_t idx = jint(d, "idx");

		if (idx < 1 || idx > INT32_MAX)
			return img_fail(-EINVAL, "bundle: bad data disk index %lld", (long long)idx);
		for (size_t k = 0; k < i; k++)
			if (jint(json_object_array_get_idx(disks, k), "idx") == idx)
				return img_fail(-EINVAL, "bundle: data disk %lld listed twice",
						(long long)idx);
		r = disk_verify(dir, d);
		if (r)
			return r;
	}
	return 0;
}

int bundle_vm_verify(const char *dir, json_object *vmj)
{
	json_object *layers = jarr(vmj, "layers"), *snaps = jarr(vmj, "snapshots");
	char path[4600];
	struct img_src src;
	int r;

	if (!layers || !snaps || layer_index(layers, jint(vmj, "top")) < 0)
		return img_fail(-EINVAL, "bundle: the VM has no layers or no top layer");
	r = files_verify(vmj);
	if (!r)
		r = disks_verify(dir, vmj);
	if (r)
		return r;
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		json_object *l = json_object_array_get_idx(layers, i);
		int64_t parent = jint(l, "parent");
		int pi = parent ? layer_index(layers, parent) : -1;

		if (parent && (pi < 0 || (size_t)pi >= i))
			return img_fail(-EINVAL, "bundle: layer %lld has a bad parent",
					(long long)jint(l, "id"));
		if (strncmp(jstr(l, "file"), "vms/", 4) || strstr(jstr(l, "file"), ".."))
			return img_fail(-EINVAL, "bundle: bad layer file '%s'", jstr(l, "file"));
		snprintf(path, sizeof(path), "%s/%s", dir, jstr(l, "file"));
		if (access(path, R_OK))
			return img_fail(-EINVAL, "bundle: layer %s is missing", jstr(l, "file"));
		r = img_src_vhd_open(path, &src);	/* the whole chain opens */
		if (r)
			return img_fail(r, "bundle: %s", img_last_error());
		img_src_vhd_close(&src);
	}
	for (size_t i = 0; i < json_object_array_length(snaps); i++)
		if (layer_index(layers, jint(json_object_array_get_idx(snaps, i), "layer")) < 0)
			return img_fail(-EINVAL, "bundle: a snapshot names no layer");
	return 0;
}

/* The file of layer or disk @l once moved: vms/<name>/<its base name>. */
static void new_rel(json_object *l, const char *name, char rel[192])
{
	snprintf(rel, 192, "vms/%s/%s", name, base_name(jstr(l, "file")));
}

static int record(struct cat *c, json_object *vmj, const char *name)
{
	json_object *layers = jarr(vmj, "layers"), *snaps = jarr(vmj, "snapshots");
	json_object *disks = jarr(vmj, "disks");
	size_t n = json_object_array_length(layers);
	int64_t *ids = calloc(n, sizeof(*ids));
	struct cat_vm vm;
	int r;

	if (!ids)
		return -ENOMEM;
	r = cat_begin(c);
	for (size_t i = 0; !r && i < n; i++) {
		json_object *o = json_object_array_get_idx(layers, i);
		struct cat_layer l = { 0 };
		int pi = jint(o, "parent") ? layer_index(layers, jint(o, "parent")) : -1;

		snprintf(l.vm, sizeof(l.vm), "%s", name);
		new_rel(o, name, l.file);
		l.parent = pi >= 0 ? ids[pi] : 0;
		l.standalone = json_object_get_boolean(json_object_object_get(o, "standalone"));
		l.created = time(NULL);
		r = cat_layer_add(c, &l, &ids[i]);
	}
	for (size_t i = 0; !r && i < json_object_array_length(snaps); i++) {
		json_object *o = json_object_array_get_idx(snaps, i);
		struct cat_snapshot s = { 0 };

		snprintf(s.vm, sizeof(s.vm), "%s", name);
		snprintf(s.tag, sizeof(s.tag), "%s", jstr(o, "tag"));
		s.layer = ids[layer_index(layers, jint(o, "layer"))];
		s.created = jint(o, "created");
		r = cat_snap_add(c, &s);
	}
	for (size_t i = 0; !r && disks && i < json_object_array_length(disks); i++) {
		json_object *o = json_object_array_get_idx(disks, i);
		struct cat_disk d = { .idx = (unsigned)jint(o, "idx"), .created = time(NULL) };

		snprintf(d.vm, sizeof(d.vm), "%s", name);
		new_rel(o, name, d.file);
		r = cat_disk_add(c, &d);
	}
	if (!r)
		r = cat_vm_get(c, name, &vm);
	if (!r) {
		vm.top = ids[layer_index(layers, jint(vmj, "top"))];
		strcpy(vm.state, CAT_VM_READY);
		r = cat_vm_update(c, &vm);
	}
	if (!r)
		r = cat_commit(c);
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		cat_rollback(c);
	}
	free(ids);
	return r;
}

int bundle_vm_adopt(struct cat *c, const char *dir, json_object *vmj, const char *name,
		    char out[CAT_NAME_MAX + 1])
{
	char n[CAT_NAME_MAX + 1], v[CAT_NAME_MAX + 1], src[4600], dst[4300], rel[192];
	struct cat_vm vm = { 0 };
	struct cat_image img;
	json_object *ci;
	size_t moved = 0;
	int r;

	if (!name)
		name = jstr(vmj, "name");
	if (cat_ref_split(name, n, v) || v[0])
		return img_fail(-EINVAL, "bad VM name '%s'", name);
	snprintf(vm.name, sizeof(vm.name), "%s", name);
	strcpy(vm.state, CAT_VM_CREATING);
	snprintf(vm.image, sizeof(vm.image), "%s", jstr(vmj, "image"));
	vm.cpus = (unsigned)jint(vmj, "cpus");
	vm.mem = (uint64_t)jint(vmj, "mem");
	snprintf(vm.mac, sizeof(vm.mac), "%s", jstr(vmj, "mac"));
	snprintf(vm.uuid, sizeof(vm.uuid), "%s", jstr(vmj, "uuid"));
	snprintf(vm.machine_id, sizeof(vm.machine_id), "%s", jstr(vmj, "machine_id"));
	if (json_object_object_get_ex(vmj, "cloud_init", &ci))
		vm.cloud_init = json_object_get_boolean(ci);
	else	/* bundles from before the flag: as a new VM of its image */
		vm.cloud_init = vm.image[0] && !cat_image_get(c, vm.image, &img) &&
				img.cloud_init;
	vm.created = time(NULL);
	r = cat_vm_add(c, &vm);
	if (r)
		return img_fail(r, r == -EEXIST ? "a VM named '%s' exists here (--name NEW)" :
				"catalog: cannot add VM %s", name);
	snprintf(rel, sizeof(rel), "vms/%s", name);
	r = cat_path(c, rel, dst, sizeof(dst));
	if (!r && mkdir(dst, 0700) && errno != EEXIST)
		r = img_fail(-errno, "%s: %s", dst, strerror(errno));
	for (; !r && moved < moving_count(vmj); moved++) {
		json_object *o = moving(vmj, moved);

		snprintf(src, sizeof(src), "%s/%s", dir, jstr(o, "file"));
		new_rel(o, name, rel);
		r = cat_path(c, rel, dst, sizeof(dst));
		if (!r && rename(src, dst))
			r = img_fail(-errno, "%s: %s", dst, strerror(errno));
	}
	if (!r)
		r = record(c, vmj, name);
	if (r) {
		while (moved--) {
			new_rel(moving(vmj, moved), name, rel);
			if (!cat_path(c, rel, dst, sizeof(dst)))
				unlink(dst);
		}
		cat_vm_del(c, name);
		return r;
	}
	snprintf(out, CAT_NAME_MAX + 1, "%s", name);
	return 0;
}
