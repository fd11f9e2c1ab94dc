/* images/vmrec_snap.c: snapshots of VM disks: take (also of a running VM),
 * revert, reset to the image. */
#include "images/vmrec_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/vm_client.h"
#include "images/img_store.h"
#include "images/vmrun.h"
#include "vhd/vhd.h"

/* Inside a transaction: deletes layer @id and then its ancestors while
 * nothing (child, snapshot, VM top) refers to them; their files are added
 * to @gone (192-byte slots, @max of them) for unlinking after commit. */
static int prune(struct cat *c, int64_t id, char (*gone)[192], unsigned *ngone, unsigned max)
{
	struct cat_layer l;
	int r;

	while (id && *ngone < max) {
		r = cat_layer_get(c, id, &l);
		if (r)
			return r;
		r = cat_layer_del(c, id);
		if (r == -EBUSY)
			return 0;
		if (r)
			return r;
		snprintf(gone[(*ngone)++], 192, "%s", l.file);
		id = l.parent;
	}
	return 0;
}

/* Creates the new top's file, a differencing child of @parent (absolute).
 * @live: the parent is the disk a running VM's export holds
 * locked, so it is opened without a lock; that export records the
 * parent's final timestamp when it switches to the new file. */
static int top_file(struct cat *c, const char *vm, const char *parent, bool live,
		    char rel[192])
{
	struct vhd_open_opts po = { .flags = VHD_OPEN_NOLOCK };
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF, .parent = parent,
				      .parent_opts = &po };
	char path[VMREC_PATH_MAX];
	int r;

	if (!live)
		return vmrec_layer_file(c, vm, parent, 0, rel);
	r = vmrec_file_name(c, vm, rel, path, sizeof(path));
	if (r)
		return r;
	r = vhd_create(path, &co);
	return r ? img_fail(r, "cannot create %s: %s", path, vhd_last_error()) : 0;
}

/* Undoes what new_top() recorded for a live snapshot whose switch failed:
 * the VM's top goes back to @old unless something else changed it. */
static void live_undo(struct cat *c, const char *vm, const char *tag, int64_t old,
		      int64_t id, char rel[192])
{
	struct cat_vm now;

	if (cat_begin(c))
		return;
	if (cat_vm_get(c, vm, &now) || now.top != id) {
		cat_rollback(c);
		return;
	}
	now.top = old;
	if (cat_vm_update(c, &now) || cat_layer_del(c, id) || cat_snap_del(c, vm, tag) ||
	    cat_commit(c)) {
		cat_rollback(c);
		return;
	}
	vmrec_unlink_files(c, (char (*)[192])rel, 1);
}

/* The runtime of running VM @vm switches its boot disk to @rel. */
static int live_switch(struct cat *c, const char *vm, const char *rel)
{
	char api[4200], path[VMREC_PATH_MAX], err[512];
	int r;

	r = vmrec_run_path(vm, "api", api, sizeof(api));
	if (!r)
		r = cat_path(c, rel, path, sizeof(path));
	if (r)
		return img_fail(r, "VM '%s': path too long", vm);
	r = vm_client_switch_disk(api, 0, path, err, sizeof(err));
	return r ? img_fail(r, "VM '%s' could not switch to its new layer: %s", vm, err) : 0;
}

/* Makes a new empty top for @vm on layer @parent_id (0: on the image) and,
 * in one transaction: optionally records snapshot @tag of the old top,
 * switches the VM's top, and (when @drop_old) deletes the old top and
 * whatever it alone kept alive. The transaction refuses (-EAGAIN) when
 * the VM's top changed since @vm was read.
 *
 * @live (the VM runs): after the commit, the VM's runtime pauses the guest,
 * flushes and switches its disk export to the new file, and resumes; if
 * that fails the catalog change is undone. The catalog goes first so that
 * a crash in between leaves the new, empty top on the old one, which keeps
 * the guest's writes until the VM stops: nothing written is lost, the
 * snapshot just holds a few more writes than asked. */
static int new_top(struct cat *c, struct cat_vm *vm, int64_t parent_id, const char *tag,
		   bool drop_old, bool live)
{
	char parent[VMREC_PATH_MAX], rel[1][192], gone[64][192];
	struct cat_layer l = { .parent = parent_id }, p;
	struct cat_snapshot s = { 0 };
	struct cat_vm now;
	unsigned ngone = 0;
	int64_t old = vm->top, id;
	int r;

	if (parent_id) {
		r = cat_layer_get(c, parent_id, &p);
		if (!r)
			r = cat_path(c, p.file, parent, sizeof(parent));
	} else if (vm->image[0]) {
		struct cat_image img;

		r = cat_image_get(c, vm->image, &img);
		if (!r)
			r = cat_path(c, img.file, parent, sizeof(parent));
	} else {
		r = img_fail(-ENOENT, "VM '%s' has no image any more (it was flattened)",
			     vm->name);
	}
	if (r)
		return r;
	r = top_file(c, vm->name, parent, live, rel[0]);
	if (r)
		return r;
	r = cat_begin(c);
	if (!r) {
		r = cat_vm_get(c, vm->name, &now);
		if (!r && now.top != old)
			r = img_fail(-EAGAIN, "VM '%s' changed meanwhile; try again", vm->name);
	}
	if (!r && tag) {
		snprintf(s.vm, sizeof(s.vm), "%s", vm->name);
		snprintf(s.tag, sizeof(s.tag), "%s", tag);
		s.layer = old;
		s.created = time(NULL);
		r = cat_snap_add(c, &s);
		if (r == -EEXIST)
			img_fail(r, "VM '%s' already has a snapshot '%s'", vm->name, tag);
	}
	if (!r) {
		snprintf(l.vm, sizeof(l.vm), "%s", vm->name);
		snprintf(l.file, sizeof(l.file), "%s", rel[0]);
		l.created = time(NULL);
		r = cat_layer_add(c, &l, &id);
	}
	if (!r) {
		vm->top = id;
		r = cat_vm_update(c, vm);
	}
	if (!r && drop_old)
		r = prune(c, old, gone, &ngone, 64);
	if (!r)
		r = cat_commit(c);
	if (r) {
		if (!img_last_error()[0] || (r != -EEXIST && r != -EAGAIN))
			img_fail(r, "catalog: %s", cat_errmsg(c));
		cat_rollback(c);
		vm->top = old;
		vmrec_unlink_files(c, rel, 1);
		return r;
	}
	if (live) {
		r = live_switch(c, vm->name, rel[0]);
		if (r) {
			live_undo(c, vm->name, tag, old, id, rel[0]);
			vm->top = old;
			return r;
		}
	}
	vmrec_unlink_files(c, gone, ngone);
	return 0;
}

int vmrec_snapshot(struct cat *c, const char *name, const char *tag, char *tag_out)
{
	char auto_tag[CAT_NAME_MAX + 1], n[CAT_NAME_MAX + 1], v[CAT_NAME_MAX + 1];
	struct cat_snapshot s;
	struct cat_vm vm;
	bool live = false;
	int r;

	r = vmrec_get_idle(c, name, &vm);
	if (r == -EBUSY && !cat_vm_get(c, name, &vm) && !strcmp(vm.state, CAT_VM_READY) &&
	    vmrec_running(name)) {
		live = true;
		r = 0;
	}
	if (r)
		return r;
	if (tag && (cat_ref_split(tag, n, v) || v[0]))
		return img_fail(-EINVAL, "bad snapshot tag '%s'", tag);
	if (!tag) {
		for (unsigned i = 1;; i++) {
			snprintf(auto_tag, sizeof(auto_tag), "snap-%u", i);
			if (cat_snap_get(c, name, auto_tag, &s) == -ENOENT)
				break;
		}
		tag = auto_tag;
	} else if (!cat_snap_get(c, name, tag, &s)) {
		return img_fail(-EEXIST, "VM '%s' already has a snapshot '%s'", name, tag);
	}
	img_fail(0, "%s", "");
	r = new_top(c, &vm, vm.top, tag, false, live);
	if (!r && tag_out)
		snprintf(tag_out, CAT_NAME_MAX + 1, "%s", tag);
	return r;
}

int vmrec_revert(struct cat *c, const char *name, const char *tag)
{
	struct cat_snapshot s;
	struct cat_vm vm;
	int r;

	r = vmrec_get_idle(c, name, &vm);
	if (r)
		return r;
	r = cat_snap_get(c, name, tag, &s);
	if (r)
		return img_fail(r, "VM '%s' has no snapshot '%s'", name, tag);
	img_fail(0, "%s", "");
	return new_top(c, &vm, s.layer, NULL, true, false);
}

int vmrec_reset(struct cat *c, const char *name)
{
	struct cat_vm vm;
	int r;

	r = vmrec_get_idle(c, name, &vm);
	if (r)
		return r;
	img_fail(0, "%s", "");
	return new_top(c, &vm, 0, NULL, true, false);
}
