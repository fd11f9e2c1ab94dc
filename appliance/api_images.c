/* appliance/api_images.c: GET /images, GET /images/{id}. The JSON of an
 * image is that of `vhdvisor image show --json` (images/rec_json.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "appliance/api_int.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/rec_json.h"

struct list_ctx {
	struct cat *c;
	json_object *arr;
};

static int list_one(void *opaque, const struct cat_image *img)
{
	struct list_ctx *l = opaque;

	json_object_array_add(l->arr, img_image_json(l->c, img));
	return 0;
}

void api_images_list(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep)
{
	struct list_ctx l = { .arr = json_object_new_array() };
	int r;

	if (api_cat_open(ctx, rep, &l.c)) {
		json_object_put(l.arr);
		return;
	}
	r = cat_image_foreach(l.c, list_one, &l);
	if (r) {
		api_fail(rep, 500, "catalog: %s", cat_errmsg(l.c));
		json_object_put(l.arr);
	} else {
		api_ok(rep, l.arr);
	}
	cat_close(l.c);
}

static int add_vm_name(void *opaque, const struct cat_vm *vm)
{
	json_object_array_add(opaque, json_object_new_string(vm->name));
	return 0;
}

void api_image_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	char id[CAT_ID_LEN + 1];
	struct cat_image img;
	struct cat *c;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	r = cat_image_resolve(c, req->params[0], id);
	if (!r)
		r = cat_image_get(c, id, &img);
	if (r == -ENOENT)
		api_fail(rep, 404, "no image '%s'", req->params[0]);
	else if (r == -EEXIST)
		api_fail(rep, 409, "'%s' matches several images; give more of the id",
			 req->params[0]);
	else if (r)
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	if (!r) {
		/* as `vhdvisor image show`: the VMs made from it */
		json_object *j = img_image_json(c, &img), *vms = json_object_new_array();

		cat_vm_foreach(c, id, NULL, add_vm_name, vms);
		json_object_object_add(j, "vms", vms);
		api_ok(rep, j);
	}
	cat_close(c);
}
