/* appliance/api_images.c: GET /images, GET /images/{id}. The JSON of an
 * image is that of `vhdvisor image show --json`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "appliance/api_int.h"
#include "images/catalog.h"

static int add_name(void *opaque, const char *name, const char *version)
{
	char ref[2 * CAT_NAME_MAX + 2];

	snprintf(ref, sizeof(ref), "%s:%s", name, version);
	json_object_array_add(opaque, json_object_new_string(ref));
	return 0;
}

static int add_label(void *opaque, const char *label)
{
	json_object_array_add(opaque, json_object_new_string(label));
	return 0;
}

static json_object *image_json(struct cat *c, const struct cat_image *img)
{
	json_object *j = json_object_new_object();
	json_object *names = json_object_new_array(), *labels = json_object_new_array();

	json_object_object_add(j, "id", json_object_new_string(img->id));
	cat_name_foreach(c, img->id, add_name, names);
	json_object_object_add(j, "names", names);
	cat_label_foreach(c, img->id, add_label, labels);
	json_object_object_add(j, "labels", labels);
	json_object_object_add(j, "file", json_object_new_string(img->file));
	json_object_object_add(j, "file_sha256", json_object_new_string(img->file_sha256));
	json_object_object_add(j, "virtual_size", json_object_new_int64((int64_t)img->virtual_size));
	json_object_object_add(j, "file_size", json_object_new_int64((int64_t)img->file_size));
	json_object_object_add(j, "os", json_object_new_string(img->os));
	json_object_object_add(j, "arch", json_object_new_string(img->arch));
	json_object_object_add(j, "boot", json_object_new_string(img->boot));
	json_object_object_add(j, "min_mem", json_object_new_int64((int64_t)img->min_mem));
	json_object_object_add(j, "min_disk", json_object_new_int64((int64_t)img->min_disk));
	json_object_object_add(j, "source", json_object_new_string(img->source));
	json_object_object_add(j, "created", json_object_new_int64(img->created));
	json_object_object_add(j, "parent", img->parent[0] ?
			       json_object_new_string(img->parent) : NULL);
	json_object_object_add(j, "cloud_init", json_object_new_boolean(img->cloud_init));
	return j;
}

struct list_ctx {
	struct cat *c;
	json_object *arr;
};

static int list_one(void *opaque, const struct cat_image *img)
{
	struct list_ctx *l = opaque;

	json_object_array_add(l->arr, image_json(l->c, img));
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
		api_fail(rep, 409, "'%s' names more than one image", req->params[0]);
	else if (r)
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	else
		api_ok(rep, image_json(c, &img));
	cat_close(c);
}
