/* appliance/api_vm_snap.c: a VM's snapshots (GET/POST
 * /vms/{name}/snapshots, POST .../snapshots/{tag}/revert, DELETE
 * .../snapshots/{tag}), disks and NICs (GET .../disks, .../nics), through
 * the calls of `vhdvisor vm snapshot/snapshots/revert/snapshot-rm/disk
 * list` (images/vmrec.h, images/rec_json.h). */
#include <errno.h>
#include <string.h>

#include "appliance/api_int.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/rec_json.h"
#include "images/vmrec.h"

static json_object *vm_tag(const char *name, const char *tag)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "name", json_object_new_string(name));
	json_object_object_add(j, "tag", json_object_new_string(tag));
	return j;
}

void api_vm_snaps_list(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep)
{
	json_object *j, *snaps;
	struct cat_vm vm;
	struct cat *c;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_vm_find(c, req->params[0], &vm, rep)) {
		/* the VM's own JSON holds the list: one form for every door */
		j = vmrec_vm_json(c, &vm, true);
		json_object_object_get_ex(j, "snapshots", &snaps);
		api_ok(rep, json_object_get(snaps));
		json_object_put(j);
	}
	cat_close(c);
}

void api_vm_snap_take(const struct api_ctx *ctx, const struct api_req *req,
		      struct api_reply *rep)
{
	char tag[CAT_NAME_MAX + 1];
	const char *want = NULL;
	struct cat_vm vm;
	struct cat *c;
	int r;

	if (req->body && json_object_object_get_ex(req->body, "tag", NULL) &&
	    !(want = api_body_name(req->body, "tag", rep)))
		return;
	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_vm_find(c, req->params[0], &vm, rep)) {
		r = vmrec_snapshot(c, vm.name, want, tag);
		if (r)
			api_fail_errno(rep, r, img_last_error());
		else
			api_ok(rep, vm_tag(vm.name, tag));
	}
	cat_close(c);
}

/* Fails with 404 unless VM params[0] has snapshot params[1]. */
static int snap_find(struct cat *c, const struct api_req *req, struct api_reply *rep)
{
	struct cat_snapshot s;
	struct cat_vm vm;
	int r = api_vm_find(c, req->params[0], &vm, rep);

	if (r)
		return r;
	r = cat_snap_get(c, req->params[0], req->params[1], &s);
	if (r == -ENOENT)
		api_fail(rep, 404, "VM '%s' has no snapshot '%s'", req->params[0], req->params[1]);
	else if (r)
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	return r;
}

void api_vm_snap_revert(const struct api_ctx *ctx, const struct api_req *req,
			struct api_reply *rep)
{
	struct cat *c;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!snap_find(c, req, rep)) {
		r = vmrec_revert(c, req->params[0], req->params[1]);
		if (r)
			api_fail_errno(rep, r, img_last_error());
		else
			api_ok(rep, vm_tag(req->params[0], req->params[1]));
	}
	cat_close(c);
}

void api_vm_snap_delete(const struct api_ctx *ctx, const struct api_req *req,
			struct api_reply *rep)
{
	struct cat *c;
	json_object *j;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!snap_find(c, req, rep)) {
		r = vmrec_snapshot_rm(c, req->params[0], req->params[1], NULL, NULL);
		if (r) {
			api_fail_errno(rep, r, img_last_error());
		} else {
			j = vm_tag(req->params[0], req->params[1]);
			json_object_object_add(j, "deleted", json_object_new_boolean(1));
			/* a finished or discarded earlier merge, as the CLI warns */
			if (img_last_error()[0])
				json_object_object_add(j, "note",
						       json_object_new_string(img_last_error()));
			api_ok(rep, j);
		}
	}
	cat_close(c);
}

void api_vm_disks(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct cat_vm vm;
	json_object *arr;
	struct cat *c;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_vm_find(c, req->params[0], &vm, rep)) {
		r = vmrec_disks_json(c, vm.name, &arr);
		if (r)
			api_fail(rep, 500, "%s", img_last_error());
		else
			api_ok(rep, arr);
	}
	cat_close(c);
}

void api_vm_nics(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct cat_vm vm;
	struct cat *c;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_vm_find(c, req->params[0], &vm, rep))
		api_ok(rep, vmrec_nics_json(&vm));
	cat_close(c);
}
