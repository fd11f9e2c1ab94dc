/* appliance/api_image_edit.c: POST /images/{id}/tag, DELETE /images/{id},
 * GET /images/{id}/chain: what `vhdvisor image tag`, `image rm` (without
 * --force) and the image's lineage show. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "appliance/api_int.h"
#include "appliance/event.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/rec_json.h"

bool api_image_ref(struct cat *c, const char *ref, char *id, struct api_reply *rep)
{
	int r = cat_image_resolve(c, ref, id);

	if (r == -ENOENT)
		api_fail(rep, 404, "no image '%s'", ref);
	else if (r == -EEXIST)
		api_fail(rep, 409, "'%s' names more than one image", ref);
	else if (r)
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	return !r;
}

void api_image_tag(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	char id[CAT_ID_LEN + 1], name[CAT_NAME_MAX + 1], ver[CAT_NAME_MAX + 1];
	char got[CAT_NAME_MAX + 1];
	const char *ref;
	json_object *j;
	struct cat *c;

	if (!api_body_string(req->body, "name", &ref, rep))
		return;
	if (!ref || cat_ref_split(ref, name, ver)) {
		api_fail(rep, 400, "name: want NAME[:VERSION] of [A-Za-z0-9._-]");
		return;
	}
	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_image_ref(c, req->params[0], id, rep))
		goto out;
	if (cat_name_set(c, name, ver, id, got)) {
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
		goto out;
	}
	j = json_object_new_object();
	json_object_object_add(j, "id", json_object_new_string(id));
	json_object_object_add(j, "name", json_object_new_string(name));
	json_object_object_add(j, "version", json_object_new_string(got));
	api_ok(rep, j);
out:
	cat_close(c);
}

void api_image_rm(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	char id[CAT_ID_LEN + 1];
	struct cat *c;
	json_object *j;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_image_ref(c, req->params[0], id, rep))
		goto out;
	img_error_clear();
	r = img_remove(c, id);
	if (r == -EBUSY) {
		api_fail(rep, 409, "%s", img_last_error());
	} else if (r) {
		api_fail(rep, 500, "%s", img_last_error());
	} else {
		j = json_object_new_object();
		json_object_object_add(j, "id", json_object_new_string(id));
		json_object_object_add(j, "removed", json_object_new_boolean(1));
		api_event_emit("image.removed", json_object_get(j));
		api_ok(rep, j);
	}
out:
	cat_close(c);
}

struct chain_ctx {
	const char *id;
	json_object *arr;
};

static int add_child(void *opaque, const struct cat_image *img)
{
	struct chain_ctx *k = opaque;

	if (!strcmp(img->parent, k->id))
		json_object_array_add(k->arr, json_object_new_string(img->id));
	return 0;
}

static int add_vm(void *opaque, const struct cat_vm *vm)
{
	json_object_array_add(opaque, json_object_new_string(vm->name));
	return 0;
}

#define CHAIN_MAX 64    /* parents followed; a loop in the records stops there */

void api_image_chain(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep)
{
	char id[CAT_ID_LEN + 1];
	struct chain_ctx k = { .id = id };
	struct cat_image img;
	json_object *j, *chain, *vms;
	struct cat *c;
	int r = 0, n = 0;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_image_ref(c, req->params[0], id, rep))
		goto out;
	chain = json_object_new_array();
	/* the image, then each image it was derived from while the catalog
	 * still has it */
	for (const char *cur = id; cur[0] && n < CHAIN_MAX; cur = img.parent, n++) {
		r = cat_image_get(c, cur, &img);
		if (r)
			break;
		json_object_array_add(chain, img_image_json(c, &img));
	}
	if (r && r != -ENOENT) {
		json_object_put(chain);
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
		goto out;
	}
	k.arr = json_object_new_array();
	vms = json_object_new_array();
	if (cat_image_foreach(c, add_child, &k) || cat_vm_foreach(c, id, NULL, add_vm, vms)) {
		json_object_put(chain);
		json_object_put(k.arr);
		json_object_put(vms);
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
		goto out;
	}
	j = json_object_new_object();
	json_object_object_add(j, "id", json_object_new_string(id));
	json_object_object_add(j, "chain", chain);
	json_object_object_add(j, "children", k.arr);
	json_object_object_add(j, "vms", vms);
	api_ok(rep, j);
out:
	cat_close(c);
}
